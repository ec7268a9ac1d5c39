"""One warm instance: services built lazily on the first event (never at import), then reused."""

from __future__ import annotations

import logging
import threading
from typing import Any

from pydantic import ValidationError

from sesrelay import logs
from sesrelay.dispatch import dispatch, event_kind, request_id_of
from sesrelay.errors import RetryLater
from sesrelay.settings import describe_error
from sesrelay.wiring import Services, build_services

log = logging.getLogger("sesrelay")


class Runtime:
    def __init__(self, services: Services | None = None) -> None:
        logs.configure()
        self._services = services
        self._lock = threading.Lock()

    @property
    def services(self) -> Services:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    self._services = build_services()
        return self._services

    def handle(self, event: Any, context: Any) -> Any:
        try:
            services = self.services
        except (ValidationError, ValueError) as exc:
            # A misconfigured function must say what to fix, not raise a traceback at callers.
            problem = _config_problem(exc)
            kind = event_kind(event)
            logs.invocation(
                request_id=request_id_of(context),
                trigger=kind,
                status=503 if kind in ("http", "apigw") else "configuration_error",
                code="configuration_error",
                detail=problem,
            )
            return unavailable(event, context, "configuration_error", problem)
        logs.set_level(services.settings.log_level)
        try:
            return dispatch(event, context, services)
        except RetryLater:
            raise  # SCF must see the failure to retry the async invocation
        except Exception:  # a genuine bug: log it whole, answer without internals
            log.exception("unhandled error")
            return unavailable(
                event, context, "internal_error", "internal error; see the function log"
            )


def _config_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "invalid environment: " + describe_error(exc)
    return str(exc)


def unavailable(event: Any, context: Any, code: str, message: str) -> dict[str, Any]:
    """The error reply in the shape the trigger expects (HTTP reply or direct/timer summary)."""
    from sesrelay.http.problems import problem

    kind = event_kind(event)
    if kind in ("http", "apigw"):
        status = 500 if code == "internal_error" else 503
        return problem(status, code, message, request_id=request_id_of(context)).to_scf(kind)
    return {"ok": False, "error": {"code": code, "message": message, "errors": []}}
