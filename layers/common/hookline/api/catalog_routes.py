"""Routes for the event-type catalog (one per deployment): the admin writes it, any valid key reads it."""

from __future__ import annotations

from hookline.api import binding, container
from hookline.api.auth import ADMIN_ONLY, ANY_TENANT_KEY
from hookline.api.binding import PAGING
from hookline.api.models import EventTypeIn
from hookline.api.router import Reply, Request, Result, route
from hookline.api.views import EventTypeOut, EventTypePage

EVENT_TYPE = "/v1/event-types/{name}"


def _name(request: Request) -> str:
    return binding.event_type_name(request.params["name"])


@route(
    "PUT",
    EVENT_TYPE,
    summary="Create or replace an event type",
    tag="Event types",
    access=ADMIN_ONLY,
    body=EventTypeIn,
    body_optional=True,
    responses={200: EventTypeOut, 201: EventTypeOut},
)
def put_event_type(request: Request) -> Result:
    """201 when the type is new, 200 when it replaced one. `schema` must be a valid JSON Schema 2020-12
    (references resolve within it; nothing is fetched) and every example must match it, else 400. Ingest
    refuses events of this type whose `data` breaks the schema (422 `schema_mismatch`) within
    `EventTypeCacheSeconds`."""
    created, view = container.event_type_service().put(_name(request), request.body_as(EventTypeIn))
    return Reply(201 if created else 200, view)


@route(
    "GET",
    "/v1/event-types",
    summary="The event-type catalog, by name",
    tag="Event types",
    access=ANY_TENANT_KEY,
    query=PAGING,
    responses={200: EventTypePage},
)
def list_event_types(request: Request) -> Result:
    limit = binding.page_size(request.query)
    return container.event_type_service().list(limit, request.cursor)


@route(
    "GET",
    EVENT_TYPE,
    summary="Read an event type",
    tag="Event types",
    access=ANY_TENANT_KEY,
    responses={200: EventTypeOut},
    errors=(400,),
)
def get_event_type(request: Request) -> Result:
    return container.event_type_service().get(_name(request))


@route(
    "DELETE",
    EVENT_TYPE,
    summary="Remove an event type from the catalog",
    tag="Event types",
    access=ADMIN_ONLY,
    responses={204: None},
    errors=(400,),
)
def delete_event_type(request: Request) -> Result:
    """Events of this type are no longer checked against its schema (and, where the deployment requires
    registered types, are refused) within `EventTypeCacheSeconds`."""
    container.event_type_service().delete(_name(request))
    return None
