"""Which endpoints an event goes to: event-type patterns (exact names and ``prefix.*`` wildcards)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Names like "order.created" or "invoice.payment_failed.v2": dot-separated segments of word characters.
EVENT_TYPE_PATTERN = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*")
MAX_EVENT_TYPE_LENGTH = 256


def is_valid_event_type(event_type: str) -> bool:
    return len(event_type) <= MAX_EVENT_TYPE_LENGTH and EVENT_TYPE_PATTERN.fullmatch(event_type) is not None


def is_valid_event_type_pattern(pattern: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return is_valid_event_type(pattern[:-2])
    return is_valid_event_type(pattern)


def event_type_matches(patterns: Iterable[str] | None, event_type: str) -> bool:
    """``None`` (no filter) matches everything; ``order.*`` matches ``order.created`` and
    ``order.item.added`` but not ``order`` itself nor ``orders.created``."""
    if patterns is None:
        return True
    for pattern in patterns:
        if pattern in {"*", event_type}:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False
