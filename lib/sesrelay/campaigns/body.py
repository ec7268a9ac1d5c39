"""The body of POST /v1/campaigns, read without holding every recipient in memory at once.

A 6 MB body (SCF's largest synchronous event) lists about 95,000 recipients; parsed whole, the
list takes eight times the text. `scan` reads the top-level object field by field and keeps the
`Recipients` array as its place in the text (`RecipientArray`): each pass over it (validation,
the fingerprint, staging) decodes one recipient at a time, and the text is all that stays.

The outcome is the one `jsontext.parse` gives: anything the scan does not read the simple way
(malformed JSON, nesting past the limit, a lone surrogate, a number too long, a body that is not
an object) makes `scan` answer None, and the caller parses the whole text the usual way, which
says exactly what is wrong. The fingerprint is `sending.idempotency.fingerprint` of the parsed
body, byte for byte, computed chunk by chunk.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sesrelay import jsontext
from sesrelay.sending.idempotency import fingerprint

RECIPIENTS = "Recipients"
_DECODER = json.JSONDecoder()  # json.loads' own settings
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as json.decoder skips it
#: the canonical JSON of `fingerprint`, element by element
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_BATCH = 1000  # recipients encoded per chunk of the fingerprint
#: Depths as jsontext counts them: the body is level 1, the array 2, a recipient 3.
_FIELD_DEPTH = jsontext.MAX_DEPTH - 1
_RECIPIENT_DEPTH = jsontext.MAX_DEPTH - 2


def _skip(text: str, idx: int) -> int:
    """The index of the first character at or after `idx` that is not JSON whitespace."""
    space = _SPACE.match(text, idx)
    return space.end() if space else idx


class _Irregular(Exception):
    """The text needs the full parser's verdict."""


@dataclass(frozen=True)
class RecipientArray:
    """A non-empty JSON array of recipients, kept as its place in the body's text."""

    text: str = field(repr=False)  # the whole body (up to 6 MB): never in a message
    start: int = 0  # the index of its `[`
    count: int = 0

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        text, decode = self.text, _DECODER.raw_decode
        idx = _skip(text, self.start + 1)
        for _ in range(self.count):
            value, idx = decode(text, idx)
            yield value
            idx = _skip(text, _skip(text, idx) + 1)  # past the `,` (or the `]`)

    def canonical(self) -> Iterator[str]:
        """The array as `fingerprint` serialises it, in chunks."""
        batch: list[Any] = []
        first = True
        for item in self:
            batch.append(item)
            if len(batch) == _BATCH:
                yield ("[" if first else ",") + _CANONICAL.encode(batch)[1:-1]
                batch, first = [], False
        if batch:
            yield ("[" if first else ",") + _CANONICAL.encode(batch)[1:-1]
        yield "]"


@dataclass
class CampaignBody:
    """Every top-level field but `Recipients` (in the body's order, as json.loads keeps them),
    and `Recipients` itself: as parsed, a RecipientArray, or None when absent."""

    fields: dict[str, Any]
    recipients: Any = None
    present: bool = False  # whether the body has a `Recipients` key (null included)
    _parsed: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, data: dict[str, Any]) -> CampaignBody:
        """A body parsed whole (the usual way)."""
        fields = {k: v for k, v in data.items() if k != RECIPIENTS}
        return cls(fields, data.get(RECIPIENTS), RECIPIENTS in data, data)

    def items(self) -> Iterator[Any]:
        """The recipients, one at a time (the list is known to be one)."""
        yield from self.recipients

    def fingerprint(self, method: str, path: str) -> str:
        """`sending.idempotency.fingerprint(method, path, body)`, the same digest."""
        if self._parsed is not None:
            return fingerprint(method, path, self._parsed)
        digest = hashlib.sha256(f"{method} {path}\n".encode("utf-8", "surrogatepass"))
        for chunk in self._canonical():
            digest.update(chunk.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _canonical(self) -> Iterator[str]:
        keys = sorted([*self.fields, RECIPIENTS] if self.present else self.fields)
        yield "{"
        for n, key in enumerate(keys):
            yield ("," if n else "") + _CANONICAL.encode(key) + ":"
            value = self.recipients if key == RECIPIENTS else self.fields[key]
            if isinstance(value, RecipientArray):
                yield from value.canonical()
            else:
                yield _CANONICAL.encode(value)
        yield "}"


def scan(text: str) -> CampaignBody | None:
    """The body read field by field, its recipients left in the text; None when the text needs
    the full parser (which then gives the verdict json.loads and jsontext would give)."""
    try:
        return _scan(text, "\\u" in text or not text.isascii())
    except (_Irregular, ValueError, RecursionError, IndexError):
        return None  # ValueError covers JSONDecodeError and numbers of over 4300 digits


def _scan(text: str, surrogates_possible: bool) -> CampaignBody:
    idx = _skip(text, 0)
    if text[idx] != "{":
        raise _Irregular
    fields: dict[str, Any] = {}
    recipients: Any = None
    present = False
    idx = _skip(text, idx + 1)
    while text[idx] != "}":
        if text[idx] != '"':
            raise _Irregular
        key, idx = _DECODER.raw_decode(text, idx)  # a string: it starts with a quote
        idx = _skip(text, idx)
        if text[idx] != ":":
            raise _Irregular
        idx = _skip(text, idx + 1)
        present = present or key == RECIPIENTS
        if key == RECIPIENTS and text[idx] == "[":
            recipients, idx = _array(text, idx, surrogates_possible)
        else:
            value, idx = _DECODER.raw_decode(text, idx)
            if key == RECIPIENTS:
                recipients = value
            else:
                fields[key] = value  # a repeated key: the last value, the first place
        idx = _skip(text, idx)
        if text[idx] == ",":
            idx = _skip(text, idx + 1)
            if text[idx] == "}":
                raise _Irregular  # a trailing comma
        elif text[idx] != "}":
            raise _Irregular
    if _skip(text, idx + 1) != len(text):
        raise _Irregular
    _check(fields, recipients, surrogates_possible)
    return CampaignBody(fields, recipients, present)


def _array(text: str, start: int, surrogates_possible: bool) -> tuple[Any, int]:
    """Skip over the array at `start`, checking each recipient as jsontext would; a
    RecipientArray, or [] when it is empty, and the index past its `]`."""
    idx = _skip(text, start + 1)
    if text[idx] == "]":
        return [], idx + 1
    count, decode = 0, _DECODER.raw_decode
    while True:
        begin = idx
        value, idx = decode(text, idx)
        count += 1
        brackets = text.count("[", begin, idx) + text.count("{", begin, idx)
        if brackets > _RECIPIENT_DEPTH and jsontext.nests_deeper(value, _RECIPIENT_DEPTH):
            raise _Irregular
        if surrogates_possible and jsontext.holds_lone_surrogate(value):
            raise _Irregular
        idx = _skip(text, idx)
        if text[idx] == "]":
            return RecipientArray(text, start, count), idx + 1
        if text[idx] != ",":
            raise _Irregular
        idx = _skip(text, idx + 1)


def _check(fields: dict[str, Any], recipients: Any, surrogates_possible: bool) -> None:
    """jsontext's depth and lone-surrogate rules for everything but the array's recipients."""
    others = [*fields.values()]
    if not isinstance(recipients, RecipientArray):
        others.append(recipients)
    if any(jsontext.nests_deeper(value, _FIELD_DEPTH) for value in others):
        raise _Irregular
    if surrogates_possible and jsontext.holds_lone_surrogate([*fields, *others]):
        raise _Irregular
