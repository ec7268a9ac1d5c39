"""The shell examples of README.md and docs/**/*.md run as documented: each block either runs
here, for real (its servers, its curls, its expected output), or says in the Markdown why not
(`<!-- not-run: REASON -->`). How blocks are read and run: tests/e2e/readme_blocks.py.

Ports: the examples use fixed, distinct ports (8000 `make run`, 8001 and 8002 the webhook
examples, 8025 the emulator that `sesrelay invoke` looks for), so a user can paste them as they
are. Each block runs in a network namespace of its own, so those ports are always free here,
nothing clashes with what runs on the machine, and nothing but loopback is reachable.
"""

from __future__ import annotations

import os
import re
import socket
from datetime import date
from pathlib import Path

import pytest

from tests.e2e import readme_blocks
from tests.e2e.readme_blocks import Block, fragments, parse, problems, run

BLOCKS = readme_blocks.all_blocks()
RUNNABLE = [block for block in BLOCKS if block.not_run is None]
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _need_netns() -> None:
    missing = readme_blocks.netns_missing()
    if missing is not None:
        reason = f"blocks run in a network namespace of their own: {missing}"
        if os.environ.get("SESRELAY_REQUIRE_TOOLS") == "1":  # CI: a missing tool is a failure
            pytest.fail(reason)
        pytest.skip(reason)


def _report(block: Block, found: list[str], result: readme_blocks.Result) -> str:
    return (
        f"{block.name} ({block.lang}): " + "; ".join(found)
        + f"\n--- block\n{block.text}--- stdout (end)\n{result.stdout[-3000:]}"
        + f"\n--- stderr (end)\n{result.stderr[-3000:]}"
    )  # fmt: skip


# --- the documents -----------------------------------------------------------------------------


#: The guides written around commands: each shows at least one that runs here.
GUIDES_WITH_COMMANDS = [
    "README.md", "docs/http-api.md", "docs/timers.md", "docs/webhooks.md",
    "docs/delivery-events.md", "docs/campaigns.md", "docs/templates.md", "docs/emulator.md",
    "docs/configuration.md", "docs/deploy.md",
]  # fmt: skip


def test_the_readme_and_each_guide_have_runnable_examples() -> None:
    runnable = {block.path for block in RUNNABLE}
    missing = [path for path in GUIDES_WITH_COMMANDS if path not in runnable]
    assert missing == [], [block.name for block in BLOCKS]


def test_every_block_not_run_says_why() -> None:
    silent = [block.name for block in BLOCKS if block.not_run == ""]
    assert not silent, f"give these a reason: <!-- not-run: REASON -->: {silent}"


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda block: block.name)
def test_block_runs_as_documented(block: Block, tmp_path: Path) -> None:
    _need_netns()
    result = run(block, tmp_path)
    found = problems(block, result)
    assert not found, _report(block, found, result)


def test_no_runnable_block_holds_a_past_date() -> None:
    """A literal date in a command rots (BeginTime must be in the future): compute it instead,
    e.g. `$(TZ=Asia/Shanghai date -d tomorrow '+%Y-%m-%d 09:00:00')`."""
    today = date.today()
    stale = []
    for block in RUNNABLE:
        for line in block.script().splitlines():
            command = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
            for year, month, day in _DATE.findall(command):
                if date(int(year), int(month), int(day)) < today:
                    stale.append(f"{block.name}: {line.strip()}")
    assert not stale, stale


# --- the checker itself ------------------------------------------------------------------------

SAMPLE = """\
Intro.

<!-- not-run: needs a Tencent Cloud account -->
```sh
sesrelay deploy
```

<!-- not-run: -->
```bash
make run
```

```sh
echo '{"ok": false, "status": "sent"}'   # {"ok": false, "status": "sent", ...}
echo 'campaign cmp_1: scheduled'         # prints: campaign ...: scheduled
```

```json
{"ok": false, "MessageId": "..."}
```

```console
$ echo hello world
hello ... world
```

```yaml
not: a shell block
```
"""


def test_blocks_markers_and_expected_output_are_read() -> None:
    deploy, make, echo, console = parse(SAMPLE, "SAMPLE.md")
    assert (deploy.line, deploy.not_run) == (4, "needs a Tencent Cloud account")
    assert make.not_run == ""
    assert echo.not_run is None
    assert echo.output == '{"ok": false, "MessageId": "..."}'
    jsonish, printed = echo.expectations()
    assert jsonish == ['"ok":false', '"status":"sent"']
    assert isinstance(printed, re.Pattern)
    assert printed.search("campaign cmp_1: scheduled")
    assert echo.output is not None
    assert fragments(echo.output) == ['"ok":false']  # "..." values are not checked
    assert console.script() == "echo hello world\n"


def _block(text: str) -> Block:
    return Block("SELF-TEST.md", 1, "sh", text)


def test_a_block_that_fails_midway_is_reported(tmp_path: Path) -> None:
    _need_netns()
    block = _block("echo before\nfalse\necho after   # prints: after\n")
    found = problems(block, run(block, tmp_path))
    assert "exited 1" in found
    assert any("after" in problem for problem in found)  # `set -e`: it stopped at `false`


def test_output_other_than_documented_is_reported(tmp_path: Path) -> None:
    _need_netns()
    block = _block('echo \'{"status": "ignored"}\'   # {"status": "sent", ...}\n')
    assert problems(block, run(block, tmp_path)) == ["""output lacks ['"status":"sent"']"""]


def test_a_block_that_matches_its_documentation_passes(tmp_path: Path) -> None:
    _need_netns()
    block = _block('echo \'{"ok":true,\n "status": "sent"}\'   # {"status": "sent", ...}\n')
    assert problems(block, run(block, tmp_path)) == []


def test_what_a_block_leaves_running_is_reported_and_killed(tmp_path: Path) -> None:
    _need_netns()
    block = _block('sleep 300 &\necho "pid $!"\n')
    result = run(block, tmp_path, grace=0.2)
    assert problems(block, result) == ["left 1 process(es) running: stop what it starts"]
    [sleeper] = result.left_running
    assert f"pid {sleeper}" in result.stdout
    state = Path(f"/proc/{sleeper}/stat")  # gone, or a zombie waiting for init to reap it
    assert not state.exists() or state.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_blocks_have_private_ports_and_no_network(tmp_path: Path) -> None:
    _need_netns()
    with socket.socket() as held:  # a port taken on the machine is free inside the block
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        block = _block(
            f"python3 -c \"import socket; socket.socket().bind(('127.0.0.1', {port}))\"\n"
            "echo bound   # prints: bound\n"
            "if curl -s -m 5 http://192.0.2.1/ ; then echo reached; else echo unreachable; fi\n"
            "# prints: unreachable\n"
        )
        result = run(block, tmp_path)
    assert problems(block, result) == [], result.stderr
