"""Deploy plans: the function serverless.yml wants against the one SCF reports, compared field by
field, as create / update / delete / no change lines. Pure: no SDK, no I/O.

Lines name settings and variables, never environment values (those may be secrets).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from sesrelay.deploy import cron
from sesrelay.deploy.network import ClsTarget, Network, Vpc, plan_rows
from sesrelay.deploy.plan_lines import CHANGES, Action, Line
from sesrelay.deploy.serverless_model import Inputs

#: Trigger types serverless.yml describes; others (COS, CLS, ...) are left as they are.
MANAGED_TRIGGER_TYPES = ("timer", "http")


class PlanError(Exception):
    """The wanted change is one SCF cannot make (e.g. a new runtime for an existing function)."""


@dataclass(frozen=True)
class Settings:
    handler: str
    runtime: str
    memory_size: int
    timeout: int
    role: str | None  # None: not managed by the file, left as SCF has it
    description: str | None
    environment: Mapping[str, str]
    vpc: Vpc | None = None  # None: not managed by the file (wanted), or unknown
    cls: ClsTarget | None = None


@dataclass(frozen=True)
class TriggerState:
    type: str
    name: str
    qualifier: str
    desc: str  # canonical: a cron rule, or sorted JSON of a function URL's settings
    enable: bool
    argument: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.name)

    def summary(self) -> str:
        state = "enabled" if self.enable else "disabled"
        if self.type == "timer":
            return f"cron '{self.desc}', argument {self.argument}, {state}, {self.qualifier}"
        url = json.loads(self.desc)
        net = url["NetConfig"]
        nets = [n for n in ("Extranet", "Intranet") if net[f"Enable{n}"]]
        return f"authType {url['AuthType']}, {' + '.join(nets).lower()}, {state}, {self.qualifier}"

    def changes_from(self, old: TriggerState) -> str:
        """What an UpdateTrigger changes, field by field."""
        shown = []
        if old.desc != self.desc and self.type == "timer":
            shown.append(f"cron '{old.desc}' -> '{self.desc}'")
        elif old.desc != self.desc:
            shown.append(f"{old.summary()} -> {self.summary()}")
        if old.argument != self.argument:
            shown.append(f"argument {old.argument or '(none)'} -> {self.argument}")
        if old.enable != self.enable:
            shown.append("enabled" if self.enable else "disabled")
        return "; ".join(shown)


@dataclass(frozen=True)
class AsyncRetry:
    retry_num: int
    msg_ttl: int


#: What SCF reports for a function nobody has configured (583/41138).
SCF_DEFAULT_RETRY = AsyncRetry(retry_num=2, msg_ttl=21600)


@dataclass(frozen=True)
class Wanted:
    namespace: str
    name: str
    settings: Settings
    code_sha256: str
    code_bytes: int
    retry: AsyncRetry
    triggers: tuple[TriggerState, ...]


@dataclass(frozen=True)
class Current:
    status: str
    settings: Settings
    code_sha256: str | None
    retry: AsyncRetry
    triggers: tuple[TriggerState, ...]
    unmanaged: tuple[str, ...] = ()  # "cos my-bucket": triggers of types not managed here
    function_url: str | None = None


@dataclass(frozen=True)
class Plan:
    create_function: bool
    update_code: bool
    config_fields: tuple[str, ...]  # UpdateFunctionConfiguration fields that differ
    update_retry: bool
    delete_triggers: tuple[TriggerState, ...]
    update_triggers: tuple[TriggerState, ...]
    create_triggers: tuple[TriggerState, ...]
    lines: tuple[Line, ...] = ()

    @property
    def changes(self) -> bool:
        return any(line.action in ("create", "update", "delete") for line in self.lines)


def wanted_from(
    inputs: Inputs,
    environment: Mapping[str, str],
    zip_bytes: bytes,
    network: Network | None = None,
) -> Wanted:
    triggers = [
        TriggerState("timer", t.trigger_name, t.parameters.qualifier,
                     cron.normalize(t.parameters.cron_expression), t.parameters.enable,
                     t.parameters.argument)
        for t in inputs.timers
    ]  # fmt: skip
    if inputs.http is not None:
        params = inputs.http.parameters
        desc = url_desc(
            params.auth_type, params.net_config.enable_intranet, params.net_config.enable_extranet
        )
        triggers.append(TriggerState("http", params.name, params.qualifier, desc, True, ""))
    settings = Settings(
        handler=inputs.handler,
        runtime=inputs.runtime,
        memory_size=inputs.memory_size,
        timeout=inputs.timeout,
        role=inputs.role,
        description=inputs.description,
        environment=dict(sorted(environment.items())),
        vpc=network.vpc if network else None,
        cls=network.cls if network else None,
    )
    return Wanted(
        namespace=inputs.namespace,
        name=inputs.name,
        settings=settings,
        code_sha256=hashlib.sha256(zip_bytes).hexdigest(),
        code_bytes=len(zip_bytes),
        retry=AsyncRetry(inputs.retry_num, inputs.msg_ttl),
        triggers=tuple(triggers),
    )


def url_desc(auth_type: str, intranet: bool, extranet: bool) -> str:
    """The function URL settings we compare (SCF adds the URLs themselves when reading back)."""
    net = {"EnableExtranet": extranet, "EnableIntranet": intranet}
    return json.dumps({"AuthType": auth_type, "NetConfig": net}, sort_keys=True)


def make_plan(wanted: Wanted, current: Current | None) -> Plan:
    lines: list[Line] = []
    if current is None:
        lines.append(Line("create", f"function {wanted.name}", f"namespace {wanted.namespace}"))
        lines += _setting_lines(wanted, None)
        lines += _trigger_lines(wanted.triggers, (), ())
        return Plan(
            create_function=True,
            update_code=False,
            config_fields=(),
            update_retry=wanted.retry != SCF_DEFAULT_RETRY,
            delete_triggers=(),
            update_triggers=(),
            create_triggers=wanted.triggers,
            lines=tuple(lines),
        )
    if current.settings.runtime != wanted.settings.runtime:
        raise PlanError(
            f"runtime {current.settings.runtime} -> {wanted.settings.runtime}: SCF cannot change "
            "the runtime of an existing function; delete it or deploy under another name"
        )
    lines.append(Line("no change", f"function {wanted.name}", f"status {current.status}"))
    lines += _setting_lines(wanted, current)
    # Subjects are "code", "memorySize", ..., "env NAME": their first word says what changed.
    changed = {line.subject.split()[0] for line in lines if line.action in CHANGES}
    config_fields: list[str] = [
        n for n in ("memorySize", "timeout", "role", "description", "vpcConfig", "cls")
        if n in changed
    ]  # fmt: skip
    if "env" in changed:
        config_fields.append("environment")
    by_key = {t.key: t for t in current.triggers}
    wanted_keys = {t.key for t in wanted.triggers}
    deletes = [t for t in current.triggers if t.key not in wanted_keys]
    updates: list[TriggerState] = []
    creates: list[TriggerState] = []
    for trigger in wanted.triggers:
        old = by_key.get(trigger.key)
        if old is None:
            creates.append(trigger)
        elif old.qualifier != trigger.qualifier:
            deletes.append(old)  # a trigger cannot move to another qualifier: recreate it
            creates.append(trigger)
        elif old != trigger:
            updates.append(trigger)
    lines += _trigger_lines(wanted.triggers, current.triggers, current.unmanaged)
    return Plan(
        create_function=False,
        update_code="code" in changed or "handler" in changed,
        config_fields=tuple(config_fields),
        update_retry="asyncRetry" in changed,
        delete_triggers=tuple(deletes),
        update_triggers=tuple(updates),
        create_triggers=tuple(creates),
        lines=tuple(lines),
    )


def _setting_lines(wanted: Wanted, current: Current | None) -> list[Line]:
    new, old = wanted.settings, current.settings if current else None
    size = f"{wanted.code_bytes / 1_000_000:.1f} MB"
    old_sha = current.code_sha256 if current else None
    rows: list[tuple[str, object, object, str]] = [
        ("code", wanted.code_sha256, old_sha, f"sha256 {wanted.code_sha256[:12]}, {size}"),
        ("handler", new.handler, old.handler if old else None, new.handler),
        ("runtime", new.runtime, old.runtime if old else None, new.runtime),
        ("memorySize", new.memory_size, old.memory_size if old else None, f"{new.memory_size} MB"),
        ("timeout", new.timeout, old.timeout if old else None, f"{new.timeout} s"),
    ]
    if new.role is not None:
        rows.append(("role", new.role, old.role if old else None, new.role))
    if new.description is not None:
        rows.append(("description", new.description, old.description if old else None, ""))
    retry = wanted.retry
    old_retry = current.retry if current else SCF_DEFAULT_RETRY
    retry_detail = f"retryNum {retry.retry_num}, msgTTL {retry.msg_ttl} s"
    rows.append(("asyncRetry", retry, old_retry, retry_detail))
    lines = []
    for subject, value, before, detail in rows:
        if current is None:  # all of it is part of the new function, SCF's defaults included
            lines.append(Line("create", subject, detail))
        else:
            action: Action = "no change" if value == before else "update"
            shown = detail if action == "update" or subject != "code" else detail.split(",")[0]
            lines.append(Line(action, subject, shown))
    wanted_network = Network(new.vpc, new.cls)
    now = (old.vpc, old.cls) if old else (None, None)
    lines += plan_rows(wanted_network, *now, creating=old is None)
    old_env = old.environment if old else {}
    for key in sorted({*new.environment, *old_env}):
        if key not in old_env:
            lines.append(Line("create", f"env {key}"))
        elif key not in new.environment:
            lines.append(Line("delete", f"env {key}"))
        else:
            same = old_env[key] == new.environment[key]
            lines.append(Line("no change" if same else "update", f"env {key}", "value"))
    return lines


def _trigger_lines(
    wanted: tuple[TriggerState, ...], current: tuple[TriggerState, ...], unmanaged: tuple[str, ...]
) -> list[Line]:
    by_key = {t.key: t for t in current}
    lines = []
    for trigger in wanted:
        subject = f"trigger {trigger.type} {trigger.name}"
        old = by_key.get(trigger.key)
        if old is None:
            lines.append(Line("create", subject, trigger.summary()))
        elif old.qualifier != trigger.qualifier:
            lines.append(Line("delete", subject, f"bound to {old.qualifier}"))
            lines.append(Line("create", subject, trigger.summary()))
        elif old == trigger:
            lines.append(Line("no change", subject, trigger.summary()))
        else:
            lines.append(Line("update", subject, trigger.changes_from(old)))
    wanted_keys = {t.key for t in wanted}
    for old in current:
        if old.key not in wanted_keys:
            lines.append(Line("delete", f"trigger {old.type} {old.name}", old.summary()))
    lines += [Line("ignored", f"trigger {name}", "type not managed here") for name in unmanaged]
    return lines
