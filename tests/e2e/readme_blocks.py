"""The shell examples of the Markdown docs, read and run as a user would paste them.

A block is a fenced ```sh, ```bash, ```shell or ```console block. Conventions, in the Markdown:

- `<!-- not-run: REASON -->` on the lines just above a block: the block is not run (a Tencent
  account, PyPI, a command that never returns); the reason is required.
- Expected output, checked in order against the block's stdout:
  - a comment whose text starts with `{` or `[` (`# {"status": "sent", ...}`): every
    `"key": value` pair in it whose value is a string, number, true, false or null and holds no
    `...` must appear in the output (JSON whitespace ignored);
  - a comment `# prints: TEXT`: TEXT must appear in the output, `...` matching anything;
  - a ```json block right after the shell block (only blank lines between): what the block
    prints, read like a JSON comment but looked for anywhere in the output;
  - in a ```console block, `$ ` lines are the commands and the other lines their output, each
    read like `prints:`.

Each block runs alone, as `bash` with `set -e`, in a fresh copy of the checkout (symlinks, the
config files copied), with HOME in a temporary folder and the venv's bin first on PATH, and in a
network namespace of its own (`unshare -rn`) with only loopback up: the README's fixed ports
(8000, 8001, 8002, 8025) are always free there, nothing it starts can clash with anything on
the machine, and no block can reach the network. A block stops the servers it starts, so that
the next one a user pastes finds its ports free: whatever is still running a moment after the
block ends is reported, and killed with the block's process group. `sesrelay package` needs
PyPI, so the copy holds a small stand-in `dist/sesrelay-scf.zip` for the blocks that deploy.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
SHELLS = {"sh", "bash", "shell", "console"}
_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)")
_MARKER = re.compile(r"^<!--\s*not-run\s*:(.*?)-->\s*$")
_PAIR = re.compile(r'"((?:[^"\\]|\\.)+)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)')
_COMMENT = re.compile(r"(?:^|\s)#\s?(.*)$")
#: Entries of the checkout a block must not share with it (state, build output, caches).
_NOT_LINKED = {".git", ".sesrelay", "build", "dist", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_COPIED = ("sesrelay.yaml", "serverless.yml")
#: Folders a block may write into: copied, so that a block never changes the checkout.
_COPIED_TREES = ("templates",)
#: Brings loopback up in the fresh namespace (SIOCGIFFLAGS, SIOCSIFFLAGS | IFF_UP), then runs
#: the block; Python, so that no `ip` binary is needed.
_BOOT = (
    "import fcntl, os, socket, struct, sys\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "flags = struct.unpack('16sh', fcntl.ioctl(s, 0x8913, struct.pack('16sh', b'lo', 0)))[1]\n"
    "fcntl.ioctl(s, 0x8914, struct.pack('16sh', b'lo', flags | 1))\n"
    "os.execvp('bash', ['bash', sys.argv[1]])\n"
)


@dataclass(frozen=True)
class Block:
    """One shell block: where it is, its text, its marker and the output shown after it."""

    path: str
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    not_run: str | None = None  # the marker's reason ("" when the marker gives none)
    output: str | None = None  # a ```json block right after it

    @property
    def name(self) -> str:
        return f"{self.path}:{self.line}"

    def script(self) -> str:
        if self.lang != "console":
            return self.text
        lines = self.text.splitlines()
        return "\n".join(line[2:] for line in lines if line.startswith("$ ")) + "\n"

    def expectations(self) -> list[re.Pattern[str] | list[str]]:
        """The comments' expected output, in order: a regex for a `prints:` line (or a console
        output line), a list of fragments for a JSON comment. The ```json block after the
        block is not among them: it is what the whole block prints, looked for anywhere."""
        found: list[re.Pattern[str] | list[str]] = []
        for line in self.text.splitlines():
            if self.lang == "console" and not line.startswith("$ "):
                if line.strip():
                    found.append(_printed(line.strip()))
                continue
            comment = _COMMENT.search(line)
            said = comment.group(1).strip() if comment else ""
            if said.startswith(("{", "[")):
                found.append(fragments(said))
            elif said.startswith("prints:"):
                found.append(_printed(said.removeprefix("prints:").strip()))
        return found


def fragments(text: str) -> list[str]:
    """The concrete `"key":value` pairs of JSON-like text, whitespace around `:` removed."""
    return [f'"{k}":{v}' for k, v in _PAIR.findall(text) if "..." not in v]


def _compact(text: str) -> str:
    """JSON whitespace around `:` removed, so `"a": 1` and `"a":1` read the same."""
    return re.sub(r'"\s*:\s*', '":', text)


def _printed(text: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in _compact(text).split("...")))


def parse(markdown: str, path: str) -> list[Block]:
    """Every shell block of a Markdown text, with its marker and the output shown after it."""
    lines = markdown.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = _closing(lines, i, fence.group(1))
        lang = fence.group(2).lower()
        if lang in SHELLS:
            text = "\n".join(lines[i + 1 : end]) + "\n"
            blocks.append(
                Block(path, i + 1, lang, text, _marker(lines, i), _json_after(lines, end))
            )
        i = end + 1
    return blocks


def _closing(lines: list[str], start: int, ticks: str) -> int:
    for j in range(start + 1, len(lines)):
        if lines[j].strip() == ticks:
            return j
    return len(lines)


def _marker(lines: list[str], fence: int) -> str | None:
    j = fence - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    found = _MARKER.match(lines[j].strip()) if j >= 0 else None
    return found.group(1).strip() if found else None


def _json_after(lines: list[str], end: int) -> str | None:
    j = end + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j < len(lines) and lines[j].strip() == "```json":
        return "\n".join(lines[j + 1 : _closing(lines, j, "```")])
    return None


