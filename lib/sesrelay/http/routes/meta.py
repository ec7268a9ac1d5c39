"""Routes about the API itself, open without a key: `GET /v1/health` and `GET /v1/openapi.json`."""

from __future__ import annotations

from sesrelay.events import HttpResponse
from sesrelay.http.problems import json_response
from sesrelay.http.router import Call, Route, route


def health(call: Call) -> HttpResponse:
    from sesrelay import __version__

    return json_response(200, {"status": "ok", "version": __version__})


def openapi(call: Call) -> HttpResponse:
    from sesrelay.http.openapi import openapi_document  # built on demand: not on the send path

    return json_response(200, openapi_document())


ROUTES: tuple[Route, ...] = (
    route("GET", "/v1/health", health, auth=False),
    route("GET", "/v1/openapi.json", openapi, auth=False),
)
