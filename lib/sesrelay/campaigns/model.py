"""A campaign's request (the SES field rules of BatchSendEmail, reused) and its persisted state.

The state record never holds the recipient list: rows live in block records (campaigns.store).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, Strict

from sesrelay.ses.data_types import (
    UNSUBSCRIBE_HELP,
    AdLocationValue,
    CycleEmailParam,
    TaskTypeValue,
    TimedEmailParam,
    UnsubscribeCode,
)
from sesrelay.ses.fields import (
    CONTEXT_ALLOW_SIMPLE,
    CONTEXT_NOW,
    EmailAddress,
    PositiveId,
    Sender,
    TemplateDataText,
    check_no_controls,
    rule_error,
)
from sesrelay.ses.headers import subject_value_errors
from sesrelay.ses.models import BatchSendEmailParams, SubjectText
from sesrelay.ses.validation import CrossFieldError, SesModel, SesRequest, parse_request

#: Active states are worked on (by the request, then the finisher); the others are final.
ACTIVE_STATES = ("uploading", "sending")
FINAL_STATES = ("scheduled", "sent", "failed", "unconfirmed")
VALIDATION_MODES = ("strict", "permissive")


def _check_mode(value: str) -> str:
    if value not in VALIDATION_MODES:
        raise rule_error("choice", 'must be "strict" (any bad row refuses all) or "permissive"')
    return value


NameText = Annotated[
    str, Strict(), Field(min_length=1, max_length=100), AfterValidator(check_no_controls)
]
ValidationMode = Annotated[
    str,
    Strict(),
    AfterValidator(_check_mode),
    Field(json_schema_extra={"enum": list(VALIDATION_MODES)}),
]


class CampaignTemplate(SesModel):
    """The approved template, and defaults for its variables."""

    ses_name: ClassVar[str] = "Template"

    TemplateID: PositiveId = Field(description="ID of an approved SES template.")
    TemplateData: TemplateDataText | None = Field(
        None, description="Defaults (flat JSON object); each recipient's TemplateData wins."
    )


_Template = CampaignTemplate
_Timed = TimedEmailParam
_Cycle = CycleEmailParam


class CampaignSpec(SesRequest):
    """Everything of POST /v1/campaigns but the recipients: BatchSendEmail's fields and rules."""

    ses_name: ClassVar[str] = "campaign"

    FromEmailAddress: Sender
    Subject: SubjectText
    Template: _Template
    TaskType: TaskTypeValue = Field(1, description="1 now (default), 2 at TimedParam, 3 cycle.")
    TimedParam: _Timed | None = None
    CycleParam: _Cycle | None = None
    ReplyToAddresses: EmailAddress | None = None
    Unsubscribe: UnsubscribeCode | None = Field(None, description=UNSUBSCRIBE_HELP)
    ADLocation: AdLocationValue | None = None
    Name: NameText | None = Field(None, description="Free label, 1-100 characters.")
    Validation: ValidationMode = Field(
        "strict", description="strict: any bad row refuses the campaign; permissive: skip them"
    )

    @classmethod
    def cross_field_errors(
        cls, data: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[CrossFieldError]:
        # BatchSendEmail's TaskType/TimedParam/CycleParam rules, with TaskType defaulting to 1;
        # Template is required by this model itself, so its cross-field error is not wanted.
        batch = {**data, "TaskType": data.get("TaskType", 1), "Template": True}
        errors = BatchSendEmailParams.cross_field_errors(batch, context)
        # The defaults fill the Subject's variables for every row that leaves them out.
        return subject_value_errors(data) + errors

    def defaults(self) -> dict[str, Any]:
        text = self.Template.TemplateData
        loaded: dict[str, Any] = json.loads(text) if text else {}
        return loaded

    def batch_params(self) -> dict[str, Any]:
        """BatchSendEmail parameters, all but ReceiverId.

        Template carries TemplateID and, always, TemplateData: the defaults, "{}" without any
        (the API's Template type requires the field). The rows already hold the defaults merged,
        so whether SES ignores Template.TemplateData for a data-loaded list (its docs say it
        "need not be passed") or lays it under each row (as the emulator does), every mail
        renders with the same values.
        """
        params = self.model_dump(
            mode="json", exclude_none=True, exclude={"Name", "Validation", "Template"}
        )
        params["Template"] = {
            "TemplateID": self.Template.TemplateID,
            "TemplateData": json.dumps(self.defaults(), ensure_ascii=False, separators=(",", ":")),
        }
        return params


def parse_spec(data: object, *, now: datetime) -> CampaignSpec:
    """The campaign fields of a body (without Recipients); InvalidInput lists every problem."""
    return parse_request(CampaignSpec, data, {CONTEXT_NOW: now, CONTEXT_ALLOW_SIMPLE: False})


@dataclass
class Intent:
    """A write that may have reached SES: set before the call, cleared once its outcome is known."""

    step: str  # "create" | "upload" | "send"
    at: float  # business time (POSIX seconds) just before the call
    chunk: int = 0
    count_before: int = 0  # the group's settled Count before the upload
    checked: bool = False  # send: ListSendTasks consulted once already


def group_prefix(campaign_id: str) -> str:
    """What the names of a campaign's groups start with: one ListReceivers finds them all."""
    return f"sr-{campaign_id}-"


def group_name(campaign_id: str, index: int) -> str:
    # Deterministic, so a CreateReceiver whose reply was lost is found again by name.
    return f"{group_prefix(campaign_id)}{index}"


@dataclass
class Shard:
    """One recipient group and its batch task."""

    index: int
    name: str
    chunks: list[list[int]]  # upload calls -> block numbers
    chunk_rows: list[int]
    receiver_id: int | None = None
    uploaded: int = 0  # chunks SES confirmed
    status: int = 0  # ReceiversStatus last seen: 1 empty, 2 uploading, 3 complete; 0 unknown
    count: int = 0  # the group's Count when last seen settled
    uploaded_at: float = 0.0  # business time of the last confirmed upload
    task_id: int | None = None
    state: str = "pending"  # pending, uploading, uploaded, sent, scheduled, failed, unconfirmed
    intent: Intent | None = None

    @property
    def rows(self) -> int:
        return sum(self.chunk_rows)

    @property
    def upload_done(self) -> bool:
        return self.uploaded == len(self.chunks) and self.status == 3 and self.intent is None


@dataclass
class Campaign:
    id: str
    state: str
    created_at: str
    updated_at: str
    batch: dict[str, Any]
    with_data: bool
    validation: str
    name: str | None = None
    key: str | None = None  # the name of the API key that started it (HTTP)
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    blocks: int = 0
    shards: list[Shard] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    last_error: dict[str, Any] | None = None
    version: int = field(default=0, compare=False)  # of the store record; not serialised

    def to_json(self) -> str:
        data = asdict(self)
        del data["version"]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, version: int) -> Campaign:
        data = json.loads(text)
        shards = []
        for item in data.pop("shards"):
            intent = item.pop("intent")
            shards.append(Shard(**item, intent=Intent(**intent) if intent else None))
        return cls(**data, shards=shards, version=version)


def campaign_view(camp: Campaign) -> dict[str, Any]:
    """What GET /v1/campaigns/{id} answers (and POST, 202): Tencent-style field names."""
    return {
        "CampaignId": camp.id,
        "State": camp.state,
        "Name": camp.name,
        "Validation": camp.validation,
        "TaskType": camp.batch.get("TaskType"),
        "CreatedAt": camp.created_at,
        "UpdatedAt": camp.updated_at,
        "Counts": {key.capitalize(): value for key, value in camp.counts.items()},
        "InvalidRows": camp.problems,
        "TaskIds": [s.task_id for s in camp.shards if s.task_id is not None],
        "Shards": [
            {
                "Index": s.index,
                "ReceiverName": s.name,
                "ReceiverId": s.receiver_id,
                "Rows": s.rows,
                "ChunksTotal": len(s.chunks),
                "ChunksUploaded": s.uploaded,
                "UploadStatus": s.status or None,
                "TaskId": s.task_id,
                "State": s.state,
                "Pending": s.intent.step if s.intent else None,
            }
            for s in camp.shards
        ],
        "Errors": camp.errors,
        "LastError": camp.last_error,
    }
