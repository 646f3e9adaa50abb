"""Routes for timed work: delayed events (read while scheduled, cancel), recurring schedules, and replays.

Scopes: ``schedules:read`` / ``schedules:write`` for schedules; ``events:read`` / ``events:write`` for
reading and cancelling events and for replays.
"""

from __future__ import annotations

import json
from typing import Any

from hookline.api import binding, container
from hookline.api.auth import EVENTS_WRITE, SCHEDULES_READ, SCHEDULES_WRITE
from hookline.api.binding import PAGING
from hookline.api.router import EVENT, TENANT, Reply, Request, Result, route
from hookline.api.timed_models import ReplayIn, ScheduleIn, SchedulePatch
from hookline.api.views import EventOut, ReplayOut, ScheduleOut, SchedulePage
from hookline.core.errors import ConflictError, NotFoundError
from hookline.core.jobs import EventJob, decode_job
from hookline.core.models import FanoutState
from hookline.storage.event_origins import EventOrigin, OriginState

SCHEDULE = TENANT + "/schedules/{schedule_id}"


# --- events -----------------------------------------------------------------------------------------------


def event_with_origin(tenant_id: str, event_id: str) -> EventOut:
    """``GET .../events/{id}``: a delayed event not yet started shows ``status: scheduled`` (or
    ``cancelled``); a delayed or scheduled event shows its ``deliver_at`` or ``schedule_id`` after that."""
    binding.event_id(event_id)
    origin = container.delayed_events().origin(tenant_id, event_id)
    if origin is not None and origin.state in {OriginState.SCHEDULED, OriginState.CANCELLED}:
        return _waiting_view(origin)
    view = container.event_queries().event(tenant_id, event_id)
    if origin is not None and origin.deliver_at is not None:
        view["deliver_at"] = origin.deliver_at
    if origin is not None and origin.schedule_id is not None:
        view["schedule_id"] = origin.schedule_id
    return view


def _waiting_view(origin: EventOrigin) -> EventOut:
    job = decode_job(origin.job or "")
    assert isinstance(job, EventJob), "a delayed event's origin holds its event job"
    body: dict[str, Any] = json.loads(job.body) if job.body is not None else {}
    if job.body is None:  # too large for a job: its record was written at ingest
        record = container.event_queries().record(origin.tenant_id, origin.event_id)
        body = json.loads(record.event.body)
    view = EventOut(
        id=job.event_id,
        type=job.event_type,
        timestamp=job.timestamp,
        data=body.get("data", {}),
        fanout=FanoutState.PENDING,
        deliveries=[],
        ordering_key=job.ordering_key,
        status="scheduled" if origin.state is OriginState.SCHEDULED else "cancelled",
    )
    if origin.deliver_at is not None:
        view["deliver_at"] = origin.deliver_at
    return view


@route(
    "DELETE",
    EVENT,
    summary="Cancel a delayed event before it is delivered",
    tag="Events",
    access=EVENTS_WRITE,
    responses={204: None},
    errors=(409,),
)
def cancel_event(request: Request) -> Result:
    """Only an event sent with a future `deliver_at`, while it is still `scheduled`: once its delivery has
    started (or for an event sent for now) the answer is 409. Cancelling twice is fine."""
    event_id = binding.event_id(request.params["event_id"])
    try:
        container.delayed_events().cancel(request.tenant_id, event_id)
    except NotFoundError:
        container.event_queries().record(request.tenant_id, event_id)  # 404 if there is no such event
        raise ConflictError(
            f"event {event_id!r} was sent for delivery at once; it cannot be cancelled"
        ) from None
    return None


# --- schedules --------------------------------------------------------------------------------------------


@route(
    "POST",
    TENANT + "/schedules",
    summary="Create a recurring schedule",
    tag="Schedules",
    access=SCHEDULES_WRITE,
    body=ScheduleIn,
    responses={201: ScheduleOut},
)
def create_schedule(request: Request) -> Result:
    """Each firing sends a new event (its own id, signed, logged, retried, fanned out) with the schedule's
    `type` and `data`, once per firing even if EventBridge Scheduler retries it."""
    return container.schedule_service().create(request.tenant_id, request.body_as(ScheduleIn))


@route(
    "GET",
    TENANT + "/schedules",
    summary="List schedules",
    tag="Schedules",
    access=SCHEDULES_READ,
    query=PAGING,
    responses={200: SchedulePage},
)
def list_schedules(request: Request) -> Result:
    return container.schedule_service().list(
        request.tenant_id, binding.page_size(request.query), request.cursor
    )


@route(
    "GET",
    SCHEDULE,
    summary="Read a schedule with its next run",
    tag="Schedules",
    access=SCHEDULES_READ,
    responses={200: ScheduleOut},
)
def get_schedule(request: Request) -> Result:
    return container.schedule_service().get(request.tenant_id, request.params["schedule_id"])


@route(
    "PATCH",
    SCHEDULE,
    summary="Change a schedule",
    tag="Schedules",
    access=SCHEDULES_WRITE,
    body=SchedulePatch,
    responses={200: ScheduleOut},
)
def update_schedule(request: Request) -> Result:
    """`{"enabled": false}` pauses it; giving `cron` replaces a `rate` and the other way round."""
    service = container.schedule_service()
    return service.update(request.tenant_id, request.params["schedule_id"], request.body_as(SchedulePatch))


@route(
    "DELETE",
    SCHEDULE,
    summary="Delete a schedule",
    tag="Schedules",
    access=SCHEDULES_WRITE,
    responses={204: None},
)
def delete_schedule(request: Request) -> Result:
    container.schedule_service().delete(request.tenant_id, request.params["schedule_id"])
    return None


# --- replays ----------------------------------------------------------------------------------------------


@route(
    "POST",
    TENANT + "/replays",
    summary="Re-send the deliveries of a time range that match a filter",
    tag="Events",
    access=EVENTS_WRITE,
    body=ReplayIn,
    responses={202: ReplayOut},
)
def start_replay(request: Request) -> Result:
    """Runs in the background. Each matching delivery is re-sent once, only to endpoints its event was fanned
    out to, and only while that endpoint is enabled; `GET .../replays/{id}` shows the progress."""
    return Reply(202, container.replay_service().start(request.tenant_id, request.body_as(ReplayIn)))


@route(
    "GET",
    TENANT + "/replays/{replay_id}",
    summary="A replay's progress",
    tag="Events",
    access=EVENTS_WRITE,
    responses={200: ReplayOut},
)
def get_replay(request: Request) -> Result:
    return container.replay_service().get(request.tenant_id, request.params["replay_id"])
