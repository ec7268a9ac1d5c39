"""`api_keys:` beyond its shape: the variables named by `sha256_env` (needed at deploy, and a
digest when set), and senders that SESRELAY_ALLOWED_SENDERS would never let the key use."""

from __future__ import annotations

from pydantic import ValidationError

from sesrelay.config.api_keys import ApiKeyConfig, digest_of
from sesrelay.config.check.environment import Environment, Need
from sesrelay.config.model import ConfigProblem


def api_key_problems(raw: object, env: Environment) -> tuple[list[ConfigProblem], list[Need]]:
    """Problems and needs of each named key (its shape is reported with the file's)."""
    if not isinstance(raw, dict):
        return [], []
    problems: list[ConfigProblem] = []
    needs: list[Need] = []
    for name, entry in raw.items():
        try:
            key = ApiKeyConfig.model_validate(entry)
        except ValidationError:
            continue
        prefix = f"api_keys.{name}"
        if key.sha256_env:
            needs.append(Need(key.sha256_env, f"{prefix}.sha256_env"))
            value = env.value(key.sha256_env)
            if value is not None:
                problems += _digest_problem(f"{prefix}.sha256_env", key.sha256_env, value)
        problems += _sender_problems(prefix, key, env.allowed_senders)
    return problems, needs


def _digest_problem(path: str, variable: str, value: str) -> list[ConfigProblem]:
    try:
        digest_of(value)
    except ValueError:
        message = f"{variable} does not hold a SHA-256 hex digest (64 hex characters)"
        return [ConfigProblem(path, message)]
    return []


def _sender_problems(prefix: str, key: ApiKeyConfig, allowed: list[str]) -> list[ConfigProblem]:
    """A key sender that no entry of SESRELAY_ALLOWED_SENDERS admits: the key could never use it."""
    if not allowed:
        return []
    entries = [entry.lower() for entry in allowed]
    found = []
    for index, sender in enumerate(key.senders):
        if not any(_overlaps(sender, entry) for entry in entries):
            message = (
                f"{sender} is outside SESRELAY_ALLOWED_SENDERS ({', '.join(allowed)}); "
                "the key could never send from it"
            )
            found.append(ConfigProblem(f"{prefix}.senders.{index}", message))
    return found


def _overlaps(sender: str, entry: str) -> bool:
    """Whether some address is both the key's `sender` and the allowlist's `entry`."""
    sender_domain, entry_domain = sender.rpartition("@")[2], entry.rpartition("@")[2]
    if sender.startswith("@") or entry.startswith("@"):
        return sender_domain == entry_domain
    return sender == entry
