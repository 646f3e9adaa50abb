"""Time in the two forms Hookline stores: ISO-8601 UTC strings and Unix seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from hookline.core.ids import event_id_unix_seconds


def now_iso() -> str:
    return iso_from_unix(time.time())


def iso_from_unix(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse ISO-8601; a missing zone means UTC. Raises ValueError on anything else."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def unix_now() -> int:
    return int(time.time())


def retention_expiry(retention_days: int, start: float) -> int:
    """The ``expires_at`` (Unix seconds) that DynamoDB's TTL uses: ``retention_days`` after ``start``.

    The one rule for where retention counts from: an event and everything written about it (its record,
    deliveries, failure index entries, resend claims) count from the event, however late they are written
    (``event_expiry``), so they go together. What lives on its own (a dead letter, a replay, a delayed
    event's origin) counts from when it begins."""
    return int(start) + retention_days * 86_400


def event_expiry(event_id: str, retention_days: int) -> int:
    """``retention_expiry`` counted from the event (its id's time; now for an id that is not ours)."""
    minted = event_id_unix_seconds(event_id)
    return retention_expiry(retention_days, time.time() if minted is None else minted)
