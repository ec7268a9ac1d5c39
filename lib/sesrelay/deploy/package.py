"""`sesrelay package`: the SCF zip for Python 3.10, byte-for-byte reproducible.

Layout: handler.py, sesrelay.json and lib/ at the root (SCF imports the handler module from the
zip's root), beside the manylinux2014 x86_64 CPython 3.10 wheels of requirements-scf.txt. Only
code the function runs goes in: tests, events, benchmarks, caches and the development tools
(CLI, emulator, deploy, config checker) stay out. sesrelay.yaml is shipped as JSON, so the
function needs no YAML parser. Same inputs, same bytes: sorted entries, a fixed timestamp and
mode, one compression level, no install-time variance.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
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

PLATFORM = "manylinux2014_x86_64"  # glibc 2.17: SCF runs CentOS 7 (583/55594)
PYTHON_VERSION = "3.10"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
FILE_MODE = 0o100644  # regular file, rw-r--r--
COMPRESS_LEVEL = 9
MARKER = ".sesrelay-package"  # marks a staging dir as ours, so cleaning it is safe
#: lib/ parts that never run on SCF: the command line (and `python -m sesrelay`), the local
#: emulator, deploy (it needs the SCF SDK), the offline config checker and the CSV reader of
#: `sesrelay campaign`. `dangling_imports` refuses a build whose shipped code imports one.
DEV_ONLY = (
    "sesrelay/cli/",
    "sesrelay/__main__.py",
    "sesrelay/emulator/",
    "sesrelay/deploy/",
    "sesrelay/config/check/",
    "sesrelay/campaigns/csv.py",
    "sesrelay/templates/",
)
CONFIG_YAML = "sesrelay.yaml"
CONFIG_JSON = "sesrelay.json"  # what the function reads first (settings.default_config_path)
_EXT_TAG = re.compile(r"\.cpython-310-x86_64-linux-gnu\.so$|\.abi3\.so$")
_WHEEL_TAG = re.compile(r"^(cp310|cp3\d|py3)-(cp310|abi3|none)-(manylinux\w*_x86_64|any)$")
_MANYLINUX_GLIBC = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


class PackageError(Exception):
    pass


@dataclass(frozen=True)
class PackageResult:
    path: Path
    size: int
    files: int
    sha256: str

    def describe(self) -> str:
        return (
            f"{self.path}: {self.size / 1_000_000:.2f} MB ({self.size} bytes), "
            f"{self.files} files, sha256 {self.sha256}"
        )


def build_package(
    root: Path,
    *,
    output: Path,
    staging: Path,
    requirements: Path,
    pip_cache: Path | None = None,
    python: str = sys.executable,
) -> PackageResult:
    """Install the wheels into `staging`, add the function's files, zip it into `output`."""
    for needed in (root / "handler.py", root / CONFIG_YAML, root / "lib" / "sesrelay"):
        if not needed.exists():
            raise PackageError(f"{needed} is missing; the function cannot run without it")
    config = config_json(root / CONFIG_YAML)  # before pip: a broken config fails fast
    _fresh_dir(staging)
    _pip_install(python, requirements, staging, pip_cache)
    shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts: not importable code
    shutil.copyfile(root / "handler.py", staging / "handler.py")
    (staging / CONFIG_JSON).write_bytes(config)
    for source, name in lib_files(root / "lib"):
        target = staging / "lib" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    _prune(staging)
    problems = dangling_imports(root / "lib", staging / "lib")
    if problems:
        raise PackageError(
            "shipped code imports what the zip leaves out:\n  " + "\n  ".join(problems)
        )
    problems = extension_problems(staging)
    if problems:
        raise PackageError("compiled code not built for SCF:\n  " + "\n  ".join(problems))
    return write_zip(staging, output)


def config_json(path: Path) -> bytes:
    """The config file as the UTF-8 JSON the zip ships: keys in the file's order, 2-space indent.

    Read with the function's own loader (dates stay text, duplicate keys refused) and refused
    unless the JSON loads to the very config the YAML does: YAML holds values JSON cannot (binary,
    sets, non-text keys), and the function must not run a config other than the one checked.
    """
    from sesrelay.config.model import ConfigError, parse_config, read_config_data

    try:
        data = read_config_data(path)
        config = parse_config(data)
        text = json.dumps(
            data, ensure_ascii=False, indent=2, separators=(",", ": "), allow_nan=False
        )
        same = parse_config(json.loads(text)) == config
    except ConfigError as exc:
        lines = "\n  ".join(str(problem) for problem in exc.problems)
        raise PackageError(
            f"{path} is not a valid config (sesrelay config check):\n  {lines}"
        ) from None
    except (TypeError, ValueError) as exc:
        raise PackageError(f"{path} holds a value JSON cannot carry ({exc})") from None
    if not same:
        raise PackageError(f"{path} changes when written as JSON (are some keys not text?)")
    return (text + "\n").encode("utf-8")


def write_zip(tree: Path, output: Path) -> PackageResult:
    names = sorted(
        path.relative_to(tree).as_posix()
        for path in tree.rglob("*")
        if path.is_file() and path.name != MARKER
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # unix, so the mode above is honoured by unzip
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (tree / name).read_bytes(), compresslevel=COMPRESS_LEVEL)
    data = buffer.getvalue()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_bytes(data)
    partial.replace(output)
    return PackageResult(output, len(data), len(names), hashlib.sha256(data).hexdigest())


