"""Idempotency keys, folded into accepting the event: one conditional write per keyed event.

The item records the first request's answer (event id, type, timestamp) and a digest of its body. A repeat
finds it and gets the same answer; a different body under the same key is refused. The event itself still
travels in its queue message, so the key costs one write and nothing else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hookline.core.errors import ConditionNotMet
from hookline.storage.table import Table, get_opt_float, get_str, idempotency_key, n, s

IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    tenant_id: str
    key_digest: str
    body_digest: str
    event_id: str
    event_type: str
    timestamp: str
    created_at: float  # Unix seconds


class IdempotencyStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Store ``record`` unless the key is taken: None when stored, else the record that holds it."""
        now = record.created_at
        item = idempotency_key(record.tenant_id, record.key_digest) | {
            "k": s("idempotency"),
            "bd": s(record.body_digest),
            "e": s(record.event_id),
            "ty": s(record.event_type),
            "ts": s(record.timestamp),
            "at": n(round(now, 3)),
            "expires_at": n(int(now) + IDEMPOTENCY_TTL_SECONDS),
        }
        try:
            # A key past its 24 h is free again even before TTL removes it (TTL may take days).
            self._table.put(
                item,
                "claim idempotency key",
                "attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": n(int(now))},
            )
        except ConditionNotMet:
            existing = self._table.get(
                idempotency_key(record.tenant_id, record.key_digest), "read idempotency key"
            )
            if existing is None:  # expired and removed in between: try once more
                return self.claim(record)
            return IdempotencyRecord(
                tenant_id=record.tenant_id,
                key_digest=record.key_digest,
                body_digest=get_str(existing, "bd"),
                event_id=get_str(existing, "e"),
                event_type=get_str(existing, "ty"),
                timestamp=get_str(existing, "ts"),
                created_at=get_opt_float(existing, "at") or time.time(),
            )
        return None

    def release(self, tenant_id: str, key_digest: str, event_id: str) -> None:
        """Free the key again (the event could not be queued), unless another request holds it now."""
        try:
            self._table.delete(
                idempotency_key(tenant_id, key_digest),
                "release idempotency key",
                "e = :event",
                ExpressionAttributeValues={":event": s(event_id)},
            )
        except ConditionNotMet:
            return
