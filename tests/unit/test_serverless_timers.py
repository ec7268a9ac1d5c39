"""Every timer of the shipped serverless.yml, and of each `component: scf` example in the docs,
says `enable: true` itself. `sesrelay deploy` reads a missing `enable` as true, but Tencent's
`scf` component creates such a timer disabled: the file must mean the same to both tools."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def timers(document: Any) -> list[tuple[str, Any]]:
    """(a name for the message, the `enable` value or the absent marker) per timer event."""
    events = (document.get("inputs") or {}).get("events") or []
    found = []
    for index, event in enumerate(events):
        if isinstance(event, dict) and "timer" in event:
            params = (event["timer"] or {}).get("parameters") or {}
            found.append((f"events[{index}] {params.get('name')}", params.get("enable", "absent")))
    return found


def explicit_problems(text: str) -> list[str]:
    return [f"{name}: enable is {value!r}" for name, value in timers(yaml.safe_load(text))
            if value is not True]  # fmt: skip


def doc_examples() -> list[str]:
    """The `component: scf` YAML blocks of README.md and docs/**/*.md."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    blocks = [b for page in pages for b in _YAML_BLOCK.findall(page.read_text(encoding="utf-8"))]
    return [block for block in blocks if re.search(r"^component: scf$", block, re.MULTILINE)]


def test_every_shipped_timer_is_explicitly_enabled() -> None:
    text = (ROOT / "serverless.yml").read_text(encoding="utf-8")
    assert len(timers(yaml.safe_load(text))) >= 2  # weekly-digest and campaigns-finisher
    assert explicit_problems(text) == []


def test_the_timers_guide_shows_a_component_example() -> None:
    """docs/timers.md shows the trigger as `serverless.yml` writes it; if it moves, this test
    should follow it rather than silently check nothing."""
    guide = (ROOT / "docs" / "timers.md").read_text(encoding="utf-8")
    assert any(re.search(r"^component: scf$", b, re.MULTILINE) for b in _YAML_BLOCK.findall(guide))


@pytest.mark.parametrize("example", doc_examples())
def test_every_documented_timer_is_explicitly_enabled(example: str) -> None:
    assert explicit_problems(example) == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("", "events[0] t: enable is 'absent'"),
        ("          enable: false\n", "events[0] t: enable is False"),
        ("          enable: 'true'\n", "events[0] t: enable is 'true'"),
    ],
    ids=["absent", "false", "a-string"],
)
def test_a_timer_without_an_explicit_true_is_reported(line: str, problem: str) -> None:
    text = (
        "component: scf\ninputs:\n  events:\n    - timer:\n        parameters:\n"
        "          name: t\n" + line
    )
    assert explicit_problems(text) == [problem]
