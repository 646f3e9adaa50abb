"""Event search: a tenant's event records newest first, merged across its shards, never a scan.

A tenant's records are spread over ``EVENT_SHARDS`` partitions, each sorted by event id, and event ids are
ULIDs, so each partition is already in time order. A search queries every shard (in parallel) for the id
range that the time filters give, and merges the streams lazily, newest first, fetching another page from a
shard only when its buffer runs dry. Filters (type, delivery status, endpoint) run as DynamoDB filter
expressions, so only matching items cross the wire; pages are filled by reading on until they are full or
the tenant's log is exhausted, within a budget per request: a number of reads (queries, and the record
reads a filtered delivery item needs) and a deadline, whichever runs out first.

Deliveries kept apart from their record (``k`` "apart": the changes after a large record's first round)
always cross the wire: they join their record, whose inline entries and status counters ``c`` they
supersede, so each record found is checked again against the filter as assembled, and an event whose
record did not match is read whole when one of its items kept apart has the status searched for.

A position is "before this event id": the next page's upper bound. Items of one event (its record, and the
delivery items of a large fan-out) are adjacent in their shard, so they come out of the merge together.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from hookline.core.errors import SearchBudgetExceeded
from hookline.core.ids import EVENT_SHARDS, event_id_ceiling, event_id_floor
from hookline.core.models import DeliveryStatus, EventRecord
from hookline.storage.event_log import assemble
from hookline.storage.records import APART_KIND, STATUS_COUNTERS, is_apart_item
from hookline.storage.table import Item, Table, events_pk, n, s

_EVENT_ID_LENGTH = 30  # "evt_" + a 26-character ULID
_AFTER_EVERY_KEY_CHARACTER = "~"  # sorts after every character an event record's sort key holds
DEFAULT_READ_BUDGET = 400  # queries one search request may make


class _Budget:
    """Reads left and a deadline (``time.monotonic``); spending past either raises SearchBudgetExceeded."""

    def __init__(self, reads: int, deadline: float | None) -> None:
        self.reads = reads
        self.deadline = deadline

    def spend(self, reads: int = 1) -> None:
        self.reads -= reads
        if self.reads < 0 or (self.deadline is not None and time.monotonic() >= self.deadline):
            raise SearchBudgetExceeded


@dataclass(frozen=True, slots=True)
class EventFilter:
    exact_types: tuple[str, ...] = ()
    type_prefixes: tuple[str, ...] = ()  # "order." for the pattern "order.*"
    status: DeliveryStatus | None = None
    since: float | None = None  # Unix seconds
    until: float | None = None
    endpoint_id: str | None = None


@dataclass
class _Shard:
    pk: str
    buffer: list[Item] = field(default_factory=list)
    start: Item | None = None
    exhausted: bool = False


def upper_bound_before(event_id: str, inclusive: bool) -> str:
    """The largest sort key strictly older than ``event_id`` (or, inclusive, the last of its own items)."""
    if inclusive:
        return event_id + _AFTER_EVERY_KEY_CHARACTER
    return event_id[:-1] + chr(ord(event_id[-1]) - 1) + _AFTER_EVERY_KEY_CHARACTER


class EventSearch:
    def __init__(
        self,
        table: Table,
        executor: Executor | None = None,
        load_record: Callable[[str, str], EventRecord | None] | None = None,
    ) -> None:
        self._table = table
        self._executor = executor
        self._load_record = load_record

    def records(
        self,
        tenant_id: str,
        event_filter: EventFilter,
        before: str | None = None,
        inclusive: bool = False,
        page_hint: int = 50,
        read_budget: int = DEFAULT_READ_BUDGET,
        deadline: float | None = None,
    ) -> Iterator[EventRecord]:
        """Matching records, newest first, from ``before`` (exclusive unless ``inclusive``) on. Raises
        ``SearchBudgetExceeded`` when the read budget or the time to ``deadline`` (monotonic) is spent
        before the stream ends."""
        low = event_id_floor(event_filter.since) if event_filter.since is not None else "evt_"
        high = (
            event_id_ceiling(event_filter.until) + _AFTER_EVERY_KEY_CHARACTER
            if event_filter.until is not None
            else "evt_" + _AFTER_EVERY_KEY_CHARACTER
        )
        if before is not None:
            high = min(high, upper_bound_before(before, inclusive))
        if low > high:
            return
        query = _QueryShape.of(event_filter, low, high)
        budget = _Budget(read_budget, deadline)
        shards = [_Shard(events_pk(tenant_id, shard)) for shard in range(EVENT_SHARDS)]
        first_limit = max(5, page_hint // 8)
        self._fill_all(shards, query, first_limit, budget)
        heap: list[tuple[str, int]] = []
        for index, shard in enumerate(shards):
            if shard.buffer:
                heapq.heappush(heap, (_descending(shard.buffer[0]), index))
        group: list[Item] = []
        while heap:
            _, index = heapq.heappop(heap)
            shard = shards[index]
            item = shard.buffer.pop(0)
            if group and _event_id(group[0]) != _event_id(item):
                yield from self._records(tenant_id, group, event_filter, budget)
                group = []
            group.append(item)
            if not shard.buffer and not shard.exhausted:
                self._fill(shard, query, max(25, page_hint), budget)
            if shard.buffer:
                heapq.heappush(heap, (_descending(shard.buffer[0]), index))
        if group:
            yield from self._records(tenant_id, group, event_filter, budget)

    def _records(
        self, tenant_id: str, group: list[Item], event_filter: EventFilter, budget: _Budget
    ) -> Iterator[EventRecord]:
        event_id = _event_id(group[0])
        record = assemble(group).get((tenant_id, event_id))
        if record is None and self._load_record is not None and _may_match(group, event_filter):
            # Only delivery items matched (a large fan-out's, or kept apart): the record was filtered out.
            budget.spend()
            record = self._load_record(tenant_id, event_id)
        if record is not None and matches(record, event_filter):
            yield record

    def _fill_all(self, shards: list[_Shard], query: _QueryShape, limit: int, budget: _Budget) -> None:
        if self._executor is None:
            for shard in shards:
                self._fill(shard, query, limit, budget)
            return
        budget.spend(len(shards))
        # Each shard reads on while filters empty its pages: the shared budget's deadline still binds.
        shared = _Budget(budget.reads, budget.deadline)
        list(self._executor.map(lambda shard: self._fill(shard, query, limit, shared), shards))
        budget.reads = min(budget.reads, max(shared.reads, 0))

    def _fill(self, shard: _Shard, query: _QueryShape, limit: int, budget: _Budget) -> None:
        """Read pages of one shard until something matches or it ends (filters can empty a page)."""
        while not shard.buffer and not shard.exhausted:
            budget.spend()
            kwargs = query.kwargs(shard.pk, limit)
            if shard.start is not None:
                kwargs["ExclusiveStartKey"] = shard.start
            items, shard.start = self._table.query("search events", **kwargs)
            shard.buffer.extend(items)
            shard.exhausted = shard.start is None


@dataclass(frozen=True, slots=True)
class _QueryShape:
    key_condition: str
    filter_expression: str | None
    names: dict[str, str]
    values: dict[str, Any]

    @classmethod
    def of(cls, event_filter: EventFilter, low: str, high: str) -> _QueryShape:
        names: dict[str, str] = {}
        values: dict[str, Any] = {":low": s(low), ":high": s(high)}
        clauses: list[str] = []
        type_terms: list[str] = []
        for index, exact in enumerate(event_filter.exact_types):
            values[f":type{index}"] = s(exact)
            type_terms.append(f"ty = :type{index}")
        for index, prefix in enumerate(event_filter.type_prefixes):
            values[f":prefix{index}"] = s(prefix)
            type_terms.append(f"begins_with(ty, :prefix{index})")
        if type_terms:
            clauses.append("(" + " OR ".join(type_terms) + ")")
        if event_filter.status is not None:
            names |= {"#c": "c", "#counter": STATUS_COUNTERS[event_filter.status], "#s": "s"}
            values |= {":zero": n(0), ":status": s(event_filter.status.value), ":delivery": s("delivery")}
            clauses.append("(#c.#counter > :zero OR (k = :delivery AND #s = :status))")
        if event_filter.endpoint_id is not None:
            names |= {"#d": "d", "#endpoint": event_filter.endpoint_id}
            values[":endpoint"] = s(event_filter.endpoint_id)
            clauses.append("(attribute_exists(#d.#endpoint) OR ep = :endpoint)")
        if event_filter.status is None and event_filter.endpoint_id is None:
            values[":record"] = s("event")
            clauses.append("k = :record")
        values[":apart"] = s(APART_KIND)
        matching = clauses[0] if len(clauses) == 1 else "(" + " AND ".join(clauses) + ")"
        return cls(
            key_condition="pk = :pk AND sk BETWEEN :low AND :high",
            filter_expression=f"{matching} OR k = :apart",
            names=names,
            values=values,
        )

    def kwargs(self, pk: str, limit: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": self.key_condition,
            "ExpressionAttributeValues": {":pk": s(pk), **self.values},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if self.filter_expression:
            kwargs["FilterExpression"] = self.filter_expression
        if self.names:
            kwargs["ExpressionAttributeNames"] = self.names
        return kwargs


def matches(record: EventRecord, event_filter: EventFilter) -> bool:
    """The filter's type, status and endpoint terms on a record as assembled (time is the key's range)."""
    event_type = record.event.event_type
    if (event_filter.exact_types or event_filter.type_prefixes) and not (
        event_type in event_filter.exact_types
        or any(event_type.startswith(prefix) for prefix in event_filter.type_prefixes)
    ):
        return False
    if event_filter.status is not None and all(
        d.status is not event_filter.status for d in record.deliveries.values()
    ):
        return False
    return event_filter.endpoint_id is None or event_filter.endpoint_id in record.deliveries


def _may_match(items: list[Item], event_filter: EventFilter) -> bool:
    """Delivery items without their record: is the record worth reading? Yes if a large fan-out's item
    matched on its own, or an item kept apart has the status searched for."""
    return any(
        not is_apart_item(item)
        or (event_filter.status is not None and item.get("s", {}).get("S") == event_filter.status.value)
        for item in items
    )


def _event_id(item: Item) -> str:
    return str(item["sk"]["S"])[:_EVENT_ID_LENGTH]


def _descending(item: Item) -> str:
    """A heap key that pops the largest sort key first (the terminator puts a key after its extensions)."""
    return "".join(chr(0x10FFFF - ord(char)) for char in str(item["sk"]["S"])) + chr(0x10FFFF)
