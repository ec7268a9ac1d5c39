"""JSON from outside the function (request bodies, timer messages, webhook and SES callbacks):
every way it can fail to parse is one MalformedRequest that says why, never a RecursionError or
the int-conversion ValueError that Python raises for numbers of over 4,300 digits."""

from __future__ import annotations

import json
from typing import Any

from sesrelay.errors import MalformedRequest

#: Arrays and objects nested deeper than this are refused. SES parameters nest three levels and
#: SaaS webhook payloads about ten; Python's own parser gives up near a thousand (RecursionError).
MAX_DEPTH = 64


def parse(text: str, what: str = "the body") -> Any:
    """`text` as JSON; MalformedRequest naming `what` and the reason otherwise."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedRequest(
            f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise MalformedRequest(_too_deep(what)) from None
    except ValueError:  # int("9" * 5000): Python's limit on integer string conversion
        raise MalformedRequest(f"{what} holds a number of more than 4300 digits") from None
    if nests_deeper(data, MAX_DEPTH):
        raise MalformedRequest(_too_deep(what))
    return data


def nests_deeper(data: Any, limit: int) -> bool:
    """True if arrays and objects nest more than `limit` levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)] if isinstance(data, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _too_deep(what: str) -> str:
    return f"{what} nests arrays and objects deeper than {MAX_DEPTH} levels"
