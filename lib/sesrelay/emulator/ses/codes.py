"""Which error codes each emulated SES action may answer: Tencent's list for that action plus the
API 3.0 common codes; one table for `guard` (which every SES handler's errors pass), for
docs/emulator-error-codes.md (`codes_doc` renders it) and for the tests. Per-action lists: the
"possible error codes" of each action in tencentcloud-sdk-go's
`tencentcloud/ses/v20201002/client.go`, as on the action's API page. Common codes:
https://cloud.tencent.com/document/product/1388/114322."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sesrelay.emulator.protocol import ApiError

#: SES refuses request bodies over 8 MB. Tencent does not say whether MB means 10^6 or 2^20
#: bytes; the emulator reads it as 2^20, as API 3.0's own 10 MB cap is read.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: API 3.0 common error codes: any action of any product may answer these.
COMMON = _codes(
    """
    ActionOffline AuthFailure.InvalidAuthorization AuthFailure.InvalidSecretId
    AuthFailure.MFAFailure AuthFailure.SecretIdNotFound AuthFailure.SignatureExpire
    AuthFailure.SignatureFailure AuthFailure.TokenFailure AuthFailure.UnauthorizedOperation
    DryRunOperation FailedOperation InternalError InvalidAction InvalidParameter
    InvalidParameterValue InvalidRequest IpInBlacklist IpNotInWhitelist LimitExceeded
    MissingParameter NoSuchProduct NoSuchVersion RequestLimitExceeded
    RequestLimitExceeded.GlobalRegionUinLimitExceeded RequestLimitExceeded.IPLimitExceeded
    RequestLimitExceeded.UinLimitExceeded RequestSizeLimitExceeded ResourceInUse
    ResourceInsufficient ResourceNotFound ResourceUnavailable ResponseSizeLimitExceeded
    ServiceUnavailable UnauthorizedOperation UnknownParameter UnsupportedOperation
    UnsupportedProtocol UnsupportedRegion
    """
)

_SEND_FAILURES = """
    FailedOperation.EmailAddrInBlacklist FailedOperation.EmailContentToolarge
    FailedOperation.ExceedSendLimit FailedOperation.FrequencyLimit
    FailedOperation.HighRejectionRate FailedOperation.IncorrectEmail
    FailedOperation.InsufficientBalance FailedOperation.InsufficientQuota
    FailedOperation.InvalidTemplateID FailedOperation.NotAuthenticatedSender
    FailedOperation.ProtocolCheckErr FailedOperation.TemporaryBlocked
    FailedOperation.TooManyRecipients FailedOperation.UnsupportMailType
    FailedOperation.WithOutPermission FailedOperation.WrongContentJson
    InternalError InvalidParameter InvalidParameterValue
    InvalidParameterValue.EmailAddressIsNULL InvalidParameterValue.EmailContentIsWrong
    LimitExceeded MissingParameter OperationDenied RequestLimitExceeded ResourceInsufficient
    ResourceUnavailable UnknownParameter UnsupportedOperation
"""
_RECEIVER_UPLOAD = """
    FailedOperation.ServiceNotAvailable InvalidParameterValue.TemplateDataError
    InvalidParameterValue.TemplateDataInconsistent LimitExceeded.ReceiverDetailCountLimit
    LimitExceeded.ReceiverDetailRequestLimit MissingParameter.EmailsNecessary
    OperationDenied.ReceiverIsOperating OperationDenied.ReceiverNotExist
