"""Routes for events (send, batch, search, read, attempts, retry), operators, and the API's own description
(see ``api.routes`` for the scopes)."""

from __future__ import annotations

from typing import Any

from hookline.api import binding, container, docs, openapi, timed_routes
from hookline.api.auth import ADMIN_ONLY, EVENTS_READ, EVENTS_WRITE, PUBLIC
from hookline.api.binding import PAGING, QueryParam
from hookline.api.models import IDEMPOTENCY_KEY_SCHEMA, BatchIn, EventIn, RetryIn
from hookline.api.router import EVENT, TENANT, Request, Result, route
from hookline.api.views import (
    AttemptPage,
    BatchOut,
    DeadLetterPage,
    EventAccepted,
    EventOut,
    EventPage,
    QueuedOut,
    ResealOut,
    RetryOut,
)
from hookline.core import trace
from hookline.core.models import DeliveryStatus

EVENT_SEARCH = (
    QueryParam("type", {"type": "string"}, "Exact types and `prefix.*` wildcards, comma-separated."),
    QueryParam(
        "status",
        {"type": "string", "enum": [s.value for s in DeliveryStatus]},
        "Events with at least one delivery in this status.",
    ),
    QueryParam("since", {"type": "string", "format": "date-time"}, "Events at or after this time."),
    QueryParam("until", {"type": "string", "format": "date-time"}, "Events at or before this time."),
    *PAGING,
)

TRACEPARENT_PARAMETER = {
    "name": "traceparent",
    "in": "header",
    "required": False,
    "description": "W3C Trace Context. Kept with the event and sent on each delivery attempt with the same "
    "trace id and flags (a new parent id per attempt). An invalid value is ignored.",
    "schema": {"type": "string", "examples": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]},
}


# --- events ---------------------------------------------------------------------------------------------


@route(
    "POST",
    TENANT + "/events",
    summary="Send an event",
    tag="Events",
    access=EVENTS_WRITE,
    body=EventIn,
    responses={202: EventAccepted},
    errors=(409, 413, 422),
    extra={
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", **IDEMPOTENCY_KEY_SCHEMA},
            },
            TRACEPARENT_PARAMETER,
        ]
    },
)
def post_event(request: Request) -> Result:
    """Fans out to every matching endpoint. A repeat with the same `Idempotency-Key` (per tenant, 24 h)
    gets the first answer once it is final; while the first request is still running, a repeat waits up to
    about 2 s, then gets a 409 `idempotency_in_progress` with `Retry-After`. If the first request failed
    (503), a repeat creates the event anew. The same key with another body is a 422. When the type is in
    the event-type catalog with a schema, `data` must match it (else 422 `schema_mismatch`, naming the
    path)."""
    key = request.header("idempotency-key")
    traceparent = trace.parse(request.header("traceparent"))
    return container.ingest_service().accept(request.tenant_id, request.body_as(EventIn), key, traceparent)


@route(
    "POST",
    TENANT + "/events/batch",
    summary="Send up to 100 events",
    tag="Events",
    access=EVENTS_WRITE,
    body=BatchIn,
    responses={207: BatchOut},
    errors=(413,),
    extra={"parameters": [TRACEPARENT_PARAMETER]},
)
def post_event_batch(request: Request) -> Result:
    """One result per event, in input order: a bad item gets its own 4xx and never fails the others."""
    traceparent = trace.parse(request.header("traceparent"))
    return container.ingest_service().accept_batch(request.tenant_id, request.body_as(BatchIn), traceparent)


@route(
    "GET",
    TENANT + "/events",
    summary="Search events, newest first",
    tag="Events",
    access=EVENTS_READ,
    query=EVENT_SEARCH,
    responses={200: EventPage},
    errors=(422,),
)
def search_events(request: Request) -> Result:
    return container.event_queries().search(request.tenant_id, request.query)


