"""Conditional delivery: an endpoint's ``filter`` is an Amazon EventBridge event pattern (a subset).

It is evaluated against the delivered webhook body ``{"type": ..., "timestamp": ..., "data": {...}}``::

    {"data": {"status": ["shipped"], "amount": [{"numeric": [">", 100]}]}}

Structure, as in EventBridge:

- A pattern is a non-empty JSON object. Every key must match (AND).
- A key maps either to a nested pattern object (recursion) or to a non-empty ARRAY of alternatives (OR).
- An alternative is a literal (string, number, boolean, null) compared by exact, type-aware equality
  (``100`` matches ``100.0``; ``"100"`` does not match ``100``; ``true`` does not match ``1``), or a
  content filter, an object with exactly one operator:

  ==========================  ==================================================================
  ``{"prefix": "ord_"}``      string starts with (also ``{"prefix": {"equals-ignore-case": "x"}}``)
  ``{"suffix": ".png"}``      string ends with (also ``{"suffix": {"equals-ignore-case": "x"}}``)
  ``{"equals-ignore-case"}``  string equal, ignoring case
  ``{"anything-but": ...}``   a literal, a non-empty list of literals, or one of
                              ``{"prefix"|"suffix"|"equals-ignore-case"|"wildcard": "x"}``
  ``{"numeric": [...]}``      ``["=", 5]``, ``[">", 0]``, ``[">", 0, "<=", 5]`` (operators = < <= > >=)
  ``{"exists": bool}``        the key holds a value (true) or holds none (false)
  ``{"wildcard": "a*b"}``     ``*`` matches any run of characters; ``\\*`` and ``\\\\`` escape
  ==========================  ==================================================================

Evaluation, as in EventBridge, which flattens an event into leaf values per path:

- When the event's value is an array, a leaf matches if ANY element matches. When a nested pattern meets an
  array of objects, it matches if ANY one object matches the whole nested pattern.
- Only scalars (strings, numbers, booleans, null) are values; ``null`` is one. A missing key, an object, and
  an empty array hold no value: every operator fails on them except ``{"exists": false}``, which matches.
- ``anything-but`` needs a value: it never matches a missing key. Against a literal (list) it matches every
  other value, of any type, including ``null``; its ``prefix``/``suffix``/``equals-ignore-case``/``wildcard``
  forms match only strings.
- ``prefix``, ``suffix``, ``equals-ignore-case`` and ``wildcard`` match only strings; ``numeric`` only
  numbers (a boolean is not a number, nor is ``"100"``).

Call :func:`validate_filter` when an endpoint is registered (it raises a 400 naming the offending path), and
:func:`matches` at fan-out; ``matches`` assumes a validated pattern and never raises on any body.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

from hookline.core.errors import InvalidRequestError

MAX_DEPTH: Final = 10
"""Nested pattern objects along any path, the top-level object included."""
MAX_VALUES: Final = 200
"""Alternatives across the whole pattern; each member of an ``anything-but`` list counts once more."""

NUMERIC_LOWER: Final = frozenset({">", ">="})
NUMERIC_UPPER: Final = frozenset({"<", "<="})
NUMERIC_OPERATORS: Final = NUMERIC_LOWER | NUMERIC_UPPER | {"="}
STRING_OPERATORS: Final = ("prefix", "suffix", "equals-ignore-case", "wildcard")
OPERATORS: Final = ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "wildcard")

_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_\-]+")
_NUMERIC_HINT = 'numeric needs one or two comparisons, like ["=", 5], [">", 0] or [">", 0, "<=", 5]'


class _Missing:
    """The value of a key the event does not have."""


_MISSING: Final = _Missing()


# ----------------------------------------------------------------------------------------------------
# Validation


def validate_filter(pattern: Any) -> dict[str, Any]:
    """Return ``pattern`` unchanged if it is a well-formed event pattern; raise ``InvalidRequestError``
    (400) naming the offending path (``filter.data.amount[0]: ...``) otherwise."""
    if not isinstance(pattern, dict) or not pattern:
        raise _invalid("filter", 'must be a non-empty JSON object, like {"data": {"status": ["shipped"]}}')
    _Validator().check_object(pattern, "filter", depth=1)
    return pattern


def _invalid(path: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{path}: {message}")


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if _SIMPLE_KEY.fullmatch(key) else f"{path}[{json.dumps(key)}]"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_finite_number(value: object) -> bool:
    # Python ints are exact and unbounded (math.isfinite would overflow on a huge one); floats may be NaN/inf.
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def _is_literal(value: object) -> bool:
    return value is None or isinstance(value, str | bool) or _is_finite_number(value)


def _describe(value: object) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


class _Validator:
    def __init__(self) -> None:
        self.values = 0

    def count(self, path: str, n: int = 1) -> None:
        self.values += n
        if self.values > MAX_VALUES:
            raise _invalid(path, f"a filter holds at most {MAX_VALUES} values in all")

    def check_object(self, pattern: Mapping[Any, Any], path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _invalid(path, f"a filter nests at most {MAX_DEPTH} objects deep")
        for key, sub in pattern.items():
            if not isinstance(key, str):
                raise _invalid(path, f"keys must be strings, got {key!r}")
            sub_path = _child(path, key)
            if key.startswith("$"):
                raise _invalid(sub_path, f"{key!r} is not supported; keys starting with '$' are reserved")
            if isinstance(sub, dict):
                if not sub:
                    raise _invalid(sub_path, "a nested pattern must be a non-empty object")
                self.check_object(sub, sub_path, depth + 1)
            elif isinstance(sub, list):
                if not sub:
                    raise _invalid(sub_path, "an array of alternatives must not be empty")
                for index, alternative in enumerate(sub):
                    self.check_alternative(alternative, f"{sub_path}[{index}]")
            elif key in OPERATORS:
                raise _invalid(
                    sub_path,
                    f'got {_describe(sub)}; a content filter goes inside an array: [{{"{key}": ...}}]',
                )
            else:
                raise _invalid(
                    sub_path,
                    f'must be an array of alternatives (["x"]) or a nested object, got {_describe(sub)}',
                )

    def check_alternative(self, alternative: Any, path: str) -> None:
        self.count(path)
        if isinstance(alternative, dict):
            self.check_content_filter(alternative, path)
        elif isinstance(alternative, list):
            raise _invalid(path, "an alternative is a literal or a content-filter object, not an array")
        elif not _is_literal(alternative):
            raise _invalid(path, f"{_describe(alternative)} is not a string, finite number, boolean or null")

    def check_content_filter(self, content_filter: Mapping[Any, Any], path: str) -> None:
        if len(content_filter) != 1:
            names = ", ".join(repr(k) for k in content_filter) or "none"
            raise _invalid(path, f"a content filter holds exactly one operator, got {names}")
        ((operator, argument),) = content_filter.items()
        if operator in {"prefix", "suffix"}:
            _check_string_or_ignore_case(operator, argument, path)
        elif operator == "equals-ignore-case":
            _check_string(operator, argument, path)
        elif operator == "wildcard":
            _check_wildcard(argument, path)
        elif operator == "exists":
            if not isinstance(argument, bool):
                raise _invalid(path, f"exists needs true or false, got {_describe(argument)}")
        elif operator == "numeric":
            _check_numeric(argument, path)
        elif operator == "anything-but":
            self.check_anything_but(argument, path)
        else:
            raise _invalid(path, f"unknown operator {operator!r}; supported: {', '.join(OPERATORS)}")

    def check_anything_but(self, argument: Any, path: str) -> None:
        usage = 'anything-but needs a string, a number, a non-empty list of them, or {"prefix": "x"}'
        if isinstance(argument, dict):
            if len(argument) != 1:
                raise _invalid(path, f"{usage}; its object holds one of {', '.join(STRING_OPERATORS)}")
            ((operator, inner),) = argument.items()
            if operator not in STRING_OPERATORS:
                raise _invalid(path, f"anything-but supports {', '.join(STRING_OPERATORS)}, not {operator!r}")
            if operator == "wildcard":
                _check_wildcard(inner, path, "anything-but wildcard")
            else:
                _check_string(f"anything-but {operator}", inner, path)
        elif isinstance(argument, list):
            if not argument:
                raise _invalid(path, f"{usage}; the list is empty")
            for index, member in enumerate(argument):
                if not _is_anything_but_literal(member):
                    raise _invalid(path, f"{usage}; member {index} is {_describe(member)}")
            self.count(path, len(argument) - 1)
        elif not _is_anything_but_literal(argument):
            raise _invalid(path, f"{usage}, got {_describe(argument)}")


def _is_anything_but_literal(value: object) -> bool:
    return isinstance(value, str) or _is_finite_number(value)


def _check_string(operator: str, argument: Any, path: str) -> None:
    if not isinstance(argument, str):
        raise _invalid(path, f"{operator} needs a string, got {_describe(argument)}")


def _check_string_or_ignore_case(operator: str, argument: Any, path: str) -> None:
    if isinstance(argument, dict):
        if len(argument) == 1 and isinstance(argument.get("equals-ignore-case"), str):
            return
        raise _invalid(
            path, f'{operator} needs a string or {{"equals-ignore-case": "x"}}, got {_describe(argument)}'
        )
    _check_string(operator, argument, path)


def _check_wildcard(argument: Any, path: str, operator: str = "wildcard") -> None:
    _check_string(operator, argument, path)
    try:
        _wildcard_segments(argument)
    except ValueError as exc:
        raise _invalid(path, f"{operator} {_describe(argument)}: {exc}") from None


def _check_numeric(argument: Any, path: str) -> None:
    if not isinstance(argument, list) or len(argument) not in {2, 4}:
        raise _invalid(path, f"{_NUMERIC_HINT}, got {_describe(argument)}")
    comparisons = list(zip(argument[::2], argument[1::2], strict=True))
    for operator, operand in comparisons:
        if not isinstance(operator, str) or operator not in NUMERIC_OPERATORS:
            raise _invalid(path, f"{_NUMERIC_HINT}; {_describe(operator)} is not one of = < <= > >=")
        if not _is_finite_number(operand):
            problem = f"{_describe(operand)} after {_describe(operator)} is not a number"
            raise _invalid(path, f"{_NUMERIC_HINT}; {problem}")
    if len(comparisons) == 2:
        if any(operator == "=" for operator, _ in comparisons):
            raise _invalid(path, f'{_NUMERIC_HINT}; "=" stands alone')
        lower = [(op, n) for op, n in comparisons if op in NUMERIC_LOWER]
        upper = [(op, n) for op, n in comparisons if op in NUMERIC_UPPER]
        if len(lower) != 1 or len(upper) != 1:
            raise _invalid(path, f"{_NUMERIC_HINT}; a range needs one of > >= and one of < <=")
        (low_op, low), (high_op, high) = lower[0], upper[0]
        if low > high or (low == high and (low_op == ">" or high_op == "<")):
            raise _invalid(path, f"numeric range {_describe(argument)} matches no number")


# ----------------------------------------------------------------------------------------------------
# Matching


def matches(pattern: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether the webhook ``body`` satisfies a pattern that :func:`validate_filter` accepted."""
    return _match_object(pattern, body)


