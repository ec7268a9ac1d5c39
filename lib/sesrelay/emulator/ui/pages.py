"""What the emulator answers under `/_emulator/ui`: the inbox page and its two files, each mail's
HTML as a document of its own, and attachment downloads.

| route | answer |
|---|---|
| `GET /_emulator/ui` | the page (`static/index.html`) |
| `GET /_emulator/ui/inbox.css`, `/_emulator/ui/inbox.js` | its style and script |
| `GET /_emulator/ui/mail/<id>.html` | the mail's rendered HTML, sandboxed |
| `GET /_emulator/ui/mail/<id>/attachments/<n>` | the attachment, as a download |

A mail's HTML is whatever the sender's template and data made of it, so it is served with a
policy that lets it run nothing and fetch nothing: CSP `sandbox` (an opaque origin, no scripts,
no forms, no pop-ups) and `default-src 'none'` but inline styles and `data:` images. The page
shows it in an `<iframe sandbox>` as well, and itself allows only its own script and style.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from urllib.parse import quote

from sesrelay.emulator.core import EmulatorCore, Reply
from sesrelay.emulator.ui import views

PREFIX = "/_emulator/ui"
#: the page: its own files and the emulator's JSON only; mail documents only in frames
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
#: a mail's HTML: nothing runs, nothing is fetched (no remote images: they would tell a sender
#: that the mail was opened), no navigation of the page around it
MAIL_CSP = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
_STATIC = {
    "": ("index.html", "text/html; charset=utf-8"),
    "inbox.css": ("inbox.css", "text/css; charset=utf-8"),
    "inbox.js": ("inbox.js", "text/javascript; charset=utf-8"),
}
_MAIL_HTML = re.compile(r"mail/(\d{1,9})\.html")
_ATTACHMENT = re.compile(r"mail/(\d{1,9})/attachments/(\d{1,3})")
_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Answer = tuple[Reply, dict[str, str]]


def is_ui_path(path: str) -> bool:
    """Whether `path` is one of this module's (the rest of `/_emulator/` is JSON, `control`)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def _error(status: int, message: str, extra: dict[str, str] | None = None) -> Answer:
    body = json.dumps({"error": message}).encode()
    return Reply(status, body), {**_COMMON, **(extra or {})}


def _static(name: str, content_type: str) -> Answer:
    body = resources.files("sesrelay.emulator.ui").joinpath("static").joinpath(name).read_bytes()
    return Reply(200, body, content_type), {**_COMMON, "Content-Security-Policy": PAGE_CSP}


def _download_headers(name: str) -> dict[str, str]:
    """Content-Disposition for `name`: a plain ASCII fallback and the exact name (RFC 6266)."""
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", name) or "attachment"
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    return {**_COMMON, "Content-Disposition": disposition, "Content-Security-Policy": MAIL_CSP}


def respond(core: EmulatorCore, method: str, path: str) -> Answer:
    """The reply, and its extra headers, to `method path` under `/_emulator/ui`."""
    if method != "GET":
        return _error(405, f"{PREFIX} accepts GET", {"Allow": "GET"})
    rest = path[len(PREFIX) :].strip("/")
    if rest in _STATIC:
        return _static(*_STATIC[rest])
    core.tick()  # tasks that came due have sent their mail
    try:
        if match := _MAIL_HTML.fullmatch(rest):
            with core.lock:
                html = views.find_mail(core, match.group(1)).html
            headers = {**_COMMON, "Content-Security-Policy": MAIL_CSP}
            return Reply(200, html.encode("utf-8"), "text/html; charset=utf-8"), headers
        if match := _ATTACHMENT.fullmatch(rest):
            name, content = views.attachment(core, match.group(1), match.group(2))
            reply = Reply(200, content, "application/octet-stream")
            return reply, _download_headers(name)
    except views.ViewError as err:
        return _error(err.status, err.message)
    return _error(404, f"no inbox page {path[:80]!r}; the inbox is at {PREFIX}")
