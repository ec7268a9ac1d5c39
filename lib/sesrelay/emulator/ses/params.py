"""Request parameters of the emulated SES actions, named field for field as in the SDK.

Only shapes and types live here (a missing or mistyped field is a protocol error); the SES rules
with their own error codes (lengths, limits, states) are checked by the action handlers.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sesrelay.emulator.protocol import Params

NonNegative = Annotated[int, Field(ge=0)]


class TemplateParam(Params):
    TemplateID: int
    # Required by the API spec, so leaving it out is MissingParameter; an empty string gets past
    # the shape check and is SendEmail's MissingEmailContent.
    TemplateData: str


class SimpleParam(Params):
    Html: str | None = None
    Text: str | None = None


class AttachmentParam(Params):
    FileName: str
    Content: str | None = None
    FileURL: str | None = None


class CycleEmailParam(Params):
    BeginTime: str
    IntervalTime: int
    TermCycle: int | None = None


class TimedEmailParam(Params):
    BeginTime: str


class SendEmail(Params):
    FromEmailAddress: str
    Subject: str
    Destination: list[str] | None = None
    ReplyToAddresses: str | None = None
    Cc: list[str] | None = None
    Bcc: list[str] | None = None
    Template: TemplateParam | None = None
    Simple: SimpleParam | None = None
    Attachments: list[AttachmentParam] | None = None
    Unsubscribe: str | None = None
    TriggerType: int | None = None
    SmtpMessageId: str | None = None
    SmtpHeaders: str | None = None
    HeaderFrom: str | None = None


class BatchSendEmail(Params):
    FromEmailAddress: str
    ReceiverId: int
    Subject: str
    TaskType: int
    ReplyToAddresses: str | None = None
    Template: TemplateParam | None = None
    Simple: SimpleParam | None = None
    Attachments: list[AttachmentParam] | None = None
    CycleParam: CycleEmailParam | None = None
    TimedParam: TimedEmailParam | None = None
    Unsubscribe: str | None = None
    ADLocation: int | None = None


class CreateReceiver(Params):
    ReceiversName: str
    Desc: str | None = None


class CreateReceiverDetail(Params):
    ReceiverId: int
    Emails: list[str]


class ReceiverInputData(Params):
    Email: str
    TemplateData: str


class CreateReceiverDetailWithData(Params):
    ReceiverId: int
    Datas: list[ReceiverInputData]


class ListReceivers(Params):
    Offset: NonNegative
    Limit: NonNegative
    Status: int | None = None
    KeyWord: str | None = None


class ListReceiverDetails(Params):
    ReceiverId: int
    Offset: NonNegative
    Limit: NonNegative
    Email: str | None = None
    CreateTimeBegin: str | None = None
    CreateTimeEnd: str | None = None
    Status: int | None = None


class DeleteReceiver(Params):
    ReceiverId: int


class GetSendEmailStatus(Params):
    RequestDate: str
    Offset: NonNegative
    Limit: NonNegative
    MessageId: str | None = None
    ToEmailAddress: str | None = None


class ListSendTasks(Params):
    Offset: NonNegative
    Limit: NonNegative
    Status: int | None = None
    ReceiverId: int | None = None
    TaskType: int | None = None


class ListEmailTemplates(Params):
    Limit: NonNegative
    Offset: NonNegative


class GetEmailTemplate(Params):
    TemplateID: int


class TemplateContent(Params):
    Html: str | None = None
    Text: str | None = None


class CreateEmailTemplate(Params):
    TemplateName: str
    TemplateContent: TemplateContent


class UpdateEmailTemplate(Params):
    TemplateContent: TemplateContent
    TemplateID: int
    TemplateName: str


class DeleteEmailTemplate(Params):
    TemplateID: int


class ListEmailAddress(Params):
    pass


class CreateCustomBlacklist(Params):
    Emails: list[str]
    ExpireDate: str | None = None


class ListCustomBlacklist(Params):
    Offset: NonNegative
    Limit: NonNegative
    Status: int
    Email: str | None = None


class DeleteCustomBlackList(Params):
    Emails: list[str]


class UpdateCustomBlackList(Params):
    Id: int
    Email: str
    ExpireDate: str | None = None
