"""Identifiers: a type prefix plus a ULID, so ids sort by creation time and never collide.

A ULID is 26 Crockford base-32 characters: 10 for the millisecond timestamp, 16 random. Event records are
stored under the event id, so the time order of ids is the delivery log's order, and a time range maps to
an id range (``event_id_floor`` / ``event_id_ceiling``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import zlib

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID = f"[{_CROCKFORD}]{{26}}"
# Tenant ids are chosen by the user (their customer's id). '#' separates key parts in DynamoDB, so the
# alphabet excludes it, and anything that would need escaping in a URL path.
TENANT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")
EVENT_ID_PATTERN = re.compile(f"evt_{_ULID}")
ENDPOINT_ID_PATTERN = re.compile(f"ep_{_ULID}")
KEY_ID_PATTERN = re.compile(f"key_{_ULID}")
SCHEDULE_ID_PATTERN = re.compile(f"sch_{_ULID}")
REPLAY_ID_PATTERN = re.compile(f"rpl_{_ULID}")
EVENT_SHARDS = 32
API_KEY_PREFIX = "hk_"


def _ulid(milliseconds: int | None = None) -> str:
    stamp = int(time.time() * 1000) if milliseconds is None else milliseconds
    value = (stamp << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _time_part(milliseconds: int) -> str:
    return "".join(_CROCKFORD[(milliseconds >> shift) & 31] for shift in range(45, -1, -5))


def new_event_id() -> str:
    return "evt_" + _ulid()


def new_event_id_at(unix_seconds: float) -> str:
    """An event id whose time part is ``unix_seconds`` (a delayed event sorts and expires by its delivery)."""
    return "evt_" + _ulid(max(0, int(unix_seconds * 1000)))


def firing_event_id(schedule_id: str, scheduled_time_ms: int) -> str:
    """The one event id of a schedule's firing: its time part is the scheduled time, the rest a digest of
    the schedule and that time, so a firing that Scheduler retries makes the same event again."""
    digest = int.from_bytes(hashlib.sha256(f"{schedule_id}@{scheduled_time_ms}".encode()).digest()[:10])
    value = (max(0, scheduled_time_ms) << 80) | digest
    return "evt_" + "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_schedule_id() -> str:
    return "sch_" + _ulid()


def new_replay_id() -> str:
    return "rpl_" + _ulid()


def new_endpoint_id() -> str:
    return "ep_" + _ulid()


def new_key_id() -> str:
    return "key_" + _ulid()


def new_token() -> str:
    """An opaque one-off token (resend claims)."""
    return secrets.token_urlsafe(12)


def new_api_key() -> str:
    """``hk_`` plus 40 base-62 characters (about 238 bits): a prefix secret scanners can match."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return API_KEY_PREFIX + "".join(secrets.choice(alphabet) for _ in range(40))


def event_shard(event_id: str) -> int:
    """Which of a tenant's ``EVENT_SHARDS`` partitions holds the event: spreads one tenant's writes."""
    return zlib.crc32(event_id.encode()) % EVENT_SHARDS


def event_id_floor(unix_seconds: float) -> str:
    """The smallest event id minted at or after this time."""
    return "evt_" + _time_part(max(0, int(unix_seconds * 1000))) + "0" * 16


def event_id_ceiling(unix_seconds: float) -> str:
    """The largest event id minted at or before this time."""
    return "evt_" + _time_part(max(0, int(unix_seconds * 1000))) + "Z" * 16


def is_valid_tenant_id(tenant_id: str) -> bool:
    return TENANT_ID_PATTERN.fullmatch(tenant_id) is not None


def is_event_id(value: str) -> bool:
    return EVENT_ID_PATTERN.fullmatch(value) is not None


def event_id_unix_seconds(event_id: str) -> float | None:
    """When the event id was minted, or None if it is not one of ours."""
    if not is_event_id(event_id):
        return None
    stamp = 0
    for char in event_id[4:14]:
        stamp = stamp * 32 + _CROCKFORD.index(char)
    return stamp / 1000
