"""The dispatch batch's reads (``core.ports.BatchReads``): records, deliveries stored apart and breaker
states, in one BatchGetItem."""

from __future__ import annotations

from collections.abc import Sequence

from hookline.core.models import BreakerState, EventRecord
from hookline.core.ports import RecordReads
from hookline.storage.breaker_state import breaker_from_item, is_breaker_item
from hookline.storage.event_log import assemble
from hookline.storage.table import Item, Table, delivery_key, event_key, health_key


class TableBatchReads:
    def __init__(self, table: Table) -> None:
        self._table = table

    def read(
        self, wanted: Sequence[RecordReads], action: str
    ) -> tuple[dict[tuple[str, str], EventRecord], dict[tuple[str, str], BreakerState]]:
        keys: list[Item] = []
        for reads in wanted:
            if reads.event is not None:
                keys.append(event_key(*reads.event))
            if reads.delivery is not None:
                keys.append(delivery_key(*reads.delivery))
            keys.extend(health_key(tenant_id, endpoint_id) for tenant_id, endpoint_id in reads.breakers)
        items = self._table.batch_get(keys, action) if keys else []
        breakers: dict[tuple[str, str], BreakerState] = {}
        for item in items:
            if is_breaker_item(item):
                state = breaker_from_item(item)
                breakers[(state.tenant_id, state.endpoint_id)] = state
        return assemble(items), breakers
