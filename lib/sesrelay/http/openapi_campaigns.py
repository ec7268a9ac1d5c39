"""OpenAPI description of the campaign routes: request and answer shapes as pydantic models.

For the document only: bodies are validated by campaigns.model (fields) and campaigns.rows
(recipients, streamed, without a model per row).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from sesrelay.campaigns.model import CampaignSpec
from sesrelay.ses.fields import EmailAddress, TemplateDataText
from sesrelay.ses.validation import SesModel

CampaignState = Literal[
    "validating", "uploading", "sending", "scheduled", "sent", "failed", "unconfirmed"
]


class CampaignRecipient(SesModel):
    ses_name: ClassVar[str] = "recipient"

    Email: EmailAddress
    TemplateData: TemplateDataText | None = Field(
        None, description="This recipient's variables (over Template.TemplateData); <= 800 bytes"
    )


class CampaignRequest(CampaignSpec):
    """POST /v1/campaigns: BatchSendEmail's fields, a recipient list instead of a ReceiverId."""

    Recipients: list[CampaignRecipient] = Field(
        min_length=1,
        description="Any number of recipients (the body stays under 6 MB); case-insensitive "
        "duplicates are dropped and counted; every row needs the same variable names.",
    )


class CampaignShard(BaseModel):
    Index: int
    ReceiverName: str = Field(description="sr-<CampaignId>-<Index>")
    ReceiverId: int | None
    Rows: int
    ChunksTotal: int = Field(description="CreateReceiverDetail* calls needed (20,000 rows each)")
    ChunksUploaded: int = Field(description="calls SES confirmed")
    UploadStatus: int | None = Field(description="1 empty, 2 uploading, 3 complete")
    TaskId: int | None
    State: str
    Pending: str | None = Field(description="a step whose outcome SES has not confirmed yet")


class CampaignStatus(BaseModel):
    """GET /v1/campaigns/{id}, and the 202 of POST /v1/campaigns."""

    CampaignId: str
    State: CampaignState = Field(
        description="unconfirmed: SES holds something sesrelay cannot explain (see Errors); "
        "it stops there rather than guess"
    )
    Name: str | None
    Validation: Literal["strict", "permissive"]
    TaskType: int
    CreatedAt: str
    UpdatedAt: str
    Counts: dict[str, int] = Field(description="Received, Valid, Duplicates, Invalid")
    InvalidRows: list[dict[str, Any]] = Field(
        description="The first 100 invalid rows: RecipientIndex (0-based, as in errors[].field "
        "Recipients.<n>), or Line (the CSV file's line, header = line 1, for `sesrelay "
        "campaign send`); Field; Message"
    )
    TaskIds: list[int]
    Shards: list[CampaignShard]
    Errors: list[dict[str, Any]]
    LastError: dict[str, Any] | None = Field(description="the latest SES trouble (may be retried)")


MODELS: list[type[BaseModel]] = [CampaignRequest, CampaignStatus]


def _json_ref(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def campaign_paths(
    problem_responses: Callable[..., dict[str, Any]], idempotency_header: dict[str, Any]
) -> dict[str, Any]:
    """The two paths; openapi.py passes its `_problem_responses` and `IDEMPOTENCY_HEADER`."""
    status = {"content": _json_ref("CampaignStatus")}
    return {
        "/v1/campaigns": {
            "post": {
                "summary": "Send to a recipient list of any size (groups + batch tasks)",
                "description": "Before creating anything, SES is asked whether it would take "
                "the campaign: the sender must be listed by ListEmailAddress, the template "
                "exist and be approved (GetEmailTemplate), and its {{variables}} be filled by "
                "Template.TemplateData or the recipients' TemplateData; otherwise 422 "
                "validation_error lists every problem in errors[] and nothing is created.",
                "security": [{"bearer": []}],
                "parameters": [{**idempotency_header, "required": True}],
                "requestBody": {"required": True, "content": _json_ref("CampaignRequest")},
                "responses": {
                    "202": {"description": "started; see State", **status},
                    **problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 502, 503),
                },
            }
        },
        "/v1/campaigns/{campaign_id}": {
            "get": {
                "summary": "A campaign's state, groups and tasks",
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "campaign_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^cmp_[0-9a-f]{16}$"},
                    }
                ],
                "responses": {
                    "200": {"description": "the campaign", **status},
                    **problem_responses(401, 404, 503),
                },
            }
        },
    }
