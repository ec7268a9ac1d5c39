"""The README's error table and the code's mapping must agree: clients read the README."""

from __future__ import annotations

import re
from pathlib import Path

from sesrelay.http.problems import CODES

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_table() -> dict[str, int]:
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", README.read_text(), flags=re.MULTILINE)
    return {code: int(status) for code, status in rows}


def test_every_code_is_documented_with_its_status() -> None:
    documented = readme_table()
    assert {code: status for code, (status, _) in CODES.items()} == documented