@route(
    "GET",
    EVENT,
    summary="Read an event with one delivery status per endpoint",
    tag="Events",
    access=EVENTS_READ,
    responses={200: EventOut},
)
def get_event(request: Request) -> Result:
    """A delayed event shows `status: scheduled` until it is delivered; an event made by a schedule shows its
    `schedule_id`."""
    return timed_routes.event_with_origin(request.tenant_id, request.params["event_id"])


@route(
    "GET",
    EVENT + "/attempts",
    summary="Every attempt of an event, newest first",
    tag="Events",
    access=EVENTS_READ,
    query=PAGING,
    responses={200: AttemptPage},
)
def list_event_attempts(request: Request) -> Result:
    queries = container.event_queries()
    return queries.event_attempts(request.tenant_id, request.params["event_id"], request.query)


@route(
    "POST",
    EVENT + "/retry",
    summary="Resend an event now, with the same webhook-id",
    tag="Events",
    access=EVENTS_WRITE,
    body=RetryIn,
    body_optional=True,
    responses={202: RetryOut},
    errors=(409, 422),
)
def retry_event(request: Request) -> Result:
    """Resends to every enabled endpoint the event was fanned out to, or to `endpoint_id` alone. An
    endpoint the event never went to (its types or filter refuse it) is a 422 `not_subscribed`; a disabled
    one is a 409."""
    retry = request.body_as(RetryIn)
    if retry.endpoint_id is not None:
        binding.endpoint_id(retry.endpoint_id)
    record = container.event_queries().record(request.tenant_id, request.params["event_id"])
    return container.resend_service().retry(record, retry)


# --- operators ------------------------------------------------------------------------------------------


@route(
    "GET",
    "/v1/admin/dead-letters",
    summary="Dead letters kept for a redrive",
    tag="Operators",
    access=ADMIN_ONLY,
    query=PAGING,
    responses={200: DeadLetterPage},
)
def list_dead_letters(request: Request) -> Result:
    return container.admin_service().dead_letters(binding.page_size(request.query), request.cursor)


@route(
    "POST",
    "/v1/admin/dead-letters/redrive",
    summary="Send every dead letter back for another round",
    tag="Operators",
    access=ADMIN_ONLY,
    responses={202: QueuedOut},
)
def redrive_dead_letters(request: Request) -> Result:
    return container.admin_service().redrive()


@route(
    "POST",
    "/v1/admin/encryption-keys/reseal",
    summary="Re-seal endpoint secrets under the current key",
    tag="Operators",
    access=ADMIN_ONLY,
    query=(binding.CURSOR,),
    responses={200: ResealOut},
)
def reseal_endpoint_secrets(request: Request) -> Result:
    """A page per call: call again with `cursor` until `next_cursor` is null, then drop the old key."""
    return container.admin_service().reseal(request.cursor)


# --- the API's own description --------------------------------------------------------------------------

_JSON_DOC: dict[str, Any] = {"content": {"application/json": {"schema": {"type": "object"}}}}
_HTML: dict[str, Any] = {"content": {"text/html": {"schema": {"type": "string"}}}}


@route(
    "GET",
    "/v1/openapi.json",
    summary="This API's OpenAPI 3.1 document",
    tag="Documentation",
    access=PUBLIC,
    responses={200: None},
    extra={"response": _JSON_DOC},
)
def get_openapi(request: Request) -> Result:
    return openapi.response()


@route(
    "GET",
    "/v1/docs",
    summary="Swagger UI for this API (served by the API, works offline)",
    tag="Documentation",
    access=PUBLIC,
    responses={200: None},
    extra={"response": _HTML},
)
def get_docs(request: Request) -> Result:
    return docs.page()


@route(
    "GET",
    "/v1/docs/{asset}",
    summary="Swagger UI's assets",
    tag="Documentation",
    access=PUBLIC,
    responses={200: None},
    extra={"response": {"content": {"*/*": {}}}, "hidden": True},
)
def get_docs_asset(request: Request) -> Result:
    return docs.asset(request.params["asset"])
