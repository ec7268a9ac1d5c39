"""SES BatchSendEmail tasks (immediate, scheduled, recurring) and ListSendTasks.

Tasks run when the business clock passes their time: checked on every request and clock move.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.ses import params as p
from sesrelay.emulator.ses.render import Scalar, decode_text, parse_template_data, render
from sesrelay.emulator.ses.rules import (
    SUBJECT_LENGTH_ERROR,
    TEMPLATE_NOT_MATCH_DATA,
    check_subject,
    check_unsubscribe,
    is_verified_sender,
    require_variables,
    sender_address,
    template_data,
    template_variables,
)
from sesrelay.emulator.ses.store import (
    TEMPLATE_APPROVED,
    Mail,
    SesState,
    Task,
    local_text,
    page,
    parse_local,
)

TASK_PENDING, TASK_SENDING, TASK_ERROR, TASK_DONE = 1, 5, 7, 10
#: bound on catch-up runs per clock move, so a tiny interval and a huge jump cannot hang the server
MAX_RUNS_PER_TICK = 10_000


def _begin(text: str, now: datetime) -> datetime:
    begin = parse_local(text)
    if begin is None:
        raise ApiError("InvalidParameterValue", "BeginTime must be `YYYY-MM-DD hh:mm:ss` (UTC+8).")
    if begin < now.replace(microsecond=0):
        raise ApiError("InvalidParameterValue.BeginTimeBeforeNow", "BeginTime is in the past.")
    return begin


def _schedule(req: p.BatchSendEmail, now: datetime) -> tuple[datetime, timedelta | None]:
    """(first run, recurrence interval) of a new task."""
    if req.TaskType == 1:
        return now, None
    if req.TaskType == 2:
        if req.TimedParam is None:
            raise ApiError("MissingParameter.TimedParamNecessary", "TaskType 2 needs TimedParam.")
        return _begin(req.TimedParam.BeginTime, now), None
    if req.CycleParam is None:
        raise ApiError("MissingParameter.CycleParamNecessary", "TaskType 3 needs CycleParam.")
    if req.CycleParam.IntervalTime < 1:
        raise ApiError("InvalidParameterValue", "CycleParam.IntervalTime is in hours, at least 1.")
    if req.CycleParam.TermCycle not in (None, 0, 1):
        raise ApiError("InvalidParameterValue", "CycleParam.TermCycle must be 0 or 1.")
    begin = _begin(req.CycleParam.BeginTime, now)
    # Kept simple: TermCycle=1 ("end the cycle") on creation means the task runs only once.
    if req.CycleParam.TermCycle == 1:
        return begin, None
    try:
        return begin, timedelta(hours=req.CycleParam.IntervalTime)
    except OverflowError:  # beyond what a calendar holds: the task simply never repeats
        return begin, None


def _check_content(state: SesState, req: p.BatchSendEmail, data_keys: frozenset[str]) -> None:
    if req.Simple is not None and not state.seed.allow_simple:
        # WithOutPermission is documented for SendEmail only: the common code here.
        raise ApiError("FailedOperation", "This account may only send templates (Simple is off).")
    if req.Template is None:
        if req.Simple is None:
            raise ApiError("MissingParameter.SendParamNecessary", "Template is required.")
        return
    template = state.templates.get(req.Template.TemplateID)
    if template is None or template.status != TEMPLATE_APPROVED:
        raise ApiError(
            "OperationDenied.TemplateStatusError", "The template is missing or not approved."
        )
    base: dict[str, Scalar] = {}
    if req.Template.TemplateData:
        base = template_data(req.Template.TemplateData, "InvalidParameterValue.TemplateDataError")
    needed = template_variables(template, req.Subject)
    require_variables(needed, set(base) | data_keys, TEMPLATE_NOT_MATCH_DATA)


def batch_send_email(state: SesState, req: p.BatchSendEmail) -> dict[str, Any]:
    if req.TaskType not in (1, 2, 3):
        raise ApiError("InvalidParameterValue", "TaskType must be 1, 2 or 3.")
    # IncorrectSender is documented for SendEmail only: the common code here.
    address = sender_address(req.FromEmailAddress, "InvalidParameterValue")
    if not is_verified_sender(state, address):
        raise ApiError(
            "OperationDenied.SendAddressStatusError",
            "The sender address is missing or not verified.",
        )
    check_subject(req.Subject, SUBJECT_LENGTH_ERROR)
    if req.Attachments:
        raise ApiError("UnsupportedOperation", "BatchSendEmail does not support attachments yet.")
    now = state.now()
    first_run, interval = _schedule(req, now)
    if req.ReceiverId <= 0:
        raise ApiError("MissingParameter.SendParamNecessary", "ReceiverId is required.")
    group = state.groups.get(req.ReceiverId)
    if group is None:
        raise ApiError("OperationDenied.ReceiverNotExist", "The recipient list does not exist.")
    if group.status != 3 or not any(r.valid for r in group.rows):
        raise ApiError(
            "OperationDenied.ReceiverStatusError",
            "The list is empty or its upload is not complete.",
        )
    _check_content(state, req, group.data_keys() or frozenset())
    check_unsubscribe(req.Unsubscribe)
    if req.ADLocation not in (None, 0, 1, 2):
        raise ApiError("InvalidParameterValue", "ADLocation must be 0, 1 or 2.")

    task = Task(
        id=state.next_task_id,
        from_address=req.FromEmailAddress,
        receiver_id=group.id,
        receivers_name=group.name,
        subject=req.Subject,
        task_type=req.TaskType,
        template_id=req.Template.TemplateID if req.Template else None,
        template_data=req.Template.TemplateData if req.Template else None,
        simple=req.Simple.model_dump() if req.Simple else None,
        reply_to=req.ReplyToAddresses,
        unsubscribe=req.Unsubscribe,
        ad_location=req.ADLocation,
        timed_param=req.TimedParam.model_dump() if req.TimedParam else None,
        cycle_param=req.CycleParam.model_dump() if req.CycleParam else None,
        created_at=now,
        updated_at=now,
        next_run=first_run,
        interval=interval,
    )
    state.next_task_id += 1
    state.tasks[task.id] = task
    run_due_tasks(state, now)
    return {"TaskId": task.id}


def _content(
    state: SesState, task: Task, at: datetime
) -> tuple[str, str, dict[str, Scalar]] | None:
    """(html, text, base data) of a task run at `at`; Simple content is stored base64 as sent.
    None when the template was not approved at `at` (updated since, so under review again)."""
    if task.template_id is None:
        simple = task.simple or {}
        return (
            decode_text(simple.get("Html") or "") or "",
            decode_text(simple.get("Text") or "") or "",
            {},
        )
    template = state.templates.get(task.template_id)
    if template is None or not template.approved_at(at):
        return None
    base = parse_template_data(task.template_data or "{}") or {}
    return template.html, template.text, base


def _run(state: SesState, task: Task, at: datetime) -> None:
    """Mail every valid row of the list as it is now, each rendered with the request's
    TemplateData overlaid by the row's own data; a recurring task is then re-armed."""
    group = state.groups.get(task.receiver_id)
    task.updated_at = at
    if group is None:
        task.status, task.next_run = TASK_ERROR, None
        task.err_msg = "the recipient list was deleted before the task ran"
        return
    content = _content(state, task, at)
    if content is None:
        task.status, task.next_run = TASK_ERROR, None
        task.err_msg = "the template was not approved when the task ran"
        return
    html, text, base = content
    rows = [r for r in group.rows if r.valid]
    task.request_count += len(rows)
    for row in rows:
        if state.blacklisted(row.email):
            continue  # SES drops these inside the task (SendStatus 1007), it does not fail it
        data = {**base, **(row.data or {})}
        state.record(
            Mail(
                message_id=state.message_id(at),
                task_id=task.id,
                action="BatchSendEmail",
                from_address=task.from_address,
                to=row.email,
                cc=[],
                bcc=[],
                reply_to=task.reply_to,
                subject=render(task.subject, data),
                html=render(html, data),
                text=render(text, data),
                template_id=task.template_id,
                template_data=data,
                attachments=[],
                unsubscribe=task.unsubscribe,
                sent_at=at,
            )
        )
        task.send_count += 1
    following = None
    if task.interval is not None and task.next_run is not None:
        try:
            following = task.next_run + task.interval
        except OverflowError:  # past year 9999: there is no next run
            following = None
    if following is not None:
        task.status, task.next_run = TASK_SENDING, following
    else:
        task.status, task.next_run = TASK_DONE, None


