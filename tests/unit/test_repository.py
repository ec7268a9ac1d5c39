"""The repository explains itself and stays readable: no citation of documents it does not ship,
modules under ~300 lines, functions under ~60 (the architecture's size rules; the import rules
are import-linter's, run by `make test`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "lib" / "sesrelay"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
#: Design notes and research files live outside the repository; citing them leaves a reader with
#: nothing to open. Public vendor URLs are fine.
OUTSIDE_CITATION = re.compile(r"DESIGN(\.md| A\d)|reference/(ses|scf|peers)\.md|\.\./shared/")


def _python_files() -> list[Path]:
    return sorted(LIB.rglob("*.py"))


def _texts() -> list[Path]:
    folders = [LIB, ROOT / "tests", ROOT / "benchmarks", ROOT / "docs", ROOT / "events"]
    files = [p for folder in folders for p in folder.rglob("*") if p.suffix in {".py", ".md"}]
    roots = ["handler.py", "README.md", "sesrelay.yaml", "serverless.yml", "Makefile"]
    return sorted(files + [ROOT / name for name in roots])


def test_nothing_cites_a_document_outside_the_repository() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _texts()
        if path != Path(__file__)  # this file names the pattern it looks for
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE_CITATION.search(line)
    ]
    assert not hits, "say the rule itself, or link the vendor's public page:\n" + "\n".join(hits)


def test_every_module_is_under_the_size_limit() -> None:
    big = {
        str(p.relative_to(LIB)): n
        for p in _python_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not big, f"split these by concept (over {MAX_MODULE_LINES} lines): {big}"


def test_every_function_is_under_the_size_limit() -> None:
    long = {}
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(LIB)}:{node.name}"] = length
    assert not long, f"split these (over {MAX_FUNCTION_LINES} lines): {long}"


def test_every_module_says_what_lives_there() -> None:
    silent = [
        str(p.relative_to(LIB))
        for p in _python_files()
        if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert not silent, f"open these with one to three lines on what they hold: {silent}"
