"""Ordered delivery per (endpoint, ordering key): the names SQS FIFO groups them by.

Ordered events travel on a FIFO queue of their own. An event job's group is its tenant and key, so events of
one key are fanned out in the order their 202s were given; each fan-out queues one deliver job per endpoint
in the group of (tenant, endpoint, key), so a delivery is attempted only after the previous event of that key
to that endpoint has been deleted from the queue: succeeded, or failed for good. Retries keep the message in
flight (a visibility timeout, never a new message), which holds the group and only that group.

Group ids are digests: an ordering key may hold any printable character, a group id only ASCII punctuation
and alphanumerics, 128 at most.
"""

from __future__ import annotations

import hashlib

MAX_ORDERING_KEY = 128


def check_ordering_key(value: str | None) -> str | None:
    """1 to 128 characters, none of them a control character."""
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_ORDERING_KEY:
        raise ValueError(f"must be 1 to {MAX_ORDERING_KEY} characters")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise ValueError("must not contain control characters")
    return value


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]


def fanout_group(tenant_id: str, ordering_key: str) -> str:
    """The FIFO group of an ordered event's fan-out: one per tenant and key."""
    return "k-" + _digest(tenant_id, ordering_key)


def delivery_group(tenant_id: str, endpoint_id: str, ordering_key: str) -> str:
    """The FIFO group of an ordered event's delivery to one endpoint: one per endpoint and key."""
    return "d-" + _digest(tenant_id, endpoint_id, ordering_key)
