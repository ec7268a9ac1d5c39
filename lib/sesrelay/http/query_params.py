"""Query strings of the GET routes -> SES parameters, with errors named by the query parameter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sesrelay.errors import FieldError, InvalidInput

#: Every integer SES takes fits in 64 bits (20 digits); longer ones are refused before int(),
#: which raises for numbers of over 4,300 digits.
MAX_INT_DIGITS = 20
#: query name -> (SES name, is an integer)
BATCH_TASKS = {
    "offset": ("Offset", True),
    "limit": ("Limit", True),
    "status": ("Status", True),
    "receiver_id": ("ReceiverId", True),
    "task_type": ("TaskType", True),
}
EMAIL_STATUS = {
    "date": ("RequestDate", False),
    "message_id": ("MessageId", False),
    "to": ("ToEmailAddress", False),
    "offset": ("Offset", True),
    "limit": ("Limit", True),
}


def _convert(
    query: Mapping[str, str],
    names: dict[str, tuple[str, bool]],
    validator: Callable[[object], Any],
) -> dict[str, Any]:
    errors: list[FieldError] = []
    params: dict[str, Any] = {}
    for name, value in query.items():
        if name not in names:
            allowed = ", ".join(names)
            errors.append(FieldError(name, f"unknown query parameter; allowed: {allowed}"))
            continue
        ses_name, is_int = names[name]
        if is_int:
            text = value.strip()
            digits = text.removeprefix("-")
            if not (digits.isascii() and digits.isdigit()):  # one sign at most: int() takes no more
                errors.append(FieldError(name, "must be an integer"))
                continue
            if len(digits) > MAX_INT_DIGITS:
                errors.append(FieldError(name, f"must have at most {MAX_INT_DIGITS} digits"))
                continue
            params[ses_name] = int(text)
        else:
            params[ses_name] = value
    if errors:
        raise InvalidInput(errors)
    try:
        model = validator(params)
    except InvalidInput as exc:
        back = {ses: q for q, (ses, _) in names.items()}
        raise InvalidInput(
            [FieldError(back.get(e.field, e.field), e.message) for e in exc.errors]
        ) from None
    result: dict[str, Any] = model.to_ses()
    return result


# The query models are imported on first use: a function that only sends never builds them.


def batch_task_query(query: Mapping[str, str]) -> dict[str, Any]:
    from sesrelay.ses.query_models import validate_list_send_tasks

    return _convert(query, BATCH_TASKS, validate_list_send_tasks)


def email_status_query(query: Mapping[str, str]) -> dict[str, Any]:
    from sesrelay.ses.query_models import validate_get_send_email_status

    return _convert(query, EMAIL_STATUS, validate_get_send_email_status)
