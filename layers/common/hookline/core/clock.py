"""Time in the two forms Hookline stores: ISO-8601 UTC strings and Unix seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime


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


def retention_expiry(retention_days: int) -> int:
    """The ``expires_at`` (Unix seconds) that DynamoDB's TTL uses to drop a record after the retention."""
    return unix_now() + retention_days * 86_400
