"""What a scenario leaves stored in DynamoDB, and what storing it costs until its TTL removes it.

AWS's rules (DynamoDB pricing, "Data storage"; developer guide, "Item sizes and formats"):
- storage is billed per GB-month of the table's size, and each item counts its size (``item_size``) plus
  100 bytes of overhead; each global secondary index entry counts its projected size plus 100 bytes;
- continuous backups (point-in-time recovery) are billed per GB-month of the table's size, so an item costs
  PITR for as long as it is stored, when the template enables it;
- an item is stored from the time it is written until TTL deletes it (``expires_at``; TTL deletions are
  free; AWS deletes within a few days of expiry, which is left out). An item without ``expires_at`` is
  stored for ever: it is counted for ``forever_months`` and reported apart.

``snapshot`` lists the table's keys before a run; ``stored_since`` sizes what the run added (setup items are
in the snapshot, so they are not counted). Items that a run rewrote in place are counted at their final size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bench import prices
from bench.dynamodb_units import Table, describe, item_size

ITEM_OVERHEAD = 100  # bytes per item and per index entry
DAYS_PER_MONTH = 365.25 / 12


@dataclass
class Stored:
    """Bytes stored by a run, each weighted by the months it stays (byte-months)."""

    items: int = 0
    index_entries: int = 0
    bytes: int = 0  # table + index, overheads included
    byte_months: float = 0.0
    without_ttl: int = 0

    def storage_usd(self) -> float:
        return self.byte_months / 1e9 * prices.DYNAMODB_STORAGE_GB_MONTH.usd

    def backup_usd(self, pitr: bool) -> float:
        return self.byte_months / 1e9 * prices.DYNAMODB_PITR_GB_MONTH.usd if pitr else 0.0


def _key(table: Table, item: dict[str, Any]) -> str:
    return json.dumps(table.key_of(item), sort_keys=True)


def _scan(client: Any, name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": name}
    while True:
        page = client.scan(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def snapshot(client: Any, name: str) -> set[str]:
    table = describe(client, name)
    return {_key(table, item) for item in _scan(client, name)}


def item_months(item: dict[str, Any], written_at: float) -> float | None:
    """Months the item stays stored (None: it has no TTL)."""
    expires = item.get("expires_at", {}).get("N")
    if expires is None:
        return None
    return max(0.0, float(expires) - written_at) / 86400 / DAYS_PER_MONTH


def stored_since(
    client: Any, name: str, before: set[str], written_at: float, forever_months: float
) -> Stored:
    table = describe(client, name)
    stored = Stored()
    for item in _scan(client, name):
        if _key(table, item) in before:
            continue
        size = item_size(item) + ITEM_OVERHEAD
        for index in table.indexes:
            entry = table.index_entry(index, item)
            if entry is not None:
                stored.index_entries += 1
                size += item_size(entry) + ITEM_OVERHEAD
        months = item_months(item, written_at)
        if months is None:
            stored.without_ttl += 1
            months = forever_months
        stored.items += 1
        stored.bytes += size
        stored.byte_months += size * months
    return stored
