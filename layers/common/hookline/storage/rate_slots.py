"""Rate-limit slots: one number per endpoint, the earliest time its next delivery may start, changed by
compare-and-set so concurrent dispatchers never take the same slot."""

from __future__ import annotations

from hookline.core.errors import ConditionNotMet
from hookline.storage.table import Table, get_opt_float, n, rate_key


class RateSlotStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def next_slot(self, tenant_id: str, endpoint_id: str) -> float | None:
        item = self._table.get(rate_key(tenant_id, endpoint_id), "read rate limiter")
        return get_opt_float(item, "next_slot") if item else None

    def claim(
        self, tenant_id: str, endpoint_id: str, seen: float | None, next_slot: float, expires_at: int
    ) -> bool:
        """Move the next free slot from ``seen`` to ``next_slot``; False when another dispatcher moved it."""
        item = rate_key(tenant_id, endpoint_id) | {
            "next_slot": n(round(next_slot, 6)),
            "expires_at": n(expires_at),
        }
        try:
            if seen is None:
                self._table.put(item, "claim rate slot", "attribute_not_exists(next_slot)")
            else:
                self._table.put(
                    item,
                    "claim rate slot",
                    "next_slot = :seen",
                    ExpressionAttributeValues={":seen": n(round(seen, 6))},
                )
        except ConditionNotMet:
            return False
        return True