def documents() -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def all_blocks() -> list[Block]:
    return [
        block
        for doc in documents()
        for block in parse(doc.read_text(encoding="utf-8"), str(doc.relative_to(ROOT)))
    ]


@functools.cache
def netns_missing() -> str | None:
    """Why blocks cannot get a network namespace of their own here, or None when they can."""
    if shutil.which("unshare") is None:
        return "no `unshare` (util-linux)"
    done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True)
    if done.returncode != 0:
        return f"`unshare -rn` failed: {done.stderr.strip()} (user namespaces are off)"
    return None


@dataclass
class Result:
    """What a block did: its status (None: killed at the timeout) and its output."""

    status: int | None
    stdout: str
    stderr: str
    left_running: list[int] = field(default_factory=list)


def workdir(tmp: Path) -> tuple[Path, dict[str, str]]:
    """A fresh copy of the checkout to run a block in, and the environment to run it with."""
    work, home = tmp / "work", tmp / "home"
    work.mkdir()
    home.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in _COPIED:
            shutil.copy(entry, work / entry.name)
        elif entry.name in _COPIED_TREES:
            shutil.copytree(entry, work / entry.name)
        elif entry.name not in _NOT_LINKED:
            (work / entry.name).symlink_to(entry)
    # `sesrelay package` needs PyPI, so its block is not run; blocks that deploy get a stand-in
    # zip in its place (tests/e2e/test_package.py builds the real one).
    (work / "dist").mkdir()
    with zipfile.ZipFile(work / "dist" / "sesrelay-scf.zip", "w") as archive:
        archive.writestr("handler.py", "def main_handler(event, context):\n    return {}\n")
    venv_bin = ROOT / ".venv" / "bin"
    bin_dir = venv_bin if venv_bin.is_dir() else Path(sys.executable).parent
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
    }
    return work, env


def run(block: Block, tmp: Path, timeout: float = 45.0, grace: float = 5.0) -> Result:
    """Runs the block in its own namespace and process group; kills what it left running
    (what has not exited `grace` seconds after the block ended)."""
    work, env = workdir(tmp)
    script = tmp / "block.sh"
    script.write_text("set -e\n" + block.script(), encoding="utf-8")
    out, err = tmp / "stdout", tmp / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            ["unshare", "-rn", sys.executable, "-c", _BOOT, str(script)],
            cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            start_new_session=True,
        )  # fmt: skip
    try:
        status: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = None
    # A server the block stopped may take a moment to exit; what is still there after that
    # was left running.
    wait_until(lambda: not group_members(proc.pid), timeout=grace, interval=0.05)
    left = group_members(proc.pid)
    kill_group(proc.pid)
    proc.wait()
    text = out.read_text(encoding="utf-8", errors="replace")
    return Result(status, text, err.read_text(encoding="utf-8", errors="replace"), left)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(stat.parent.name))
    return found


def kill_group(pgid: int) -> None:
    """SIGTERM to the group, SIGKILL to whatever is still there after five seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        if wait_until(lambda: not group_members(pgid), timeout=5.0, interval=0.05):
            return


def problems(block: Block, result: Result) -> list[str]:
    """What went wrong: a failed or timed-out run, or expected output that is not there."""
    found = []
    if result.status is None:
        found.append("did not finish in time (a server left in the foreground?)")
    elif result.status != 0:
        found.append(f"exited {result.status}")
    if result.left_running:
        found.append(f"left {len(result.left_running)} process(es) running: stop what it starts")
    output = _compact(result.stdout)
    if block.output is not None:
        missing = [part for part in fragments(block.output) if part not in output]
        if missing:
            found.append(f"output lacks {missing} (the json block after it)")
    pos = 0
    for expected in block.expectations():
        if isinstance(expected, re.Pattern):
            match = expected.search(output, pos)
            if match is None:
                found.append(f"no output matching {expected.pattern!r}")
                continue
            pos = match.start() + 1
            continue
        starts = [output.find(fragment, pos) for fragment in expected]
        missing = [fragment for fragment, at in zip(expected, starts, strict=True) if at < 0]
        if missing:
            found.append(f"output lacks {missing}")
        elif starts:
            pos = min(starts) + 1
    return found
