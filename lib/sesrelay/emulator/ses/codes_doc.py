"""docs/emulator-error-codes.md, rendered from the code table in `codes`.

Regenerate the file with `python -m sesrelay.emulator.ses.codes_doc > docs/emulator-error-codes.md`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sesrelay.emulator.ses.codes import (
    COMMON,
    DOCUMENTED,
    FALLBACKS,
    MAX_REQUEST_BYTES,
    Fallback,
)

COMMAND = "python -m sesrelay.emulator.ses.codes_doc > docs/emulator-error-codes.md"

_INTRO = f"""\
# Error codes of the SES emulator

<!-- Generated from lib/sesrelay/emulator/ses/codes.py; do not edit by hand. Regenerate with
`{COMMAND}` -->

The emulator answers an SES action only with a code Tencent documents for that action, or with
one of the API 3.0 common codes that any action may answer. Every error an SES action raises goes
through that check (`codes.guard`): an undocumented code is an emulator bug, answered as
`InternalError` with the traceback on the emulator's stderr. Errors injected through
`POST /_emulator/faults` are the test's own choice and are not checked.

The per-action lists are the "possible error codes" of each action in Tencent's generated SDKs
(tencentcloud-sdk-go, `tencentcloud/ses/v20201002/client.go`). The common codes are on
<https://cloud.tencent.com/document/product/1388/114322>.

A required parameter that is missing, such as `Template.TemplateData` in SendEmail or
BatchSendEmail, is `MissingParameter`, or the action's own `MissingParameter.*` code where Tencent
documents one (BatchSendEmail's `SendParamNecessary`, the receiver actions' `ReceiverIdNecessary`
and `EmailsNecessary`).
"""


def _code_list(codes: Iterable[str]) -> str:
    return ", ".join(f"`{code}`" for code in sorted(codes))


def _fallback_row(fallback: Fallback) -> str:
    note = fallback.note.replace("|", "\\|")
    return f"| {fallback.action} | {fallback.case} | `{fallback.code}` | {note} |"


def render() -> str:
    """The whole Markdown file."""
    lines = [_INTRO]
    lines += ["## Common codes (any action)", "", _code_list(COMMON), ""]
    lines += [
        "## Codes per action",
        "",
        "Besides the common codes, each action may answer:",
        "",
        "| action | codes Tencent documents for it |",
        "|---|---|",
    ]
    lines += [f"| {action} | {_code_list(codes)} |" for action, codes in DOCUMENTED.items()]
    lines += [
        "",
        "## Where Tencent documents no code",
        "",
        "For these cases Tencent documents no code for the action. The emulator answers the",
        "closest common code, with a message that names the field and the rule.",
        "",
        "| action | case | the emulator answers | why not a more specific code |",
        "|---|---|---|---|",
    ]
    lines += [_fallback_row(fallback) for fallback in FALLBACKS]
    lines += [
        "",
        "## Request size",
        "",
        f"SES requests are capped at 8 MB; the emulator refuses a body over {MAX_REQUEST_BYTES:,}",
        "bytes (8 MiB) with `RequestSizeLimitExceeded` in an ordinary API 3.0 error envelope",
        "(HTTP 200), and a body of exactly that size is read. Other products on the same",
        "emulator (SCF) keep API 3.0's 10 MiB.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
