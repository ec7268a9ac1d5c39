"""The bottom of the HTTP layer: a route, the call a handler gets, the HTTP errors, body reading,
and the `Router` that matches a request to a route. Route modules import this; nothing here
imports a route module, so route tables are plain values joined once by `http.app`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sesrelay import jsontext
from sesrelay.clock import Deadline
from sesrelay.errors import FieldError, InvalidInput, MalformedRequest, RelayError
from sesrelay.events import MAX_BODY_BYTES, HttpRequest, HttpResponse
from sesrelay.http.auth import authenticate, configured_keys
from sesrelay.keys import KeyScope
from sesrelay.wiring import Services


class NotFound(RelayError):
    code = "not_found"


class MethodNotAllowed(RelayError):
    code = "method_not_allowed"

    def __init__(self, message: str, allow: str) -> None:
        super().__init__(message)
        self.allow = allow


class PayloadTooLarge(RelayError):
    code = "payload_too_large"


class UnsupportedMediaType(RelayError):
    code = "unsupported_media_type"


@dataclass
class Call:
    """What a route handler gets: the request, the services and the per-invocation facts."""

    request: HttpRequest
    services: Services
    deadline: Deadline
    log: dict[str, Any] = field(default_factory=dict)
    #: The API key the request presented (routes with `auth`); its digest scopes idempotency.
    key: KeyScope | None = None

    @property
    def principal(self) -> str:
        """The presented key's digest ("" on routes without an API key)."""
        return self.key.digest if self.key else ""

    def require(self, action: str) -> KeyScope:
        """The presented key, if it may use `action` (403 scope_denied otherwise)."""
        if self.key is None:
            raise RuntimeError("require() on a route without an API key")
        self.key.require(action)
        return self.key


Handler = Callable[[Call], HttpResponse]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    auth: bool = True
    #: The template's segments, split once when the route is made (matching is on the hot path).
    segments: tuple[str, ...] = ()

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.segments, parts, strict=True):
            if want[:1] == "{":
                if not got:
                    return None
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


def route(method: str, template: str, handler: Handler, *, auth: bool = True) -> Route:
    """A route; `auth=False` for routes that authenticate otherwise (signature, path token)."""
    return Route(method, template, handler, auth, tuple(template.strip("/").split("/")))


class Router:
    """Matches a request against a fixed table of routes. Paths without parameters are found by
    one dict lookup and come first (a fixed path beats a `{parameter}`); routes with parameters
    are tried in order among those of the same length. Matching runs on every request."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        seen: set[tuple[str, str]] = set()
        self._static: dict[str, list[Route]] = {}
        self._dynamic: dict[int, list[Route]] = {}
        for candidate in self.routes:
            if (candidate.method, candidate.template) in seen:
                raise ValueError(f"route {candidate.method} {candidate.template} is defined twice")
            seen.add((candidate.method, candidate.template))
            if any(segment[:1] == "{" for segment in candidate.segments):
                self._dynamic.setdefault(len(candidate.segments), []).append(candidate)
            else:
                self._static.setdefault("/".join(candidate.segments), []).append(candidate)

    def _matches(self, path: str) -> list[tuple[Route, dict[str, str]]]:
        stripped = path.strip("/")
        found: list[tuple[Route, dict[str, str]]] = [
            (r, {}) for r in self._static.get(stripped, ())
        ]
        parts = stripped.split("/")
        for candidate in self._dynamic.get(len(parts), ()):
            params = candidate.match(parts)
            if params is not None:
                found.append((candidate, params))
        return found

    def handle(self, call: Call) -> HttpResponse:
        request = call.request
        matches = self._matches(request.path)
        if not matches:
            # The path is not echoed: a path segment can be a credential (the SES callback token).
            raise NotFound("no route for this path; see GET /v1/openapi.json")
        for candidate, params in matches:
            if candidate.method == request.method:
                call.log["route"] = f"{candidate.method} {candidate.template}"
                request.path_params = params
                if candidate.auth:
                    services = call.services
                    if services.api_keys is None:
                        services.api_keys = configured_keys(services.settings, services.config)
                    call.key = authenticate(request.header("authorization"), services.api_keys)
                    call.log["key"] = call.key.name
                return candidate.handler(call)
        allow = ", ".join(sorted({r.method for r, _ in matches}))
        raise MethodNotAllowed(f"{request.method} is not allowed on this path; use {allow}", allow)


def check_body_size(request: HttpRequest) -> None:
    if len(request.body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(request.body)} bytes; the limit is 6 MB")


#: The media types a body may carry, by what the route reads.
JSON_TYPES = ("application/json", "*/*+json")
FORM_TYPE = "application/x-www-form-urlencoded"


def media_type(request: HttpRequest, accepted: tuple[str, ...], *, missing: str = "") -> str:
    """The body's media type (lower case, no parameters) when the route reads it, else 415.

    One rule for every route with a body: the Content-Type says how the body is read, and a type
    the route does not read, or none at all, is refused with 415 naming what it reads. `missing`
    is the type assumed when the header is absent, for senders that document none (SES's
    delivery callbacks); routes whose clients we document leave it empty."""
    header = (request.header("content-type") or "").split(";")[0].strip().lower()
    kind = header or missing
    if kind in accepted or ("*/*+json" in accepted and kind.endswith("+json") and "/" in kind):
        return kind
    names = " or ".join(accepted)
    if not header:
        raise UnsupportedMediaType(f"the request has no Content-Type; send {names}")
    raise UnsupportedMediaType(f"Content-Type {header[:100]} is not read here; send {names}")


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object; 413/415/400/422 errors say exactly what is wrong."""
    check_body_size(request)
    media_type(request, JSON_TYPES)
    if not request.body:
        raise MalformedRequest("the body is empty; send a JSON object")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not valid UTF-8") from None
    data = jsontext.parse(text)
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else "a JSON scalar"
        raise InvalidInput([FieldError("", f"the body must be a JSON object, not {kind}")])
    return data
