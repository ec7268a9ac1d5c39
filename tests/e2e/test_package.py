"""`sesrelay package` builds the real SCF zip (pip fetches the manylinux wheels): two builds give
the same bytes, the zip tests clean, its compiled code is for CPython 3.10 manylinux x86_64, it
holds only the function (config as JSON, no development tools, no PyYAML), and CPython 3.10
imports the handler and loads the config from the unzipped tree alone."""

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

from sesrelay.config.model import load_config
from sesrelay.deploy.package import (
    PackageError,
    config_json,
    dangling_imports,
    lib_files,
    wheel_tag_fits,
)

ROOT = Path(__file__).resolve().parents[2]
MAX_ZIP_BYTES = 10 * 1024 * 1024  # the project's target; SCF itself takes 50 MB
#: Development tools: they never run on SCF, so the zip must not carry them.
DEV_TOOLS = ("lib/sesrelay/cli/", "lib/sesrelay/emulator/", "lib/sesrelay/deploy/")
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
    assert {"handler.py", "sesrelay.json", "lib/sesrelay/__init__.py", "lib/sesrelay/py.typed"} <= (
        names
    )
    assert "sesrelay.yaml" not in names
    assert archive.read("sesrelay.json") == config_json(builds.inputs / "sesrelay.yaml")
    assert archive.read("handler.py") == (builds.inputs / "handler.py").read_bytes()
    tops = {name.split("/", 1)[0] for name in names}
    for needed in ("pydantic", "pydantic_core", "tencentcloud", "jmespath", "redis"):
        assert needed in tops, needed
    for left_out in ("tests", "events", "benchmarks", "bin", "build", "dist", ".venv"):
        assert left_out not in tops, left_out
    assert not [top for top in tops if top.lower().startswith(("yaml", "_yaml", "pyyaml"))]
    for name in names:
        assert "__pycache__" not in name, name
        assert not name.endswith((".pyc", "direct_url.json", ".sesrelay-package")), name
        assert not name.startswith(DEV_TOOLS), name
    assert "lib/sesrelay/__main__.py" not in names  # `python -m sesrelay` is the CLI
    assert "lib/sesrelay/config/check/__init__.py" not in names
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


def test_the_handler_imports_under_python_3_10(builds: Builds, unzipped: Path) -> None:
    for source in [unzipped / "handler.py", *sorted((unzipped / "lib").rglob("*.py"))]:
        ast.parse(source.read_text(encoding="utf-8"), str(source), feature_version=(3, 10))
    python = _python310()
    if python is None:
        pytest.skip(
            "no CPython 3.10 interpreter (set SESRELAY_PYTHON310): only the pure-Python part "
            "was checked, by parsing it as Python 3.10; the wheels were not imported"
        )
    probe = (
        "import importlib.util, json, sys\n"
        f"sys.path.insert(0, {str(unzipped)!r})\n"
        "import handler\n"
        "event = {'httpMethod': 'GET', 'path': '/v1/health', 'headers': {}, 'body': ''}\n"
        "reply = handler.main_handler(event, {'request_id': 'probe', 'time_limit_in_ms': 3000})\n"
        "services = handler._runtime.services\n"
        "config = services.config.model_dump(mode='json')\n"
        "import pydantic_core, jmespath, redis\n"
        "mods = [pydantic_core.__file__, jmespath.__file__, redis.__file__]\n"
        "print(json.dumps({'reply': reply, 'modules': mods, 'version': sys.version_info[:2],\n"
        "                  'config': config, 'config_file': services.settings.config_path.name,\n"
        "                  'yaml': importlib.util.find_spec('yaml') is not None}))\n"
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
    assert result["config_file"] == "sesrelay.json"
    shipped = load_config(builds.inputs / "sesrelay.yaml")
    assert result["config"] == shipped.model_dump(mode="json")
    assert result["yaml"] is False  # the config was read without PyYAML: none is in the zip
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


# --- offline: what goes in, and the config as JSON (no pip, no network) -------------------------


def test_the_shipped_config_becomes_json_that_loads_to_the_same_config(tmp_path: Path) -> None:
    shipped = ROOT / "sesrelay.yaml"
    data = config_json(shipped)
    assert data == config_json(shipped)  # same file, same bytes
    assert list(json.loads(data)) == ["version", "jobs", "webhooks", "ses_events"]  # file order
    converted = tmp_path / "sesrelay.json"
    converted.write_bytes(data)
    assert load_config(converted) == load_config(shipped)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("{Subject: !!binary aGk=}", "holds a value JSON cannot carry"),
        ("{Subject: .nan}", "holds a value JSON cannot carry"),
        ("{Template: {TemplateID: 1, TemplateData: {1: a}}}", "changes when written as JSON"),
    ],
)
def test_a_config_json_cannot_carry_is_refused(tmp_path: Path, params: str, message: str) -> None:
    path = tmp_path / "sesrelay.yaml"
    path.write_text(f"jobs:\n  j:\n    action: SendEmail\n    params: {params}\n", "utf-8")
    with pytest.raises(PackageError, match=message):
        config_json(path)


def test_an_invalid_config_is_refused_with_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "sesrelay.yaml"
    path.write_text("jobs:\n  j:\n    action: Send\n", "utf-8")
    with pytest.raises(PackageError, match=r"not a valid config(.|\n)*jobs\.j\.action: must be"):
        config_json(path)


def test_only_the_function_is_shipped_and_it_imports_nothing_left_out(tmp_path: Path) -> None:
    shipped = tmp_path / "lib"
    names = []
    for source, name in lib_files(ROOT / "lib"):
        names.append(f"lib/{name}")
        (shipped / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, shipped / name)
    assert "lib/sesrelay/runtime.py" in names
    assert not [name for name in names if name.startswith(DEV_TOOLS)]
    assert "lib/sesrelay/__main__.py" not in names
    assert "lib/sesrelay/config/check/__init__.py" not in names
    assert dangling_imports(ROOT / "lib", shipped) == []


def test_shipped_code_importing_a_left_out_module_is_found(tmp_path: Path) -> None:
    files = {
        "sesrelay/__init__.py": "",
        "sesrelay/cli/__init__.py": "",
        "sesrelay/cli/main.py": "",
        "sesrelay/tool.py": "",
        "sesrelay/runtime.py": "def run() -> None:\n    from sesrelay.cli import main\n",
        "sesrelay/sub/__init__.py": "from .. import tool\n",
    }
    kept = ["sesrelay/__init__.py", "sesrelay/runtime.py", "sesrelay/sub/__init__.py"]
    source, shipped = tmp_path / "source", tmp_path / "shipped"
    for tree, names in ((source, list(files)), (shipped, kept)):
        for name in names:
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_text(files[name], "utf-8")
    assert dangling_imports(source, shipped) == [
        "sesrelay.runtime -> sesrelay.cli",
        "sesrelay.runtime -> sesrelay.cli.main",
        "sesrelay.sub -> sesrelay.tool",
    ]
