"""Strict JSON for request bodies: what we accept is exactly what we can store, sign and deliver.

``json.loads`` alone accepts things that break later: ``NaN`` and ``Infinity`` (not JSON; receivers' parsers
refuse them), lone surrogates such as ``"\\ud800"`` (valid escapes, but not encodable as UTF-8, so DynamoDB
and every receiver choke), and nesting deep enough to exhaust the interpreter's stack. Each of these is a
``400`` here, before any of it reaches storage.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from hookline.core.errors import InvalidRequestError

MAX_DEPTH = 32
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    raise InvalidRequestError(f"the request body is not valid JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999 is valid JSON but no float can hold it, and it cannot be sent on
        raise InvalidRequestError(f"the number {text[:40]} is too large to keep exactly")
    return value


def parse(raw: bytes | str, what: str = "the request body") -> Any:
    """Parse strict JSON, or raise ``InvalidRequestError`` saying what is wrong."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequestError(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    else:
        text = raw
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise InvalidRequestError(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise InvalidRequestError(f"{what} is not valid JSON: {message}") from None
    check(value, what)
    return value


def check(value: Any, what: str = "the request body") -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` and strings that are not valid Unicode text."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, str):
            _check_text(current, what)
        elif isinstance(current, dict | list):
            if depth > MAX_DEPTH:
                raise InvalidRequestError(f"{what} nests deeper than {MAX_DEPTH} levels")
            if isinstance(current, dict):
                for key, item in current.items():
                    _check_text(key, what)
                    pending.append((item, depth + 1))
            else:
                pending.extend((item, depth + 1) for item in current)


def _check_text(text: str, what: str) -> None:
    if _LONE_SURROGATE.search(text):
        raise InvalidRequestError(f"{what} holds a lone UTF-16 surrogate escape, which is not Unicode text")


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 text kept as is (the form stored and delivered)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
