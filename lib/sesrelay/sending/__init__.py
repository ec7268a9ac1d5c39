"""The send pipeline every entry point calls, and the at-most-once wrappers around it."""