def run_due_tasks(state: SesState, now: datetime) -> None:
    """Run every task whose time has come, oldest first; each run is stamped with its own time."""
    for _ in range(MAX_RUNS_PER_TICK):
        due = [t for t in state.tasks.values() if t.next_run is not None and t.next_run <= now]
        if not due:
            return
        task = min(due, key=lambda t: (t.next_run or now, t.id))
        _run(state, task, task.next_run or now)


def _task_view(task: Task) -> dict[str, Any]:
    template = None
    if task.template_id is not None:
        template = {"TemplateID": task.template_id, "TemplateData": task.template_data or ""}
    return {
        "TaskId": task.id,
        "FromEmailAddress": task.from_address,
        "ReceiverId": task.receiver_id,
        "TaskStatus": task.status,
        "TaskType": task.task_type,
        "RequestCount": task.request_count,
        "SendCount": task.send_count,
        "CacheCount": 0,
        "CreateTime": local_text(task.created_at),
        "UpdateTime": local_text(task.updated_at),
        "Subject": task.subject,
        "Template": template,
        "CycleParam": task.cycle_param,
        "TimedParam": task.timed_param,
        "ErrMsg": task.err_msg,
        "ReceiversName": task.receivers_name,
    }


def list_send_tasks(state: SesState, req: p.ListSendTasks) -> dict[str, Any]:
    tasks = [
        t
        for t in sorted(state.tasks.values(), key=lambda t: t.id, reverse=True)
        if (req.Status is None or t.status == req.Status)
        and (req.ReceiverId is None or t.receiver_id == req.ReceiverId)
        and (req.TaskType is None or t.task_type == req.TaskType)
    ]
    return {
        "TotalCount": len(tasks),
        "Data": [_task_view(t) for t in page(tasks, req.Offset, req.Limit)],
    }
