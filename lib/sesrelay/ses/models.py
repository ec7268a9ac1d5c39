"""Every SES action model in one import: SendEmail, BatchSendEmail and the query actions.

For code that needs them all (the OpenAPI document, the config checker). A code path that
serves one action imports that action's module instead, and builds fewer models on a cold start.
"""

from __future__ import annotations

from sesrelay.ses.batch_send_email import BatchSendEmailParams, validate_batch_send_email
from sesrelay.ses.data_types import Attachment, CycleEmailParam, Simple, Template, TimedEmailParam
from sesrelay.ses.query_models import (
    GetSendEmailStatusParams,
    ListSendTasksParams,
    validate_get_send_email_status,
    validate_list_send_tasks,
)
from sesrelay.ses.send_email import SendEmailParams, SubjectText, validate_send_email

__all__ = [
    "Attachment",
    "BatchSendEmailParams",
    "CycleEmailParam",
    "GetSendEmailStatusParams",
    "ListSendTasksParams",
    "SendEmailParams",
    "Simple",
    "SubjectText",
    "Template",
    "TimedEmailParam",
    "validate_batch_send_email",
    "validate_get_send_email_status",
    "validate_list_send_tasks",
    "validate_send_email",
]
