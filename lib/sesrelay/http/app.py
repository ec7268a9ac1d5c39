"""The HTTP API: every route table joined once into one router. Add a route module's `ROUTES`
here; nothing registers itself by being imported."""

from __future__ import annotations

from sesrelay.events import HttpResponse
from sesrelay.http.router import Call, Router
from sesrelay.http.routes import campaigns, meta, records, send, ses_events, webhooks

ROUTER = Router(
    send.ROUTES
    + records.ROUTES
    + campaigns.ROUTES
    + webhooks.ROUTES
    + ses_events.ROUTES
    + meta.ROUTES
)


def handle_http(call: Call) -> HttpResponse:
    return ROUTER.handle(call)
