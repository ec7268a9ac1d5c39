"""The templates step of `sesrelay deploy`: the same sync as `sesrelay templates sync` (without
`--prune`: a deploy never deletes a template), planned with the function, applied after it.

Which SES: the account of the deployer's credentials, in the region the function sends from
(its SESRELAY_SES_REGION, as serverless.yml sets it), at `--ses-endpoint`, else at `--endpoint`
when that is a loopback emulator (which serves SES and SCF on one port), else at the region's
SES host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sesrelay.clock import Clock
from sesrelay.deploy.converge import DeployError
from sesrelay.errors import RelayError
from sesrelay.templates.account import Account
from sesrelay.templates.folder import TemplateFile
from sesrelay.templates.sync import Plan, apply_plan, read_plan

Say = Callable[[str], None]


def ses_endpoint(region: str, ses_endpoint: str | None, loopback_scf: str | None) -> str:
    """Where the templates go: `--ses-endpoint`, else the SCF endpoint when it is a loopback
    emulator (`loopback_scf`, None otherwise), else the region's SES host."""
    from sesrelay.settings import SES_HOSTS

    if ses_endpoint:
        return ses_endpoint
    if loopback_scf:
        return loopback_scf
    host = SES_HOSTS.get(region)
    if host is None:
        raise DeployError(
            f"SESRELAY_SES_REGION {region!r} has no known SES endpoint: pass --ses-endpoint, "
            "or --no-templates"
        )
    return f"https://{host}"


@dataclass
class TemplatesStep:
    """One deploy's templates: the folder's, the account they go to, the plan between them."""

    folder: Path
    wanted: Sequence[TemplateFile]
    account: Account
    where: str
    plan: Plan | None = None
    problems: list[str] = field(default_factory=list)

    @classmethod
    def connect(
        cls,
        folder: Path,
        wanted: Sequence[TemplateFile],
        cred: Any,
        region: str,
        endpoint: str,
        clock: Clock,
    ) -> TemplatesStep:
        """Over the official SDK with the deployer's credentials (`cred`, the SDK chain's)."""
        from sesrelay.settings import Settings
        from sesrelay.wiring import build_ses_gateway

        settings = Settings(
            environ={},  # the deployer's variables are for serverless.yml, not for this call
            secret_id=cred.secret_id,
            secret_key=cred.secret_key,
            session_token=getattr(cred, "token", None) or None,
            ses_region=region,
            ses_endpoint=endpoint,
            state_url="memory://",  # the SES rate limit, held in this process
        )
        gateway = build_ses_gateway(settings, clock)
        return cls(folder, wanted, Account(gateway, clock), f"SES {region} at {endpoint}")

    def show_plan(self, say: Say) -> None:
        """Read the account and print the plan; DeployError when SES cannot be read."""
        try:
            self.plan = read_plan(self.account, self.wanted, prune=False)
        except RelayError as exc:
            raise DeployError(
                f"cannot read the SES templates ({self.where}): {exc.code}: {exc.message}; "
                "nothing was changed (--no-templates skips them)"
            ) from None
        say(f"templates in {self.folder} -> {self.where}:")
        for step in self.plan.steps:
            say(str(step))
        self.problems += self.plan.problems

    @property
    def changes(self) -> bool:
        return bool(self.plan and self.plan.writes)

    def apply(self, say: Say) -> None:
        """Make the planned writes; what failed joins `problems`."""
        if self.plan is not None and self.plan.writes:
            self.problems += apply_plan(self.account, self.plan, say)
