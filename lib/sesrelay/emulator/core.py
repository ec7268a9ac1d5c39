"""The protocol core: authenticate an API 3.0 call, apply rate limits and faults, run the action.

Transport-free (bytes and headers in, a Reply out) so every service (SES now, SCF later) shares it.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sesrelay.emulator import signing
from sesrelay.emulator.callbacks import CallbackQueue
from sesrelay.emulator.faults import FaultBook
from sesrelay.emulator.protocol import (
    JSON_CONTENT_TYPE,
    ApiError,
    Service,
    envelope,
    error_envelope,
    new_request_id,
    parse_body,
    parse_params,
)
from sesrelay.emulator.ratelimit import RateLimiter
from sesrelay.emulator.timeline import BusinessClock

#: API 3.0 refuses a timestamp more than five minutes away from server time (1388/114322).
MAX_CLOCK_SKEW_SECONDS = 300


@dataclass(frozen=True)
class Reply:
    """What to answer: a status, body and type, or `drop` to close the socket without a word."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_CONTENT_TYPE
    drop: bool = False


DROP = Reply(drop=True)


class EmulatorCore:
    def __init__(
        self,
        *,
        credentials: Mapping[str, str],
        services: Sequence[Service],
        clock: BusinessClock,
        rate_limit: int | None,
        callbacks: CallbackQueue | None = None,
    ) -> None:
        if not services:
            raise ValueError("at least one service is needed")
        self.credentials = dict(credentials)
        self.services = {s.name: s for s in services}
        self.default_service = services[0]
        self.clock = clock
        self.faults = FaultBook()
        self.limiter = RateLimiter(rate_limit)
        #: the event callbacks services post (SES's delivery events); `/_emulator/callbacks`
        self.callbacks = callbacks if callbacks is not None else CallbackQueue()
        #: one lock around all emulated state; handlers run under it, delays sleep outside it
        self.lock = threading.RLock()
        self._counts: Counter[tuple[str, str]] = Counter()
        #: calls refused with RequestLimitExceeded, per (service, action): what a load test checks
        self._limited: Counter[tuple[str, str]] = Counter()

    # -- API calls ------------------------------------------------------------------------------

    def handle_api(self, method: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one call to `/`; `headers` maps lower-case names to values."""
        request_id = new_request_id()
        action = headers.get("x-tc-action", "").strip()
        auth = signing.parse_authorization(headers.get("authorization", ""))
        service = self.services.get(auth.service if auth else "", self.default_service)
        if action:
            with self.lock:
                self._counts[(service.name, action)] += 1
        try:
            if method != "POST":
                raise ApiError(
                    "UnsupportedProtocol", "The emulator accepts API calls as POST only."
                )
            if not action:
                raise ApiError("MissingParameter", "The header `X-TC-Action` is missing.")
            self._authenticate(auth, method, headers, body)
            return self._run(service, action, headers, body, request_id)
        except ApiError as err:
            return Reply(body=error_envelope(err.code, err.message, request_id))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return Reply(body=error_envelope("InternalError", "emulator bug", request_id))

    def _authenticate(
        self,
        auth: signing.Authorization | None,
        method: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        if auth is None:
            raise ApiError(
                "AuthFailure.InvalidAuthorization",
                "The Authorization header is missing or is not a TC3-HMAC-SHA256 header.",
            )
        if not {"content-type", "host"} <= set(auth.signed_headers):
            raise ApiError(
                "AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type;host."
            )
        if auth.service not in self.services:
            raise ApiError(
                "AuthFailure.InvalidAuthorization",
                f"The credential scope names service `{auth.service}`, which is not emulated.",
            )
        secret_key = self.credentials.get(auth.secret_id)
        if secret_key is None:
            raise ApiError("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        raw_ts = headers.get("x-tc-timestamp", "").strip()
        if not raw_ts:
            raise ApiError("MissingParameter", "The header `X-TC-Timestamp` is missing.")
        if not raw_ts.isdigit():
            raise ApiError("InvalidParameterValue", "X-TC-Timestamp must be unix seconds.")
        timestamp = int(raw_ts)
        # Real wall time on purpose: the business clock may be days ahead in a test.
        if abs(timestamp - time.time()) > MAX_CLOCK_SKEW_SECONDS:
            raise ApiError(
                "AuthFailure.SignatureExpire",
                "Signature expired: X-TC-Timestamp is more than 300 seconds from server time.",
            )
        # X-TC-Token is accepted whatever it holds: temporary credentials come from Tencent's STS
        # and cannot be checked locally, so only the SecretId/SecretKey pair is verified.
        if not signing.verify(
            auth,
            secret_key=secret_key,
            method=method,
            headers=headers,
            body=body,
            timestamp=timestamp,
        ):
            raise ApiError(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. Check the signature.",
            )

    def _run(
        self,
        service: Service,
        action_name: str,
        headers: Mapping[str, str],
        body: bytes,
        request_id: str,
    ) -> Reply:
        action = service.actions().get(action_name)
        if action is None:
            raise ApiError("InvalidAction", f"The action `{action_name}` is not found.")
        version = headers.get("x-tc-version", "").strip()
        if not version:
            raise ApiError("MissingParameter", "The header `X-TC-Version` is missing.")
        if version != service.version:
            raise ApiError("NoSuchVersion", f"The version `{version}` is not supported.")
        region = headers.get("x-tc-region", "").strip()
        if not region:
            raise ApiError("MissingParameter", "The header `X-TC-Region` is missing.")
        if region not in service.regions:
            raise ApiError("UnsupportedRegion", f"The region `{region}` is not supported.")
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != JSON_CONTENT_TYPE:
            raise ApiError("InvalidParameter", "The emulator accepts application/json bodies only.")
        if not self.limiter.allow(f"{service.name}:{action_name}"):
            with self.lock:
                self._limited[(service.name, action_name)] += 1
            raise ApiError(
                "RequestLimitExceeded", "Your request rate has exceeded the limit of this action."
            )

        fault = self.faults.take(action_name)
        if fault is not None:
            if fault.kind == "error":
                return Reply(body=error_envelope(fault.code, fault.message, request_id))
            if fault.kind == "http_status":
                text = f"{fault.status} injected by the emulator\n".encode()
                return Reply(status=fault.status, body=text, content_type="text/plain")
            if fault.kind == "drop_before":
                return DROP
            if fault.kind == "delay":
                time.sleep(fault.seconds)  # real time: the point is a client read timeout

        try:
            params = parse_params(action, parse_body(body))
            with self.lock:
                service.tick(self.clock.now())
                reply = Reply(body=envelope(action.handler(params), request_id))
        except ApiError as err:
            reply = Reply(body=error_envelope(err.code, err.message, request_id))
        # drop_after: the action ran (mail is in the outbox) but the client never hears so.
        return DROP if fault is not None and fault.kind == "drop_after" else reply

    # -- state shared by the control endpoints ----------------------------------------------------

    def tick(self) -> None:
        with self.lock:
            now = self.clock.now()
            for service in self.services.values():
                service.tick(now)

    def reset(self) -> None:
        with self.lock:
            self.clock.reset()
            self.faults.clear()
            self.limiter.clear()
            self._counts.clear()
            self._limited.clear()
            self.callbacks.reset()  # the URL stays: it is configuration, like the credentials
            for service in self.services.values():
                service.reset()

    def call_counts(self, service: str | None = None) -> dict[str, int]:
        name = service or self.default_service.name
        with self.lock:
            return {a: n for (s, a), n in sorted(self._counts.items()) if s == name}

    def rate_limited_counts(self, service: str | None = None) -> dict[str, int]:
        """Calls refused with RequestLimitExceeded per action (they are in call_counts too)."""
        name = service or self.default_service.name
        with self.lock:
            return {a: n for (s, a), n in sorted(self._limited.items()) if s == name}
