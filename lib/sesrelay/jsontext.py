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


def parse(text: str, what: str = "the body", *, lone_surrogates_ok: bool = False) -> Any:
    """`text` as JSON; MalformedRequest naming `what` and the reason otherwise.

    `lone_surrogates_ok` is for senders whose deliveries are checked field by field (SES
    callbacks, webhooks): one odd field must not make them retry the whole delivery forever."""
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
    if lone_surrogates_ok:
        return data
    # A lone surrogate comes from a \u escape (ASCII text) or from text that held one already.
    if ("\\u" in text or not text.isascii()) and holds_lone_surrogate(data):
        raise MalformedRequest(f"{what} holds a lone surrogate (\\ud800-\\udfff): not text")
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


def holds_lone_surrogate(data: Any) -> bool:
    """True if a key or string anywhere in `data` holds a surrogate on its own, which JSON can
    spell (\\ud800) but UTF-8 cannot carry on to SES, a store or a log."""
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if not node.isascii():
                try:
                    node.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _too_deep(what: str) -> str:
    return f"{what} nests arrays and objects deeper than {MAX_DEPTH} levels"
