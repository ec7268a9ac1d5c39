"""SES recipient-list actions: create, upload (with or without per-recipient data), list, delete.

Uploads are asynchronous in SES: a list is "uploading" (status 2) for `upload_seconds` of business
time, then complete (3). Addresses are not de-duplicated: a repeated address gets repeated mail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.ses import params as p
from sesrelay.emulator.ses.addresses import MAX_ADDRESS_LENGTH, is_address, normalize
from sesrelay.emulator.ses.render import has_html, parse_template_data
from sesrelay.emulator.ses.store import (
    Group,
    Row,
    SesState,
    local_date,
    local_text,
    page,
    parse_day,
)

MAX_ROWS_PER_CALL = 20_000  # LimitExceeded.ReceiverDetailRequestLimit
MAX_ROWS_PER_GROUP = 50_000  # LimitExceeded.ReceiverDetailCountLimit
MAX_DATA_BYTES = 800  # per-recipient TemplateData, whole JSON (CreateReceiverDetailWithData doc)
MAX_DESC = 300
# SES documents only "checks characters and size" for names; the emulator's own rule is
# 1-200 printable characters without markup or quote characters.
MAX_NAME = 200
_ILLEGAL_TEXT = re.compile(r"[<>\"'\\&\x00-\x1f\x7f]")


def create_receiver(state: SesState, req: p.CreateReceiver) -> dict[str, Any]:
    name = req.ReceiversName.strip()
    if not name or len(name) > MAX_NAME or _ILLEGAL_TEXT.search(name):
        raise ApiError("InvalidParameterValue.ReceiverNameIllegal", "ReceiversName is illegal.")
    if req.Desc and (len(req.Desc) > MAX_DESC or _ILLEGAL_TEXT.search(req.Desc)):
        raise ApiError(
            "InvalidParameterValue.ReceiverDescIllegal",
            f"Desc must be 1-{MAX_DESC} characters without special characters.",
        )
    if any(g.name == name for g in state.groups.values()):
        raise ApiError("InvalidParameterValue.RepeatReceiverName", "The list name already exists.")
    if len(state.groups) >= state.seed.max_receivers:
        raise ApiError(
            "LimitExceeded.ExceedReceiverLimit",
            f"The account already has {state.seed.max_receivers} recipient lists.",
        )
    group = Group(state.next_receiver_id, name, req.Desc or "", state.now())
    state.groups[group.id] = group
    state.next_receiver_id += 1
    return {"ReceiverId": group.id}


#: Tencent documents ReceiverIdNecessary for CreateReceiverDetail and DeleteReceiver only.
RECEIVER_ID_NECESSARY = "MissingParameter.ReceiverIdNecessary"


def _group(state: SesState, receiver_id: int, missing_code: str) -> Group:
    if receiver_id <= 0:
        raise ApiError(missing_code, "ReceiverId is required.")
    group = state.groups.get(receiver_id)
    if group is None:
        raise ApiError("OperationDenied.ReceiverNotExist", "The recipient list does not exist.")
    return group


def _upload_target(state: SesState, receiver_id: int, count: int, missing_code: str) -> Group:
    group = _group(state, receiver_id, missing_code)
    if group.status == 2:
        raise ApiError(
            "OperationDenied.ReceiverIsOperating", "The list is still uploading; retry later."
        )
    if count > MAX_ROWS_PER_CALL:
        raise ApiError(
            "LimitExceeded.ReceiverDetailRequestLimit",
            f"At most {MAX_ROWS_PER_CALL} addresses per call.",
        )
    if len(group.rows) + count > MAX_ROWS_PER_GROUP:
        raise ApiError(
            "LimitExceeded.ReceiverDetailCountLimit",
            f"A list holds at most {MAX_ROWS_PER_GROUP} addresses.",
        )
    return group


def _start_upload(state: SesState, group: Group, rows: list[Row]) -> None:
    group.rows.extend(rows)
    group.status = 2
    group.upload_done_at = state.now() + timedelta(seconds=state.upload_seconds)
    complete_uploads(state, state.now())


def _repeats(group: Group, emails: Iterable[str]) -> int:
    seen = {normalize(r.email) for r in group.rows}
    repeats = 0
    for email in emails:
        key = normalize(email)
        repeats += key in seen
        seen.add(key)
    return repeats


def create_receiver_detail(state: SesState, req: p.CreateReceiverDetail) -> dict[str, Any]:
    if not req.Emails:
        raise ApiError("MissingParameter.EmailsNecessary", "Emails must not be empty.")
    group = _upload_target(state, req.ReceiverId, len(req.Emails), RECEIVER_ID_NECESSARY)
    if group.data_keys():
        raise ApiError(
            "InvalidParameterValue.TemplateDataInconsistent",
            "This list was loaded with per-recipient TemplateData; upload rows with the same keys.",
        )
    now = state.now()
    emails = [e.strip() for e in req.Emails]
    empty = sum(1 for e in emails if not e)
    too_long = sum(1 for e in emails if len(e) > MAX_ADDRESS_LENGTH)
    kept = [e for e in emails if e and len(e) <= MAX_ADDRESS_LENGTH]
    rows = []
    for email in kept:
        row = state.new_row(email, None, "", now)
        if not is_address(email):
            row.valid, row.reason = False, "invalid email address format"
        rows.append(row)
    repeats = _repeats(group, kept)
    _start_upload(state, group, rows)
    return {
        "TotalCount": len(req.Emails),
        "ValidCount": sum(1 for r in rows if r.valid),
        "TooLongCount": too_long,
        "EmptyEmailCount": empty,
        "RepeatCount": repeats,
    }


def create_receiver_detail_with_data(
    state: SesState, req: p.CreateReceiverDetailWithData
) -> dict[str, Any]:
    if not req.Datas:
        raise ApiError("MissingParameter.EmailsNecessary", "Datas must not be empty.")
    group = _upload_target(state, req.ReceiverId, len(req.Datas), "MissingParameter")
    keys = group.data_keys()
    now = state.now()
    rows = []
    for n, item in enumerate(req.Datas):
        email = item.Email.strip()
        if not is_address(email):
            raise ApiError(
                "InvalidParameterValue.ReceiverEmailInvalid", f"Datas.{n}.Email is not valid."
            )
        if len(item.TemplateData.encode("utf-8")) > MAX_DATA_BYTES:
            raise ApiError(
                "InvalidParameterValue.TemplateDataLenLimit",
                f"Datas.{n}.TemplateData is over {MAX_DATA_BYTES} bytes.",
            )
        data = parse_template_data(item.TemplateData)
        if data is None:
            raise ApiError(
                "InvalidParameterValue.TemplateDataError",
                f"Datas.{n}.TemplateData must be a JSON object of plain values.",
            )
        if has_html(data):
            raise ApiError(
                "InvalidParameterValue.InValidTemplateData",
                f"Datas.{n}.TemplateData must not contain HTML tags.",
            )
        if keys is None:
            keys = frozenset(data)
        elif frozenset(data) != keys:
            raise ApiError(
                "InvalidParameterValue.TemplateDataInconsistent",
                f"Datas.{n}.TemplateData has different variables from earlier rows.",
            )
        rows.append(state.new_row(email, data, item.TemplateData, now))
    repeats = _repeats(group, (r.email for r in rows))
    _start_upload(state, group, rows)
    return {
        "TotalCount": len(rows),
        "ValidCount": len(rows),
        "TooLongCount": 0,
        "EmptyEmailCount": 0,
        "RepeatCount": repeats,
    }


def complete_uploads(state: SesState, now: datetime) -> None:
    for group in state.groups.values():
        if group.status == 2 and group.upload_done_at is not None and group.upload_done_at <= now:
            group.status = 3 if group.rows else 1
            group.upload_done_at = None


def list_receivers(state: SesState, req: p.ListReceivers) -> dict[str, Any]:
    keyword = (req.KeyWord or "").lower()
    groups = [
        g
        for g in sorted(state.groups.values(), key=lambda g: g.id, reverse=True)
        if (req.Status is None or g.status == req.Status) and keyword in g.name.lower()
    ]
    return {
        "TotalCount": len(groups),
        "Data": [
            {
                "ReceiverId": g.id,
                "ReceiversName": g.name,
                "Count": len(g.rows),
                "Desc": g.desc,
                "ReceiversStatus": g.status,
                "CreateTime": local_text(g.created_at),
                "InvalidCount": sum(1 for r in g.rows if not r.valid),
            }
            for g in page(groups, req.Offset, req.Limit)
        ],
    }


def _day_bound(text: str | None, field: str) -> date | None:
    if not text:
        return None
    day = parse_day(text)
    if day is None:
        raise ApiError("InvalidParameterValue", f"{field} must be a date written YYYY-MM-DD.")
    return day


def list_receiver_details(state: SesState, req: p.ListReceiverDetails) -> dict[str, Any]:
    group = _group(state, req.ReceiverId, "MissingParameter")
    # InvalidStartTimeFormat/InvalidEndTimeFormat are documented for GetAbuseReport only.
    begin = _day_bound(req.CreateTimeBegin, "CreateTimeBegin")
    end = _day_bound(req.CreateTimeEnd, "CreateTimeEnd")
    needle = (req.Email or "").lower()
    rows = [
        r
        for r in group.rows
        if needle in r.email.lower()
        and (req.Status is None or (1 if r.valid else 2) == req.Status)
        and (begin is None or begin <= local_date(r.created_at))
        and (end is None or local_date(r.created_at) <= end)
    ]
    return {
        "TotalCount": len(rows),
        "ValidCount": sum(1 for r in group.rows if r.valid),
        "InvalidCount": sum(1 for r in group.rows if not r.valid),
        "Data": [
            {
                "Email": r.email,
                "CreateTime": local_text(r.created_at),
                "TemplateData": r.raw_data or (json.dumps(r.data) if r.data else ""),
                "Reason": r.reason,
                "Status": 1 if r.valid else 2,
                "EmailId": r.email_id,
            }
            for r in page(rows, req.Offset, req.Limit)
        ],
    }


def delete_receiver(state: SesState, req: p.DeleteReceiver) -> dict[str, Any]:
    group = _group(state, req.ReceiverId, RECEIVER_ID_NECESSARY)
    del state.groups[group.id]
    return {}
