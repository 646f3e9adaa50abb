"""Idempotency keys, folded into accepting the event: a conditional claim and one update per keyed event.

The item records the first request's answer (event id, type, timestamp), a digest of its body and whether
that answer is final: a claim is ``pending`` until its event was queued, then ``sent``. A repeat that finds
a ``sent`` claim gets the same answer; one that finds a ``pending`` claim waits for the holder's outcome
(``api.ingest``), because the holder may still fail and release the key. A different body under the same
key is refused. The event itself travels in its queue message.
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
    sent: bool = False  # the event was queued: the answer is final


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
            "st": s("sent" if record.sent else "pending"),
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
            existing = self.read(record.tenant_id, record.key_digest)
            if existing is None:  # expired or released in between: try once more
                return self.claim(record)
            return existing
        return None

    def read(self, tenant_id: str, key_digest: str) -> IdempotencyRecord | None:
        item = self._table.get(idempotency_key(tenant_id, key_digest), "read idempotency key")
        if item is None:
            return None
        return IdempotencyRecord(
            tenant_id=tenant_id,
            key_digest=key_digest,
            body_digest=get_str(item, "bd"),
            event_id=get_str(item, "e"),
            event_type=get_str(item, "ty"),
            timestamp=get_str(item, "ts"),
            created_at=get_opt_float(item, "at") or time.time(),
            # Claims written before claims had a state were only ever answered once queued.
            sent=get_str(item, "st", "sent") == "sent",
        )

    def mark_sent(self, tenant_id: str, key_digest: str, event_id: str) -> None:
        """Make the claim's answer final (its event is queued), unless another request holds the key now."""
        try:
            self._table.update(
                idempotency_key(tenant_id, key_digest),
                "confirm idempotency key",
                "SET st = :sent",
                condition="e = :event",
                ExpressionAttributeValues={":sent": s("sent"), ":event": s(event_id)},
            )
        except ConditionNotMet:
            return

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
