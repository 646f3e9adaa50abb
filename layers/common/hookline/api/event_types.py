"""The event-type catalog: its admin routes' service, and the check ingest makes against it.

One catalog per deployment, shared by every tenant (like Svix's event types). A type's schema is checked to
be a valid JSON Schema 2020-12 on PUT, and so is each example against it; ingest then refuses an event whose
``data`` breaks its type's schema (422 ``schema_mismatch``, naming the path), and, when the deployment
requires registered types, an event of a type that is not in the catalog (422 ``unknown_event_type``).
"""

from __future__ import annotations

from typing import Any

from hookline.api import paging
from hookline.api.models import EventTypeIn
from hookline.api.paging import Pager
from hookline.api.views import EventTypeOut, EventTypePage, event_type_view
from hookline.core import clock
from hookline.core.errors import NotFoundError, SchemaMismatchError, UnknownEventTypeError
from hookline.core.event_types import EventType, SchemaCache, check_examples, check_schema
from hookline.storage.event_types import EventTypeCatalog, EventTypeStore


class EventTypeService:
    def __init__(self, store: EventTypeStore, catalog: EventTypeCatalog, schemas: SchemaCache, pager: Pager):
        self._store = store
        self._catalog = catalog
        self._schemas = schemas
        self._pager = pager

    def put(self, name: str, request: EventTypeIn) -> tuple[bool, EventTypeOut]:
        """Create or replace a type, after checking its schema and examples (400). True when it is new."""
        if request.data_schema is not None:
            check_schema(request.data_schema)
        check_examples(request.data_schema, request.examples, self._schemas)
        current = self._store.get(name)
        now = clock.now_iso()
        event_type = EventType(
            name=name,
            description=request.description,
            schema=request.data_schema,
            examples=tuple(request.examples),
            deprecated=request.deprecated,
            created_at=current.created_at if current else now,
            updated_at=now,
        )
        self._store.put(event_type)
        self._catalog.forget(name)
        return current is None, event_type_view(event_type)

    def get(self, name: str) -> EventTypeOut:
        found = self._store.get(name)
        if found is None:
            raise NotFoundError(f"event type {name!r} is not in the catalog")
        return event_type_view(found)

    def list(self, limit: int, cursor: str | None) -> EventTypePage:
        list_scope = paging.scope("event-types")
        after = paging.text_field(self._pager.position(list_scope, cursor), "after")
        types = self._store.page(limit + 1, after)
        shown = types[:limit]
        more = len(types) > limit
        position = {"after": shown[-1].name} if more and shown else None
        return EventTypePage(
            data=[event_type_view(event_type) for event_type in shown],
            next_cursor=self._pager.cursor(list_scope, position),
            has_more=more,
        )

    def delete(self, name: str) -> None:
        self._store.delete(name)
        self._catalog.forget(name)


class EventTypeGate:
    """What ingest asks of the catalog for each event: may this ``data`` be sent as this type?"""

    def __init__(self, catalog: EventTypeCatalog, schemas: SchemaCache, require_registered: bool) -> None:
        self._catalog = catalog
        self._schemas = schemas
        self._require_registered = require_registered

    def check(self, event_type: str, data: dict[str, Any], registered_only: bool = True) -> None:
        """422 when ``data`` breaks the type's schema, or (``registered_only`` and the deployment requires
        it) when the type is not in the catalog."""
        found = self._catalog.get(event_type)
        if found is None:
            if self._require_registered and registered_only:
                raise UnknownEventTypeError(
                    f"type: {event_type!r} is not in the event-type catalog, and this deployment accepts "
                    "registered types only (PUT /v1/event-types/{name})"
                )
            return
        if found.schema is not None:
            problem = self._schemas.mismatch(found.schema, data)
            if problem is not None:
                raise SchemaMismatchError(problem)

    def first_example(self, event_type: str) -> dict[str, Any] | None:
        found = self._catalog.get(event_type)
        return dict(found.examples[0]) if found and found.examples else None
