"""The emulated SCF product (API 2018-04-16): the actions `sesrelay deploy` uses, plugged into the
same API 3.0 core as SES and chosen by the credential scope `<date>/scf/tc3_request`.

    server = EmulatorServer(port=0)
    server.add_service(ScfService(server.clock, settle_seconds=2))

One region per emulator (functions are regional in SCF); `settle_seconds` on the business clock
is how long Creating/Updating lasts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sesrelay.emulator.protocol import Action, Params
from sesrelay.emulator.scf import functions as scf_functions
from sesrelay.emulator.scf import params as p
from sesrelay.emulator.scf import triggers as scf_triggers
from sesrelay.emulator.scf.store import ScfState
from sesrelay.emulator.timeline import BusinessClock

VERSION = "2018-04-16"


class ScfService:
    name = "scf"
    version = VERSION

    def __init__(
        self, clock: BusinessClock, settle_seconds: float = 1.0, region: str = "ap-guangzhou"
    ) -> None:
        self.state = ScfState(clock, settle_seconds, region)
        self.regions = frozenset({region})
        self._actions = self._build_actions()

    def _bind(self, params: type[Params], fn: Callable[[ScfState, Any], dict[str, Any]]) -> Action:
        state = self.state
        return Action(params, lambda req: fn(state, req))

    def _build_actions(self) -> dict[str, Action]:
        b, f, t = self._bind, scf_functions, scf_triggers
        return {
            "GetFunction": b(p.GetFunction, f.get_function),
            "CreateFunction": b(p.CreateFunction, f.create_function),
            "UpdateFunctionCode": b(p.UpdateFunctionCode, f.update_function_code),
            "UpdateFunctionConfiguration": b(
                p.UpdateFunctionConfiguration, f.update_function_configuration
            ),
            "GetFunctionAddress": b(p.GetFunctionAddress, f.get_function_address),
            "GetFunctionEventInvokeConfig": b(
                p.GetFunctionEventInvokeConfig, f.get_function_event_invoke_config
            ),
            "UpdateFunctionEventInvokeConfig": b(
                p.UpdateFunctionEventInvokeConfig, f.update_function_event_invoke_config
            ),
            "ListTriggers": b(p.ListTriggers, t.list_triggers),
            "CreateTrigger": b(p.CreateTrigger, t.create_trigger),
            "UpdateTrigger": b(p.UpdateTrigger, t.update_trigger),
            "DeleteTrigger": b(p.DeleteTrigger, t.delete_trigger),
        }

    # -- the Service protocol -------------------------------------------------------------------

    def actions(self) -> Mapping[str, Action]:
        return self._actions

    def tick(self, now: datetime) -> None:
        self.state.tick(now)

    def reset(self) -> None:
        self.state.reset()

    def control(
        self, method: str, path: str, query: Mapping[str, str], body: bytes
    ) -> tuple[int, Any] | None:
        if path != "/_emulator/scf/functions":
            return None
        if method != "GET":
            return 405, {"error": "use GET"}
        return 200, {"functions": self.functions()}

    # -- inspection -------------------------------------------------------------------------------

    def functions(self) -> list[dict[str, Any]]:
        """Every function as GetFunction shows it, plus its code digest and async config."""
        found = []
        for fn in self.state.functions.values():
            shown = scf_functions.get_function(
                self.state, p.GetFunction(FunctionName=fn.name, Namespace=fn.namespace)
            )
            shown["CodeSha256"] = fn.code_sha256
            shown["AsyncTriggerConfig"] = {**fn.async_config}
            found.append(shown)
        return found