"""
_READ_ONLY = "InternalError InvalidParameter InvalidParameterValue LimitExceeded MissingParameter"
_NOT_EXIST = "InvalidParameterValue.TemplateNotExist"
_TEMPLATE_WRITE = f"""{_READ_ONLY} RequestLimitExceeded InvalidParameterValue.TemplateNameIllegal
    InvalidParameterValue.TemplateContentIsNULL InvalidParameterValue.TemplateContentIsWrong"""
_TEMPLATE_CREATE = "FailedOperation.ExceedTemplateLimit FailedOperation.TemplateContentToolarge"
_TEMPLATE_UPDATE = f"InvalidParameterValue.TemplateNameIsNULL {_NOT_EXIST}"

#: The codes Tencent documents for each action the emulator implements.
DOCUMENTED: Mapping[str, frozenset[str]] = {
    "SendEmail": _codes(
        _SEND_FAILURES
        + """
        FailedOperation.AttachContentToolarge FailedOperation.FileURLNotExist
        FailedOperation.IllegalURL FailedOperation.IncorrectSender
        FailedOperation.InvalidAttachName FailedOperation.MissingEmailContent
        FailedOperation.NoAttachPermission FailedOperation.ReceiverHasUnsubscribed
        FailedOperation.RejectedByRecipients FailedOperation.SendEmailErr
        FailedOperation.TooManyAttachments FailedOperation.URLForbidden
        InvalidParameterValue.AttachContentIsWrong InvalidParameterValue.InvalidEmailIdentity
        InvalidParameterValue.ReceiverEmailInvalid
        """
    ),
    "BatchSendEmail": _codes(
        """
        FailedOperation.EmailContentToolarge InternalError
        InvalidParameterValue.BeginTimeBeforeNow InvalidParameterValue.EmailContentIsWrong
        InvalidParameterValue.SubjectLengthError InvalidParameterValue.TemplateDataError
        InvalidParameterValue.TemplateNotMatchData MissingParameter.CycleParamNecessary
        MissingParameter.SendParamNecessary MissingParameter.TimedParamNecessary
        OperationDenied.ReceiverNotExist OperationDenied.ReceiverStatusError
        OperationDenied.SendAddressStatusError OperationDenied.TemplateStatusError
        """
    ),
    "GetSendEmailStatus": _codes(
        _SEND_FAILURES
        + """
        FailedOperation.InvalidLimit FailedOperation.NotSupportDate
        InvalidParameterValue.WrongDate
        """
    ),
    "ListSendTasks": _codes("FailedOperation.InvalidLimit"),
    "CreateReceiver": _codes(
        """
        InternalError InvalidParameterValue.ReceiverDescIllegal
        InvalidParameterValue.ReceiverNameIllegal InvalidParameterValue.RepeatReceiverName
        LimitExceeded.ExceedReceiverLimit
        """
    ),
    "CreateReceiverDetail": _codes(
        _RECEIVER_UPLOAD + "FailedOperation InternalError MissingParameter.ReceiverIdNecessary"
    ),
    "CreateReceiverDetailWithData": _codes(
        _RECEIVER_UPLOAD
        + """
        InvalidParameterValue.InValidTemplateData InvalidParameterValue.ReceiverEmailInvalid
        InvalidParameterValue.TemplateDataLenLimit
        """
    ),
    "ListReceivers": _codes("FailedOperation.InvalidLimit InternalError"),
    "ListReceiverDetails": _codes(
        "FailedOperation.InvalidLimit InternalError OperationDenied.ReceiverNotExist"
    ),
    "DeleteReceiver": _codes(
        "InternalError MissingParameter.ReceiverIdNecessary OperationDenied.ReceiverNotExist"
    ),
    "ListEmailTemplates": _codes(_READ_ONLY + " FailedOperation.InvalidLimit RequestLimitExceeded"),
    "GetEmailTemplate": _codes(f"{_READ_ONLY} {_NOT_EXIST} RequestLimitExceeded ResourceNotFound"),
    "CreateEmailTemplate": _codes(f"{_TEMPLATE_WRITE} {_TEMPLATE_CREATE}"),
    "UpdateEmailTemplate": _codes(f"{_TEMPLATE_WRITE} {_TEMPLATE_UPDATE}"),
    "DeleteEmailTemplate": _codes(_READ_ONLY + " OperationDenied RequestLimitExceeded"),
    "ListEmailAddress": _codes(_READ_ONLY + " OperationDenied RequestLimitExceeded"),
    "CreateCustomBlacklist": _codes(
        """
        InvalidParameterValue.WrongDate LimitExceeded.ReceiverDetailRequestLimit
        MissingParameter.EmailsNecessary
        """
    ),
    "ListCustomBlacklist": _codes("FailedOperation.InvalidLimit InternalError"),
    "DeleteCustomBlackList": _codes("InternalError"),
    "UpdateCustomBlackList": _codes(
        "InternalError InvalidParameterValue.IllegalEmailAddress InvalidParameterValue.WrongDate"
    ),
}

#: `Fallback.action` for a case every action shares.
EVERY_ACTION = "(every action)"


@dataclass(frozen=True)
class Fallback:
    """A case Tencent documents no code for, and the common code the emulator answers."""

    action: str
    case: str
    code: str
    note: str = ""


def _only_for(code: str, actions: str) -> str:
    return f"`{code}` is documented for {actions} only"


_RECEIVER_ID_NOTE = _only_for(
    "MissingParameter.ReceiverIdNecessary", "CreateReceiverDetail and DeleteReceiver"
)

FALLBACKS: tuple[Fallback, ...] = (
    Fallback(
        EVERY_ACTION,
        f"request body over {MAX_REQUEST_BYTES:,} bytes (8 MiB)",
        "RequestSizeLimitExceeded",
        "SES documents an 8 MB cap but no code; the answer is an API 3.0 error envelope",
    ),
    Fallback(
        "SendEmail",
        "a Bcc address repeats a Destination address",
        "InvalidParameterValue",
        "`InvalidParameterValue.RepeatEmailAddress` means a sender address that already exists",
    ),
    Fallback(
        "SendEmail",
        "Subject empty or over 100 characters",
        "InvalidParameterValue",
        _only_for("InvalidParameterValue.SubjectLengthError", "BatchSendEmail"),
    ),
    Fallback(
        "SendEmail",
        "TemplateData lacks a variable the template or the Subject uses",
        "InvalidParameterValue",
        _only_for("InvalidParameterValue.TemplateNotMatchData", "BatchSendEmail"),
    ),
    Fallback("SendEmail", "TriggerType other than 0 or 1", "InvalidParameterValue"),
    Fallback("SendEmail", 'Unsubscribe other than "0" to "12"', "InvalidParameterValue"),
    Fallback("SendEmail", "SmtpHeaders not the JSON text of an object", "InvalidParameterValue"),
    Fallback(
        "SendEmail",
        "an attachment with FileURL",
        "UnsupportedOperation",
        'Tencent documents FileURL as "not open"',
    ),
    Fallback(
        "BatchSendEmail",
        "FromEmailAddress not `address` or `Alias <address>`",
        "InvalidParameterValue",
        _only_for("FailedOperation.IncorrectSender", "SendEmail"),
    ),
    Fallback(
        "BatchSendEmail",
        "Simple on an account without that permission",
        "FailedOperation",
        _only_for("FailedOperation.WithOutPermission", "SendEmail"),
    ),
    Fallback("BatchSendEmail", "TaskType other than 1, 2 or 3", "InvalidParameterValue"),
    Fallback("BatchSendEmail", "BeginTime not `YYYY-MM-DD hh:mm:ss`", "InvalidParameterValue"),
    Fallback("BatchSendEmail", "CycleParam.IntervalTime under 1 (hours)", "InvalidParameterValue"),
    Fallback("BatchSendEmail", "CycleParam.TermCycle other than 0 or 1", "InvalidParameterValue"),
    Fallback(
        "BatchSendEmail",
        "Attachments given",
        "UnsupportedOperation",
        'Tencent documents BatchSendEmail attachments as "not supported yet"',
    ),
    Fallback("BatchSendEmail", "ADLocation other than 0, 1 or 2", "InvalidParameterValue"),
    Fallback("BatchSendEmail", 'Unsubscribe other than "0" to "12"', "InvalidParameterValue"),
    Fallback(
        "CreateReceiverDetailWithData",
        "ReceiverId missing or 0",
        "MissingParameter",
        _RECEIVER_ID_NOTE,
    ),
    Fallback(
        "ListReceiverDetails",
        "ReceiverId missing or 0",
        "MissingParameter",
        _RECEIVER_ID_NOTE,
    ),
    Fallback(
        "ListReceiverDetails",
        "CreateTimeBegin or CreateTimeEnd not `YYYY-MM-DD`",
        "InvalidParameterValue",
        _only_for("InvalidParameter.InvalidStartTimeFormat/InvalidEndTimeFormat", "GetAbuseReport"),
    ),
    Fallback("ListCustomBlacklist", "Status other than 0, 1 or 2", "InvalidParameterValue"),
    Fallback(
        "DeleteCustomBlackList",
        "Emails missing or empty",
        "MissingParameter",
        _only_for("MissingParameter.EmailsNecessary", "CreateCustomBlacklist and the list uploads"),
    ),
    Fallback("UpdateCustomBlackList", "Id names no blacklist entry", "ResourceNotFound"),
    Fallback(
        "UpdateEmailTemplate",
        "content over 4 MiB (Html and Text decoded)",
        "InvalidParameterValue",
        _only_for("FailedOperation.TemplateContentToolarge", "CreateEmailTemplate"),
    ),
    Fallback(
        "DeleteEmailTemplate",
        "TemplateID names no template",
        "InvalidParameterValue",
        _only_for(_NOT_EXIST, "GetEmailTemplate and UpdateEmailTemplate"),
    ),
)


class UndocumentedCodeError(AssertionError):
    """An emulator bug: an action answered a code Tencent does not document for it."""


def allowed(action: str) -> frozenset[str]:
    """Every code `action` may answer: its documented codes and the common ones."""
    return DOCUMENTED[action] | COMMON


def check(action: str, code: str) -> None:
    """Raise UndocumentedCodeError unless `action` may answer `code`."""
    if action not in DOCUMENTED:
        raise UndocumentedCodeError(f"{action} has no entry in the emulator's code table")
    if code not in allowed(action):
        raise UndocumentedCodeError(
            f"{action} answered {code}, which Tencent does not document for it; answer a "
            f"documented or common code and list the case in FALLBACKS"
        )


Handler = Callable[[Any], dict[str, Any]]


def guard(action: str, handler: Handler) -> Handler:
    """`handler`, with every ApiError it raises checked against `action`'s codes."""

    def checked(req: Any) -> dict[str, Any]:
        try:
            return handler(req)
        except ApiError as err:
            check(action, err.code)
            raise

    return checked