def extension_problems(tree: Path) -> list[str]:
    """Compiled extensions not built for CPython 3.10 on manylinux x86_64 (glibc <= 2.17)."""
    found = []
    for path in sorted(tree.rglob("*.so")):
        if not _EXT_TAG.search(path.name):
            found.append(f"{path.relative_to(tree)}: not a cpython-310-x86_64-linux-gnu module")
    for wheel in sorted(tree.glob("*.dist-info/WHEEL")):
        lines = wheel.read_text(encoding="utf-8").splitlines()
        if "Root-Is-Purelib: true" in lines:
            continue  # pure Python: runs anywhere
        tags = [line[5:].strip() for line in lines if line.startswith("Tag: ")]
        if not any(wheel_tag_fits(tag) for tag in tags):
            found.append(f"{wheel.parent.name}: wheel tags {', '.join(tags)} do not fit SCF")
    return found


def wheel_tag_fits(tag: str) -> bool:
    """True for a wheel tag CPython 3.10 on glibc 2.17 x86_64 can load."""
    match = _WHEEL_TAG.match(tag)
    if match is None:
        return False
    platform = match.group(3)
    if platform == "any":
        return True
    legacy = _MANYLINUX_GLIBC.get(platform.removesuffix("_x86_64"))
    glibc = legacy or tuple(int(x) for x in re.findall(r"\d+", platform.split("_x86")[0]))
    return tuple(glibc) <= (2, 17)


def _fresh_dir(path: Path) -> None:
    if path.exists():
        if any(path.iterdir()) and not (path / MARKER).exists():
            raise PackageError(
                f"{path} exists and was not made by `sesrelay package`; not cleaning it"
            )
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("staging tree of `sesrelay package`; deleted on every build\n")


def _pip_install(python: str, requirements: Path, target: Path, cache: Path | None) -> None:
    command = [
        python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile",  # no .pyc: they differ per build and SCF compiles on first import
        "--platform", PLATFORM, "--python-version", PYTHON_VERSION,
        "--implementation", "cp", "--abi", "cp310", "--only-binary=:all:",
        "--target", str(target), "--requirement", str(requirements),
    ]  # fmt: skip
    if cache is not None:
        command += ["--cache-dir", str(cache)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    # A fixed argument list (no shell) runs the current interpreter's pip.
    done = subprocess.run(command, capture_output=True, text=True, env=env)  # noqa: S603
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise PackageError(f"pip install failed (exit {done.returncode}):\n{tail}")


def lib_files(lib: Path) -> Iterator[tuple[Path, str]]:
    """(file, name under lib/) of each file of lib/sesrelay/ the zip ships."""
    for path in sorted(lib.rglob("*")):
        name = path.relative_to(lib).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        if name.startswith(DEV_ONLY) or not name.startswith("sesrelay/"):
            continue
        yield path, name


def _prune(tree: Path) -> None:
    for cache in sorted(tree.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)
    for stray in [*tree.rglob("*.pyc"), *tree.glob("*.dist-info/direct_url.json")]:
        stray.unlink()
    for record in tree.glob("*.dist-info/RECORD"):
        _trim_record(tree, record)


def _trim_record(tree: Path, record: Path) -> None:
    """Keep only RECORD rows of files in the zip: rows for console scripts carry the build
    machine's interpreter path in their hash, and those scripts are left out anyway."""
    rows = list(csv.reader(io.StringIO(record.read_text(encoding="utf-8"))))
    kept = [row for row in rows if row and _inside(tree, row[0])]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(kept)
    record.write_text(out.getvalue(), encoding="utf-8")


def _inside(tree: Path, relative: str) -> bool:
    normal = os.path.normpath(relative)
    return not normal.startswith("..") and (tree / normal).is_file()


def dangling_imports(source: Path, shipped: Path) -> list[str]:
    """`importer -> module` for each import of a sesrelay module that is in `source` (lib/) but
    was left out of `shipped`: on SCF it would fail only when that code path first runs."""
    left_out = _modules(source) - _modules(shipped)
    found = []
    for path in sorted(shipped.rglob("*.py")):
        importer = _module_name(path.relative_to(shipped))
        tree = ast.parse(path.read_bytes(), str(path))
        for node in ast.walk(tree):
            for name in _imported(node, importer, path.name == "__init__.py"):
                if name in left_out:
                    found.append(f"{importer} -> {name}")
    return sorted(set(found))


def _modules(lib: Path) -> set[str]:
    return {
        _module_name(path.relative_to(lib))
        for path in lib.rglob("*.py")
        if path.relative_to(lib).parts[0] == "sesrelay"
    }


def _module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, importer: str, is_package: bool) -> list[str]:
    """Module names an import statement may load (`from a import b`: `a`, and `a.b` if a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = importer.split(".")
        package = package if is_package else package[:-1]
        anchor = ".".join(package[: len(package) - node.level + 1])
        base = f"{anchor}.{base}" if base else anchor
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]
