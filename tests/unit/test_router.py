"""The router: fixed paths found directly and before `{parameters}`, parameters matched, 404, 405
with the methods a path allows, and a route defined twice refused when the table is built."""

from __future__ import annotations

import pytest

from sesrelay.clock import Deadline, ManualClock
from sesrelay.events import HttpRequest, HttpResponse
from sesrelay.http.router import (
    Call,
    Handler,
    MethodNotAllowed,
    NotFound,
    Route,
    Router,
    route,
)
from sesrelay.settings import Settings
from sesrelay.wiring import build_services


def _named(name: str) -> Handler:
    def handler(call: Call) -> HttpResponse:
        params = ",".join(f"{k}={v}" for k, v in sorted(call.request.path_params.items()))
        return HttpResponse(200, f"{name}:{params}")

    return handler


ROUTES: tuple[Route, ...] = (
    route("POST", "/v1/things", _named("create"), auth=False),
    route("GET", "/v1/things", _named("list"), auth=False),
    route("GET", "/v1/things/{thing_id}", _named("get"), auth=False),
    route("POST", "/v1/things/{thing_id}/notes/{note}", _named("note"), auth=False),
    route("GET", "/v1/things/special", _named("special"), auth=False),
)


def _call(method: str, path: str) -> Call:
    clock = ManualClock()
    services = build_services(Settings(environ={}), clock=clock)
    request = HttpRequest(method=method, path=path, headers={}, query={}, body=b"")
    return Call(request=request, services=services, deadline=Deadline(clock, 10))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/things", "create:"),
        ("GET", "/v1/things", "list:"),
        ("GET", "/v1/things/", "list:"),  # a trailing slash names the same resource
        ("GET", "/v1/things/t-1", "get:thing_id=t-1"),
        ("GET", "/v1/things/special", "special:"),  # a fixed path beats a {parameter}
        ("POST", "/v1/things/t-1/notes/n-2", "note:note=n-2,thing_id=t-1"),
    ],
)
def test_a_request_reaches_its_route_with_its_parameters(method: str, path: str, body: str) -> None:
    call = _call(method, path)
    assert Router(ROUTES).handle(call).body == body
    assert call.log["route"].startswith(method + " /v1/things")


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1/things/t-1/extra", "/v1//things", "/"])
def test_an_unknown_path_is_404(path: str) -> None:
    with pytest.raises(NotFound):
        Router(ROUTES).handle(_call("GET", path))


def test_a_known_path_with_another_method_is_405_naming_the_allowed_ones() -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        Router(ROUTES).handle(_call("DELETE", "/v1/things"))
    assert caught.value.allow == "GET, POST"
    with pytest.raises(MethodNotAllowed) as dynamic:
        Router(ROUTES).handle(_call("PUT", "/v1/things/special"))
    assert dynamic.value.allow == "GET"


def test_errors_never_echo_the_path_which_may_hold_a_credential() -> None:
    for method, path, error in (
        ("GET", "/v1/secret-token-123/x", NotFound),
        ("DELETE", "/v1/things/secret-token-123", MethodNotAllowed),
    ):
        with pytest.raises(error) as caught:
            Router(ROUTES).handle(_call(method, path))
        assert "secret-token-123" not in caught.value.message


def test_an_empty_parameter_does_not_match() -> None:
    with pytest.raises(NotFound):
        Router(ROUTES).handle(_call("POST", "/v1/things/t-1/notes/"))


def test_a_route_defined_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        Router((*ROUTES, route("GET", "/v1/things", _named("again"))))
