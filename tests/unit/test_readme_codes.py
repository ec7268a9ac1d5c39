"""The error table of docs/http-api.md and the code's mapping must agree: clients read the table.

The table lives in one place (docs/http-api.md, "Error codes"); every other page links to it."""

from __future__ import annotations

import re
from pathlib import Path

from sesrelay.http.problems import CODES

ROOT = Path(__file__).resolve().parents[2]
ERROR_TABLE = ROOT / "docs" / "http-api.md"
HEADING = "## Error codes\n"
_ROW = re.compile(r"^\| `([a-z_]+)` \| (\d{3}) \|", flags=re.MULTILINE)


def documented_codes(text: str) -> dict[str, int]:
    """The `code | status` rows of the "Error codes" section of a Markdown text."""
    assert HEADING in text, f"no {HEADING.strip()!r} section"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    return {code: int(status) for code, status in _ROW.findall(section)}


def test_every_code_is_documented_with_its_status() -> None:
    documented = documented_codes(ERROR_TABLE.read_text(encoding="utf-8"))
    assert {code: status for code, (status, _) in CODES.items()} == documented


def test_the_table_is_not_repeated_elsewhere() -> None:
    """Other pages link to the table; a second copy would drift from it."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    copies = [
        str(page.relative_to(ROOT))
        for page in pages
        if page != ERROR_TABLE and len(_ROW.findall(page.read_text(encoding="utf-8"))) > 3
    ]
    assert copies == [], f"link to docs/http-api.md#error-codes instead: {copies}"
