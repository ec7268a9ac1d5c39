"""The production shape `sesrelay deploy` checks before it changes anything: the state store a
fleet shares, and the network that reaches it. Each finding is one sentence with its reason; the
plan shows them as warnings, and `--strict` makes them stop the deploy.

How many instances can run: `serverless.yml` (Tencent's component format) has no key that caps
them. Reserved and provisioned concurrency are separate SCF settings, outside the file, and
`instanceConcurrencyConfig` (requests per instance, which sesrelay refuses) is not a cap on
instances either. So every function the file describes may run on more than one instance, and
the check always applies.
"""

from __future__ import annotations

from collections.abc import Mapping

from sesrelay.deploy.network import Network, Vpc

STATE_VARIABLE = "SESRELAY_STATE_URL"
_SHARED = ("redis", "rediss")
_WHY_SHARED = (
    "SCF runs the function on as many instances as traffic needs and each keeps its own /tmp, so "
    "idempotency keys and timer and webhook dedupe would hold per instance only and a retry "
    "reaching another instance could send twice: point it at TencentDB for Redis "
    "(redis://... or rediss://...)"
)
_WHY_VPC = "TencentDB for Redis answers only inside its VPC, so the function could not reach it"


def findings(environment: Mapping[str, str], wanted: Network, vpc_now: Vpc | None) -> list[str]:
    """What keeps the function from the production shape; `environment` is the function's (as
    resolved), `vpc_now` what SCF reports (None for a function not created yet)."""
    url = environment.get(STATE_VARIABLE, "")
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if not url:
        return [f"{STATE_VARIABLE} is not set for the function; {_WHY_SHARED}"]
    if scheme not in _SHARED:
        shown = f"a {scheme}:// URL" if scheme else "not a URL"
        return [f"{STATE_VARIABLE} is {shown}; {_WHY_SHARED}"]
    if scheme != "redis":
        return []  # rediss:// is TLS: a Redis outside the VPC, reached over the internet, is fine
    if wanted.vpc is None:
        kept = ""
        if vpc_now is not None and vpc_now.vpc_id:
            kept = (
                f" (it is in {vpc_now} now, set outside serverless.yml: name that VPC in "
                "inputs.vpcConfig so that every deploy keeps it)"
            )
        return [
            f"{STATE_VARIABLE} is a redis:// URL but serverless.yml names no vpcConfig; "
            f"{_WHY_VPC}{kept}"
        ]
    if not wanted.vpc.vpc_id:
        return [
            f"{STATE_VARIABLE} is a redis:// URL but serverless.yml says vpcConfig: {{}} (no "
            f"VPC); {_WHY_VPC}"
        ]
    return []
