"""What every SES field check shares: the validation-context keys, the rule error, control chars.

Every check raises a message naming the rule, never the rejected value.
"""

from __future__ import annotations

from pydantic_core import PydanticCustomError

#: Keys of the pydantic validation context (`model_validate(..., context=...)`).
CONTEXT_NOW = "now"  # an aware datetime: BeginTime must not be before it
CONTEXT_ALLOW_SIMPLE = "allow_simple"  # True only for accounts approved for Simple content

#: C0/C1 controls (CR, LF, NEL U+0085 among them) and the Unicode line/paragraph separators
#: break a mail header; the bidi embeddings, overrides and isolates (U+202A-U+202E,
#: U+2066-U+2069) let a Subject or a file name read differently from what it is
#: ("invoice\u202efdp.exe" shows as "invoiceexe.pdf").
#: A set, not a regex character class: compiling that class cost a third of a millisecond of
#: every cold start, and the check is as fast either way.
HEADER_BREAKERS = frozenset(
    [
        *map(chr, range(0x20)),
        *map(chr, range(0x7F, 0xA0)),
        "\u2028",
        "\u2029",
        *map(chr, range(0x202A, 0x202F)),
        *map(chr, range(0x2066, 0x206A)),
    ]
)
CONTROL_CHARS_RULE = (
    "must not contain line breaks, control characters or bidirectional overrides (U+202A-U+202E, "
    "U+2066-U+2069)"
)


def rule_error(kind: str, message: str) -> PydanticCustomError:
    """A validation error whose text is exactly `message` (no pydantic prefix, no input)."""
    return PydanticCustomError(f"ses_{kind}", message)


def has_control_chars(value: str) -> bool:
    """Whether `value` holds a character that would break or disguise a mail header (above)."""
    return not HEADER_BREAKERS.isdisjoint(value)


def check_no_controls(value: str) -> str:
    """Header-bound text: refuse CR/LF and other control characters (no header injection)."""
    if has_control_chars(value):
        raise rule_error("control_chars", CONTROL_CHARS_RULE)
    return value


#: What a lone surrogate gets: JSON can spell one ("\ud800"), UTF-8 cannot carry it to a mail.
SURROGATE_RULE = "must be valid Unicode text (no lone surrogate such as \\ud800)"


def has_lone_surrogate(value: str) -> bool:
    """True if `value` holds a UTF-16 surrogate on its own (valid in JSON text, not in mail)."""
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
