"""What `sesrelay serve`'s access log may show of a request target: the path, never its query
string and never the SES callback token, in whichever spelling the router accepts."""

from __future__ import annotations

import pytest

from sesrelay.cli.serve_http import loggable_path

TOKEN = "tok-0123456789abcdef"


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        (f"/v1/ses-events/{TOKEN}", "/v1/ses-events/***"),
        (f"/v1/ses-events/{TOKEN}?a=1", "/v1/ses-events/***"),
        (f"v1/ses-events/{TOKEN}", "v1/ses-events/***"),
        (f"http://h:1/v1/ses-events/{TOKEN}", "http://h:1/v1/ses-events/***"),
        (f"//v1//ses-events/{TOKEN}/x", "//v1//ses-events/***"),
        ("/v1/emails?api_key=secret", "/v1/emails"),
        ("/v1/emails#secret", "/v1/emails"),
        ("/v1/ses-events/", "/v1/ses-events/"),
    ],
)
def test_the_logged_path_holds_no_query_and_no_token(target: str, logged: str) -> None:
    assert loggable_path(target) == logged
    assert TOKEN not in loggable_path(target)
    assert "secret" not in loggable_path(target)
