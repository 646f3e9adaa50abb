"""W3C Trace Context (https://www.w3.org/TR/trace-context/): the ``traceparent`` an event arrived with.

Ingest keeps a valid ``traceparent`` with the event (an invalid one is ignored, as the spec tells a receiver
to do). Each delivery attempt then sends ``traceparent`` with the caller's trace id and flags and a parent
id of its own, so every attempt is its own span in the caller's trace. What is kept is normalised to
version ``00``: the only version whose fields are defined, which a newer version's first four fields are too.
"""

from __future__ import annotations

import re
import secrets

_FIELDS = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_LENGTH = 55  # "00-" + 32 + "-" + 16 + "-" + 2
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16


def parse(header: str | None) -> str | None:
    """The ``traceparent`` to keep (version 00), or None for an absent or invalid header."""
    if header is None:
        return None
    value = header.strip()
    matched = _FIELDS.match(value)
    if matched is None:
        return None
    version, trace_id, parent_id, flags = matched.groups()
    if version == "ff" or trace_id == _ZERO_TRACE or parent_id == _ZERO_PARENT:
        return None
    if version == "00" and len(value) != _LENGTH:
        return None
    if len(value) > _LENGTH and value[_LENGTH] != "-":  # a later version may only append "-" fields
        return None
    return f"00-{trace_id}-{parent_id}-{flags}"


def trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]


def for_attempt(traceparent: str) -> str:
    """The header one delivery attempt sends: the same trace id and flags, a new parent (span) id."""
    _, trace, _, flags = traceparent.split("-")
    parent = secrets.token_hex(8)
    while parent == _ZERO_PARENT:  # pragma: no cover - one chance in 2**64
        parent = secrets.token_hex(8)
    return f"00-{trace}-{parent}-{flags}"
