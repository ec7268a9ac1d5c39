"""Recipients from a CSV file: a header line, one email column, every other column a variable.

Streams line by line (the file may be far larger than memory) into (email, data) pairs for
campaigns.rows.RowValidator; a ragged row becomes a MALFORMED pair. `line` is the file line the
last row started on (the header is line 1; a quoted cell may span lines, blank lines count), so
every report names the line an editor shows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping

from sesrelay.campaigns.rows import MALFORMED, Scalar


class CsvRecipients:
    """Rows of a CSV file with a header line: one email column, every other column a variable.

    Streams: `lines` may be an open file. An empty cell takes the default value when the campaign
    has one for that column (and stays "" otherwise).
    """

    def __init__(
        self,
        lines: Iterable[str],
        *,
        email_column: str | None = None,
        defaults: Mapping[str, Scalar] | None = None,
    ) -> None:
        self._reader = csv.reader(lines)
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            raise ValueError(f"line 1 (the header): {exc}") from None
        if not header:
            raise ValueError("the file is empty; the first line must name the columns")
        header = [name.strip().lstrip("\ufeff") for name in header]
        if len(set(header)) != len(header) or not all(header):
            raise ValueError("column names in the header must be unique and not empty")
        lowered = [name.lower() for name in header]
        wanted = [email_column] if email_column else ["email", "e-mail", "email_address"]
        found = [n for n, name in enumerate(header if email_column else lowered) if name in wanted]
        if not found:
            raise ValueError(
                f"no email column: name one {wanted[0]!r}"
                + ("" if email_column else " (or pass --email-column)")
            )
        self.email_index = found[0]
        self.columns = [name for n, name in enumerate(header) if n != found[0]]
        self._defaults = set(defaults or ())
        self.line = self._reader.line_num

    def __iter__(self) -> Iterator[tuple[object, object]]:
        width, at, columns, defaults = len(self.columns) + 1, self.email_index, self.columns, None
        if self._defaults:
            defaults = self._defaults
        reader = self._reader
        before = reader.line_num  # lines read so far: the next row starts on the line after
        try:
            for cells in reader:
                start, before = before + 1, reader.line_num
                if len(cells) != width:
                    if not cells:
                        continue  # a blank line is not a row
                    self.line = start
                    yield MALFORMED, f"has {len(cells)} cells; the header names {width} columns"
                    continue
                self.line = start
                email = cells.pop(at)
                data = dict(zip(columns, cells, strict=False))  # widths checked above
                if defaults and "" in cells:
                    data = {k: v for k, v in data.items() if v or k not in defaults}
                yield email, data
        except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
            raise ValueError(f"line {before + 1}: {exc}") from None
