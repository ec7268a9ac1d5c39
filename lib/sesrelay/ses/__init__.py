"""SES parameter fields, data types and models: every documented SES rule, checked before a call."""