def _match_object(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    for key, sub in pattern.items():
        value = event.get(key, _MISSING)
        if isinstance(sub, Mapping):
            # An absent key, a scalar or an empty array holds no object: evaluate against an empty one, so
            # that {"exists": false} underneath still matches and every other operator fails.
            candidates = list(_flatten(value, objects=True)) or [{}]
            if not any(_match_object(sub, candidate) for candidate in candidates):
                return False
        else:
            leaves = list(_flatten(value, objects=False))
            if not any(_match_alternative(alternative, leaves) for alternative in sub):
                return False
    return True


def _flatten(value: object, *, objects: bool) -> Iterator[Any]:
    """The objects (``objects=True``) or the scalars held at one path: the value itself, or the elements of an
    array, arrays nested in arrays included. Iterative, so no event is too deep for it."""
    if isinstance(value, _Missing):
        return
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(reversed(item))
        elif isinstance(item, Mapping) is objects:
            yield item


def _match_alternative(alternative: Any, leaves: Sequence[Any]) -> bool:
    if isinstance(alternative, Mapping):
        if len(alternative) != 1:
            return False
        ((operator, argument),) = alternative.items()
        if operator == "exists":
            return bool(leaves) is argument
        return any(_match_operator(operator, argument, leaf) for leaf in leaves)
    return any(_equal(alternative, leaf) for leaf in leaves)


def _equal(literal: Any, value: Any) -> bool:
    """Type-aware JSON equality: numbers compare numerically, but never with booleans or strings."""
    if literal is None or isinstance(literal, bool):
        return value is literal
    if _is_number(literal):
        return _is_number(value) and bool(literal == value)
    return isinstance(literal, str) and isinstance(value, str) and literal == value


def _match_operator(operator: str, argument: Any, value: Any) -> bool:
    if operator == "numeric":
        return _is_number(value) and _match_numeric(argument, value)
    if operator == "anything-but":
        if isinstance(argument, Mapping):
            ((inner, inner_argument),) = argument.items()
            return isinstance(value, str) and not _match_operator(inner, inner_argument, value)
        if isinstance(argument, list):
            return not any(_equal(member, value) for member in argument)
        return not _equal(argument, value)
    if not isinstance(value, str):
        return False
    if operator == "prefix":
        return _match_affix(argument, value, str.startswith)
    if operator == "suffix":
        return _match_affix(argument, value, str.endswith)
    if operator == "equals-ignore-case":
        return isinstance(argument, str) and value.casefold() == argument.casefold()
    if operator == "wildcard":
        return isinstance(argument, str) and _match_wildcard(argument, value)
    return False


def _match_affix(argument: Any, value: str, test: Callable[[str, str], bool]) -> bool:
    if isinstance(argument, Mapping):
        affix = argument.get("equals-ignore-case")
        return isinstance(affix, str) and test(value.casefold(), affix.casefold())
    return isinstance(argument, str) and test(value, argument)


_COMPARE: Final[dict[str, Callable[[float, float], bool]]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _match_numeric(argument: Sequence[Any], value: float) -> bool:
    comparisons = zip(argument[::2], argument[1::2], strict=True)
    return all(_COMPARE[operator](value, operand) for operator, operand in comparisons)


@lru_cache(maxsize=512)
def _wildcard_segments(pattern: str) -> tuple[str, ...]:
    """The literal runs between unescaped ``*``; raise ValueError if the pattern is malformed."""
    segments: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 >= len(pattern) or pattern[index + 1] not in "*\\":
                raise ValueError("a backslash escapes only * or \\")
            current.append(pattern[index + 1])
            index += 2
            continue
        if char == "*":
            if index + 1 < len(pattern) and pattern[index + 1] == "*":
                raise ValueError("consecutive wildcards ** are not allowed")
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    segments.append("".join(current))
    return tuple(segments)


def _match_wildcard(pattern: str, value: str) -> bool:
    """Glob with ``*`` only, by leftmost-first search of each literal run: linear, no regex backtracking."""
    try:
        segments = _wildcard_segments(pattern)
    except ValueError:
        return False
    if len(segments) == 1:
        return value == segments[0]
    head, *middle, tail = segments
    if len(value) < len(head) + len(tail) or not value.startswith(head) or not value.endswith(tail):
        return False
    position, end = len(head), len(value) - len(tail)
    for segment in middle:
        found = value.find(segment, position, end)
        if found < 0:
            return False
        position = found + len(segment)
    return True
