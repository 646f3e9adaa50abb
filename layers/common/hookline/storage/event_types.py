"""The event-type catalog in the table (one item per type, shared by every tenant), and the per-container
view of it that ingest reads instead of DynamoDB for a short, documented time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from hookline.core.errors import ConditionNotMet, NotFoundError
from hookline.core.event_types import EventType
from hookline.storage.table import (
    CATALOG_PK,
    Item,
    Table,
    boolean,
    event_type_key,
    get_bool,
    get_opt_str,
    get_str,
    s,
)

_TYPE_PREFIX = "ET#"
_MAX_CACHED_TYPES = 10_000


def _to_item(event_type: EventType) -> Item:
    item = event_type_key(event_type.name)
    item.update(
        {
            "k": s("event_type"),
            "name": s(event_type.name),
            "description": s(event_type.description),
            "examples": s(json.dumps(list(event_type.examples), ensure_ascii=False)),
            "deprecated": boolean(event_type.deprecated),
            "created_at": s(event_type.created_at),
            "updated_at": s(event_type.updated_at),
        }
    )
    if event_type.schema is not None:
        item["schema"] = s(json.dumps(event_type.schema, ensure_ascii=False))
    return item


def _from_item(item: Item) -> EventType:
    schema = get_opt_str(item, "schema")
    examples: list[dict[str, Any]] = json.loads(get_str(item, "examples", "[]"))
    return EventType(
        name=get_str(item, "name"),
        description=get_str(item, "description"),
        schema=None if schema is None else json.loads(schema),
        examples=tuple(examples),
        deprecated=get_bool(item, "deprecated", default=False),
        created_at=get_str(item, "created_at"),
        updated_at=get_str(item, "updated_at"),
    )


class EventTypeStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, name: str, consistent: bool = True) -> EventType | None:
        item = self._table.get(event_type_key(name), "get event type", consistent)
        return _from_item(item) if item else None

    def put(self, event_type: EventType) -> None:
        self._table.put(_to_item(event_type), "put event type")

    def delete(self, name: str) -> None:
        try:
            self._table.delete(event_type_key(name), "delete event type", "attribute_exists(pk)")
        except ConditionNotMet as exc:
            raise NotFoundError(f"event type {name!r} is not in the catalog") from exc

    def page(self, limit: int, after: str | None) -> list[EventType]:
        """Up to ``limit`` types in name order, after the type named ``after``."""
        start = None if after is None else event_type_key(after)
        items, _ = self._table.prefix_page(
            "list event types", CATALOG_PK, _TYPE_PREFIX, limit, start, consistent=True
        )
        return [_from_item(item) for item in items]


class EventTypeCatalog:
    """The catalog as ingest sees it: each name read at most once per ``ttl_seconds`` per container (absent
    names too, so unregistered types cost no read per event). A PUT or DELETE therefore reaches ingest
    within ``ttl_seconds``; with 0 every event reads its type."""

    def __init__(
        self, store: EventTypeStore, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, EventType | None]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> EventType | None:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        found = self._store.get(name, consistent=False)
        with self._lock:
            self._cache[name] = (now, found)
            if len(self._cache) > _MAX_CACHED_TYPES:
                self._cache.pop(next(iter(self._cache)))
        return found

    def forget(self, name: str) -> None:
        """Drop one cached answer (this container changed the type itself)."""
        with self._lock:
            self._cache.pop(name, None)
