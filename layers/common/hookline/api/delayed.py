"""Delayed events: ``deliver_at`` on ``POST .../events`` (and batch items), and their cancellation.

A delayed event is accepted like any other (its job is built, its idempotency key claimed), but instead of
its event job a small ``release`` job is sent, due at ``deliver_at``:

- up to 15 minutes ahead: on the delivery queue with ``DelaySeconds``;
- beyond (up to 365 days): by a one-time EventBridge Scheduler ``at()`` schedule in the stack's group,
  whose target is the delivery queue and which deletes itself after it fires.

The event job itself waits in the event's origin item (``storage.event_origins``), the one write a delayed
event costs at ingest; an event for now still writes nothing. When the release job comes due, dispatch moves
the origin from ``scheduled`` to ``started`` (a conditional write) and sends the event job; ``DELETE`` moves
it to ``cancelled`` instead (and deletes the Scheduler schedule), so exactly one of the two wins. A release
job that arrives early (Scheduler's minute granularity) is sent back for the rest of the wait.

The event id's time part is ``deliver_at``, so the event sorts, is searched and expires by its delivery time,
and the delivered ``timestamp`` is ``deliver_at`` too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hookline.core import clock
from hookline.core.errors import ConflictError, HooklineError, InvalidRequestError, NotFoundError
from hookline.core.jobs import EventJob, ReleaseJob, encode_job
from hookline.observability import logger
from hookline.storage.event_origins import EventOrigin, EventOrigins, OriginState
from hookline.storage.queue import MAX_DELAY_SECONDS, DeliveryQueues
from hookline.storage.scheduler import SchedulerGateway, ScheduleSpec, at_expression

MAX_AHEAD_SECONDS = 365 * 86_400


@dataclass(frozen=True, slots=True)
class Delay:
    text: str  # as the caller wrote it (echoed in the 202)
    due_at: float  # Unix seconds; None-free: a time not in the future is no delay at all


def parse_deliver_at(text: str | None, now: float) -> tuple[str | None, Delay | None]:
    """(the text to echo, the delay): a past or present time echoes but delivers now."""
    if text is None:
        return None, None
    try:
        due = clock.parse_iso(text).timestamp()
    except ValueError:
        raise InvalidRequestError("deliver_at: must be an ISO-8601 time, like 2026-11-27T08:00:00Z") from None
    if due - now > MAX_AHEAD_SECONDS:
        raise InvalidRequestError("deliver_at: must be at most 365 days ahead")
    return text, (Delay(text, due) if due > now else None)


class DelayedEvents:
    def __init__(
        self,
        origins: EventOrigins,
        queue: DeliveryQueues,
        scheduler: Callable[[], SchedulerGateway],
        retention_days: int,
        clock_now: Callable[[], float] = time.time,
    ) -> None:
        self._origins = origins
        self._queue = queue
        self._scheduler = scheduler  # created on first use: most ingest containers never need it
        self._retention_days = retention_days
        self._now = clock_now

    def hold(self, job: EventJob, delay: Delay) -> None:
        """Keep the event job until ``delay.due_at``; nothing is left behind if it cannot be arranged."""
        remaining = delay.due_at - self._now()
        by_scheduler = remaining > MAX_DELAY_SECONDS
        origin = EventOrigin(
            job.tenant_id,
            job.event_id,
            OriginState.SCHEDULED,
            deliver_at=delay.text,
            due_at=delay.due_at,
            job=encode_job(job),
            schedule_name=job.event_id if by_scheduler else None,
        )
        if not self._origins.add(origin, clock.retention_expiry(self._retention_days, delay.due_at)):
            return  # a repeat of a request that already holds it
        release = ReleaseJob(job.tenant_id, job.event_id)
        try:
            if by_scheduler:
                due = datetime.fromtimestamp(math.ceil(delay.due_at), tz=UTC)
                self._scheduler().create(
                    ScheduleSpec(job.event_id, at_expression(due), "UTC", release, once=True)
                )
            else:
                self._queue.send(release, math.ceil(remaining))
        except HooklineError:
            self._origins.forget(job.tenant_id, job.event_id)
            raise

    def origin(self, tenant_id: str, event_id: str) -> EventOrigin | None:
        return self._origins.get(tenant_id, event_id)

    def cancel(self, tenant_id: str, event_id: str) -> None:
        """Cancel a scheduled event. NotFoundError if it was never delayed (the caller decides between 404
        and 409 then); ConflictError once it has started."""
        origin = self._origins.get(tenant_id, event_id)
        if origin is None or origin.state is OriginState.FIRED:
            raise NotFoundError(f"event {event_id!r} is not a delayed event")
        if origin.state is OriginState.CANCELLED:
            return
        if origin.state is OriginState.SCHEDULED and self._origins.move(
            tenant_id, event_id, OriginState.CANCELLED
        ):
            if origin.schedule_name:
                try:
                    self._scheduler().delete(origin.schedule_name)
                except HooklineError as exc:
                    # The release job it would send finds the event cancelled and drops it.
                    logger.warning(
                        "could not delete a cancelled event's schedule", extra={"reason": str(exc)}
                    )
            return
        raise ConflictError(f"event {event_id!r} has already started; it can no longer be cancelled")
