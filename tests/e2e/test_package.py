"""`sesrelay package` builds the real SCF zip (pip fetches the manylinux wheels): two builds give
the same bytes, the zip tests clean, its compiled code is for CPython 3.10 manylinux x86_64, and
CPython 3.10 imports the handler from the unzipped tree alone."""

from __future__ import annotations

import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sesrelay.deploy.package import wheel_tag_fits

ROOT = Path(__file__).resolve().parents[2]
MAX_ZIP_BYTES = 10 * 1024 * 1024  # the project's target; SCF itself takes 50 MB
_WHEEL_TAG = re.compile(r"^cp310-(cp310|abi3)-manylinux(?:(2014|2010|1)|_(\d+)_(\d+))_x86_64$")


@dataclass(frozen=True)
class Builds:
    inputs: Path  # a snapshot of the repository's inputs
    first: Path
    second: Path  # the same command again, on the same inputs
    printed: str


def snapshot(target: Path) -> Path:
    """The package's inputs, frozen: the working tree may change while the builds run."""
    shutil.copytree(ROOT / "lib", target / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("handler.py", "sesrelay.yaml", "requirements.txt", "requirements-scf.txt"):
        shutil.copyfile(ROOT / name, target / name)
    return target


def package(inputs: Path, output: Path, staging: Path, cache: Path) -> str:
    """Run `sesrelay package` as a user does; returns what it printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    command = [
        sys.executable, "-m", "sesrelay", "package", "--root", str(inputs),
        "--output", str(output), "--build-dir", str(staging), "--pip-cache", str(cache),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    work = tmp_path_factory.mktemp("package")
    inputs = snapshot(work / "inputs")
    cache = work / "pip-cache"  # shared by both builds: the second one downloads nothing
    printed = package(inputs, work / "first.zip", work / "stage-1", cache)
    package(inputs, work / "second.zip", work / "stage-2", cache)
    return Builds(inputs, work / "first.zip", work / "second.zip", printed)


@pytest.fixture(scope="module")
def archive(builds: Builds) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(builds.first) as opened:
        yield opened


@pytest.fixture(scope="module")
def unzipped(builds: Builds, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(builds.first) as opened:
        opened.extractall(tree)
    return tree


def test_two_builds_give_the_same_bytes_and_the_size_is_printed(builds: Builds) -> None:
    first, second = builds.first.read_bytes(), builds.second.read_bytes()
    assert first == second
    assert f"MB ({len(first)} bytes)" in builds.printed
    assert len(first) <= MAX_ZIP_BYTES, f"{len(first)} bytes"


def test_the_zip_tests_clean_with_fixed_entries(builds: Builds, archive: zipfile.ZipFile) -> None:
    assert archive.testzip() is None
    if shutil.which("unzip"):
        checked = subprocess.run(
            ["unzip", "-tq", str(builds.first)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        assert info.external_attr >> 16 == 0o100644, info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename


def test_layout_has_the_function_and_leaves_out_the_rest(
    builds: Builds, archive: zipfile.ZipFile
) -> None:
    names = set(archive.namelist())
    assert {"handler.py", "sesrelay.yaml", "lib/sesrelay/__init__.py", "lib/sesrelay/py.typed"} <= (
        names
    )
    assert archive.read("sesrelay.yaml") == (builds.inputs / "sesrelay.yaml").read_bytes()
    assert archive.read("handler.py") == (builds.inputs / "handler.py").read_bytes()
    tops = {name.split("/", 1)[0] for name in names}
    for needed in ("pydantic", "pydantic_core", "tencentcloud", "yaml", "jmespath", "redis"):
        assert needed in tops, needed
    for left_out in ("tests", "events", "benchmarks", "bin", "build", "dist", ".venv"):
        assert left_out not in tops, left_out
    for name in names:
        assert "__pycache__" not in name, name
        assert not name.endswith((".pyc", "direct_url.json", ".sesrelay-package")), name
        assert not name.startswith(("lib/sesrelay/emulator/", "lib/sesrelay/deploy/")), name
    assert "tencentcloud/ses/v20201002/ses_client.py" in names
    assert not any(name.startswith("tencentcloud/scf/") for name in names)  # deploy-only SDK


def test_compiled_extensions_are_cp310_manylinux_x86_64(archive: zipfile.ZipFile) -> None:
    names = archive.namelist()
    owners = _record_owners(archive)
    extensions = [name for name in names if name.endswith(".so")]
    assert any(name.startswith("pydantic_core/") for name in extensions)
    for name in extensions:
        assert name.endswith(".cpython-310-x86_64-linux-gnu.so"), name
        header = archive.read(name)[:20]
        assert header[:4] == b"\x7fELF", name
        assert header[4] == 2, f"{name}: not 64-bit"
        assert int.from_bytes(header[18:20], "little") == 62, f"{name}: not x86_64"
        wheel = archive.read(f"{owners[name]}/WHEEL").decode()
        tags = [line[5:] for line in wheel.splitlines() if line.startswith("Tag: ")]
        assert any(_fits_scf(tag) for tag in tags), f"{name}: {tags}"


def test_the_handler_imports_under_python_3_10(unzipped: Path) -> None:
    for source in [unzipped / "handler.py", *sorted((unzipped / "lib").rglob("*.py"))]:
        ast.parse(source.read_text(encoding="utf-8"), str(source), feature_version=(3, 10))
    python = _python310()
    if python is None:
        pytest.skip(
            "no CPython 3.10 interpreter (set SESRELAY_PYTHON310): only the pure-Python part "
            "was checked, by parsing it as Python 3.10; the wheels were not imported"
        )
    probe = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(unzipped)!r})\n"
        "import handler\n"
        "event = {'httpMethod': 'GET', 'path': '/v1/health', 'headers': {}, 'body': ''}\n"
        "reply = handler.main_handler(event, {'request_id': 'probe', 'time_limit_in_ms': 3000})\n"
        "import pydantic_core, yaml, jmespath, redis\n"
        "mods = [pydantic_core.__file__, yaml.__file__, jmespath.__file__, redis.__file__]\n"
        "print(json.dumps({'reply': reply, 'modules': mods, 'version': sys.version_info[:2],\n"
        "                  'libyaml': yaml.__with_libyaml__}))\n"
    )
    # -I -S: no user or site packages, so everything must come from the unzipped tree.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(unzipped), "SESRELAY_STATE_URL": "memory://"}
    done = subprocess.run(
        [python, "-I", "-S", "-c", probe],
        capture_output=True, text=True, env=env, cwd=unzipped, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["version"] == [3, 10]
    assert result["reply"]["statusCode"] == 200
    assert json.loads(result["reply"]["body"])["status"] == "ok"
    assert result["libyaml"] is True  # PyYAML's compiled part loaded too
    for module in result["modules"]:
        assert module.startswith(str(unzipped)), module


def _record_owners(archive: zipfile.ZipFile) -> dict[str, str]:
    """file in the zip -> the .dist-info directory whose RECORD lists it."""
    owners = {}
    for name in archive.namelist():
        if name.endswith(".dist-info/RECORD"):
            dist = name.rsplit("/", 1)[0]
            for line in archive.read(name).decode().splitlines():
                owners[line.split(",", 1)[0]] = dist
    return owners


def _fits_scf(tag: str) -> bool:
    """A wheel tag that CPython 3.10 on CentOS 7 (glibc 2.17) x86_64 loads."""
    match = _WHEEL_TAG.match(tag)
    if match is None:
        return False
    if match.group(2):
        return True  # manylinux1/2010/2014: glibc 2.5/2.12/2.17
    return (int(match.group(3)), int(match.group(4))) <= (2, 17)


def _python310() -> str | None:
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [
        os.environ.get("SESRELAY_PYTHON310"),
        shutil.which("python3.10"),
        *sorted(glob.glob(f"{pyenv}/versions/3.10*/bin/python3.10")),
    ]
    for candidate in filter(None, candidates):
        # A pyenv shim exists even when 3.10 is not selected; ask the interpreter itself.
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if probe.stdout.strip() == "True":
            return candidate
    return None


@pytest.mark.parametrize(
    ("tag", "fits"),
    [
        ("cp310-cp310-manylinux2014_x86_64", True),
        ("cp310-cp310-manylinux_2_17_x86_64", True),
        ("cp310-cp310-manylinux1_x86_64", True),
        ("cp37-abi3-manylinux_2_12_x86_64", True),
        ("py3-none-any", True),
        ("cp310-cp310-manylinux_2_28_x86_64", False),  # newer glibc than CentOS 7's 2.17
        ("cp311-cp311-manylinux2014_x86_64", False),
        ("cp310-cp310-manylinux2014_aarch64", False),
        ("cp310-cp310-musllinux_1_1_x86_64", False),
    ],
)
def test_the_packagers_own_tag_check(tag: str, fits: bool) -> None:
    assert wheel_tag_fits(tag) is fits
