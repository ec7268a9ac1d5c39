"""The SES gateway over the official `tencentcloud-sdk-python-ses` client.

The only importer of `tencentcloud`, and the only reader of the credentials' values. Turns every
SDK exception into a typed `SesError` and retries only what SES certainly did not act on.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ses.v20201002 import models as ses_models
from tencentcloud.ses.v20201002 import ses_client

from sesrelay.clock import Clock, Deadline
from sesrelay.errors import Outcome, SesError
from sesrelay.gateway import WRITE_ACTIONS

#: Retryable codes that do not clear within an invocation: SES lifts this block by itself after
#: about 10 minutes, so retrying in seconds would only spend the deadline; the caller retries.
LONG_BLOCK_CODES = frozenset({"FailedOperation.TemporaryBlocked"})

#: Codes after which SES certainly did not act, and a retry after a pause can succeed.
RETRYABLE_CODES = (
    frozenset(
        {
            "RequestLimitExceeded",
            "RequestLimitExceeded.UinLimitExceeded",
            "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
            "RequestLimitExceeded.IPLimitExceeded",
            "FailedOperation.ServiceNotAvailable",
        }
    )
    | LONG_BLOCK_CODES
)

#: Fragments of requests' messages that mean the request never reached the server.
_NOT_SENT_MARKERS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Connection refused",
    "ConnectTimeoutError",
    "Connect timed out",
    "NameResolutionError",
    "Failed to resolve",
    "Name or service not known",
    "Temporary failure in name resolution",
    "SSLError",
)

#: Below this much time left there is no point starting a call.
MIN_CALL_SECONDS = 0.05


def classify(action: str, code: str, message: str) -> Outcome:
    """What an SDK failure means for the request: did SES act, and may we try again?"""
    is_write = action in WRITE_ACTIONS
    if code in RETRYABLE_CODES:
        return Outcome.RETRYABLE
    if code == "ClientNetworkError":
        if any(marker in message for marker in _NOT_SENT_MARKERS):
            return Outcome.RETRYABLE
        # Read timeouts and dropped connections: the request may have been processed.
        return Outcome.OUTCOME_UNKNOWN if is_write else Outcome.RETRYABLE
    if code in {"ServerNetworkError", "JSONDecodeError"} or code.startswith("InternalError"):
        return Outcome.OUTCOME_UNKNOWN if is_write else Outcome.RETRYABLE
    return Outcome.FINAL


def parse_endpoint(endpoint: str) -> tuple[str, str]:
    """`http://127.0.0.1:8080` -> ("127.0.0.1:8080", "http"); a bare host means https."""
    if "://" not in endpoint:
        return endpoint.rstrip("/"), "https"
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("SESRELAY_SES_ENDPOINT must look like http(s)://host[:port]")
    return parts.netloc, parts.scheme


def _reveal(value: str | SecretStr | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class SdkSesGateway:
    """One SesClient per thread of a warm instance, so TCP connections are reused.

    Credentials come as Settings holds them (SecretStr) or as plain str; neither shows in reprs.
    """

    def __init__(
        self,
        *,
        secret_id: str | SecretStr,
        secret_key: str | SecretStr,
        session_token: str | SecretStr | None,
        region: str,
        endpoint: str,
        clock: Clock,
        timeout: float = 10.0,
        max_attempts: int = 3,
        base_backoff: float = 0.1,
        max_backoff: float = 2.0,
        rng: random.Random | None = None,
        before_attempt: Callable[[str, Deadline], Callable[[], None]] | None = None,
    ) -> None:
        host, scheme = parse_endpoint(endpoint)
        self._credential = credential.Credential(
            _reveal(secret_id), _reveal(secret_key), _reveal(session_token) or None
        )
        self._region = region
        self._host = host
        self._scheme = scheme
        self._clock = clock
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._local = threading.local()
        self.endpoint = f"{scheme}://{host}"
        #: Runs before every request that leaves for SES (retries included): the rate limiter
        #: (ratelimit.SesThrottle) waits for a permit there, or raises a retryable SesError. What
        #: it returns runs as soon as that attempt is over, answered or not.
        self._before_attempt = before_attempt

    def __repr__(self) -> str:
        return f"SdkSesGateway({self.endpoint!r}, region={self._region!r})"

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            http = HttpProfile(endpoint=self._host, protocol=self._scheme)
            # Whole seconds, rounded up; only a default: _call_once sets each call's own timeout.
            http.reqTimeout = max(1, math.ceil(self._timeout))
            profile = ClientProfile(httpProfile=http)
            client = ses_client.SesClient(self._credential, self._region, profile)
            self._local.client = client
        return client

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline.remaining()
            if remaining < MIN_CALL_SECONDS:
                raise SesError(
                    "deadline_exceeded",
                    f"no time left in the invocation to call SES {action}",
                    outcome=Outcome.RETRYABLE,
                    action=action,
                    attempts=attempt - 1,
                )
            attempt_over: Callable[[], None] | None = None
            if self._before_attempt is not None:
                attempt_over = self._before_attempt(action, deadline)
                remaining = deadline.remaining()
            try:
                timeout = min(self._timeout, remaining)
                return self._attempt(action, params, timeout, attempt_over)
            except SesError as error:
                error.attempts = attempt
                if (
                    not error.retryable
                    or error.code in LONG_BLOCK_CODES
                    or attempt >= self._max_attempts
                ):
                    raise
                pause = self._rng.uniform(
                    0.0, min(self._max_backoff, self._base_backoff * 2 ** (attempt - 1))
                )
                if deadline.remaining() - pause < MIN_CALL_SECONDS * 2:
                    raise
                self._clock.sleep(pause)

    def _attempt(
        self,
        action: str,
        params: dict[str, Any],
        timeout: float,
        attempt_over: Callable[[], None] | None,
    ) -> dict[str, Any]:
        try:
            return self._call_once(action, params, timeout)
        finally:
            if attempt_over is not None:
                attempt_over()

    def _call_once(self, action: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        client = self._client()
        # requests takes the timeout per call from the connection object (ProxyConnection).
        client.request.conn.timeout = timeout
        try:
            request_type = getattr(ses_models, f"{action}Request", None)
            method = getattr(client, action, None)
            if request_type is not None and method is not None:
                # The model's own (de)serialisers, which from_json_string / to_json_string wrap
                # around a JSON round trip that a dict in hand does not need.
                request = request_type()
                request._deserialize(params)
                response = method(request)
                result: dict[str, Any] = response._serialize(allow_none=False)
                return result
            body = client.call_json(action, params)
            return dict(body["Response"])
        except TencentCloudSDKException as exc:
            code = str(exc.get_code() or "UnknownError")
            raw = exc.get_message()
            message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
            raise SesError(
                code,
                _network_phrase(code, message) or _short(message),
                request_id=exc.get_request_id() or None,
                outcome=classify(action, code, message),
                action=action,
            ) from None


def _short(message: str, limit: int = 300) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 3] + "..."


#: What a network failure was, in words that name no host, port or library (the SDK's own text
#: quotes `HTTPConnectionPool(host=..., port=...)`, which must not reach an answer or LastError).
_NETWORK_PHRASES = (
    (("Connection refused",), "the connection to SES was refused"),
    (
        (
            "NameResolutionError",
            "Failed to resolve",
            "Name or service not known",
            "Temporary failure in name resolution",
        ),
        "the SES host name did not resolve",
    ),
    (("ConnectTimeoutError", "Connect timed out"), "connecting to SES timed out"),
    (("Read timed out", "ReadTimeoutError"), "SES did not answer in time (read timeout)"),
    (("SSLError",), "the TLS handshake with SES failed"),
    (
        ("Connection aborted", "RemoteDisconnected", "Connection reset"),
        "the connection to SES was dropped",
    ),
)


def _network_phrase(code: str, message: str) -> str | None:
    if code not in ("ClientNetworkError", "ServerNetworkError"):
        return None
    for markers, phrase in _NETWORK_PHRASES:
        if any(marker in message for marker in markers):
            return phrase
    return "a network error talking to SES"
