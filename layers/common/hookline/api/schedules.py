"""Recurring schedules: ``POST/GET/PATCH/DELETE .../schedules``, each backed by one EventBridge Scheduler
schedule of the same name in the stack's group, whose target is the delivery queue with a ``fire`` job as
input. Scheduler fills in the firing's scheduled time; dispatch turns the firing into one event whose id is
derived from the schedule and that time (``delivery.timed_jobs``), so a retried firing is the same event.

The table item is written first and the AWS schedule second; if AWS refuses, the item is put back as it was,
so nothing is left half-made. A firing of a schedule whose item is gone or disabled sends nothing.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from hookline.api import paging
from hookline.api.paging import Pager
from hookline.api.tenants import KnownTenants
from hookline.api.timed_models import MAX_SCHEDULE_DATA_BYTES, ScheduleIn, SchedulePatch
from hookline.api.views import ScheduleOut, SchedulePage
from hookline.core import clock, ids, recurrence
from hookline.core.errors import HooklineError, InvalidRequestError, NotFoundError
from hookline.core.jobs import FireJob
from hookline.core.recurring import Schedule
from hookline.storage.scheduler import SCHEDULED_TIME, SchedulerGateway, ScheduleSpec
from hookline.storage.schedules import ScheduleStore

_CLEARABLE = ("ordering_key", "start_at", "end_at")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, 23, 59, tzinfo=UTC)


class ScheduleService:
    def __init__(
        self,
        store: ScheduleStore,
        scheduler: Callable[[], SchedulerGateway],
        pager: Pager,
        tenants: KnownTenants,
        clock_now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._pager = pager
        self._tenants = tenants
        self._now = clock_now

    def create(self, tenant_id: str, request: ScheduleIn) -> ScheduleOut:
        self._tenants.require(tenant_id)
        now = clock.iso_from_unix(self._now())
        schedule = _checked(
            Schedule(
                tenant_id=tenant_id,
                schedule_id=ids.new_schedule_id(),
                event_type=request.type,
                data=request.data,
                cron=request.cron,
                rate=request.rate,
                timezone=request.timezone,
                ordering_key=request.ordering_key,
                start_at=request.start_at,
                end_at=request.end_at,
                enabled=request.enabled,
                created_at=now,
                updated_at=now,
            )
        )
        self._store.put(schedule, new=True)
        try:
            self._scheduler().create(_spec(schedule, self._now()))
        except HooklineError:
            self._store.delete(tenant_id, schedule.schedule_id)
            raise
        return self._view(schedule)

    def list(self, tenant_id: str, limit: int, cursor: str | None) -> SchedulePage:
        list_scope = paging.scope("schedules", tenant_id)
        after = paging.text_field(self._pager.position(list_scope, cursor), "after")
        schedules = self._store.page_after(tenant_id, limit + 1, after)
        if not schedules and after is None:
            self._tenants.require(tenant_id)
        shown = schedules[:limit]
        more = len(schedules) > limit
        position = {"after": shown[-1].schedule_id} if more and shown else None
        return SchedulePage(
            data=[self._view(schedule) for schedule in shown],
            next_cursor=self._pager.cursor(list_scope, position),
            has_more=more,
        )

    def get(self, tenant_id: str, schedule_id: str) -> ScheduleOut:
        return self._view(self._require(tenant_id, schedule_id))

    def update(self, tenant_id: str, schedule_id: str, request: SchedulePatch) -> ScheduleOut:
        current = self._require(tenant_id, schedule_id)
        given = request.model_fields_set
        if "cron" in given and "rate" in given and request.cron is not None and request.rate is not None:
            raise InvalidRequestError("give exactly one of 'cron' and 'rate'")
        changes: dict[str, object] = {}
        for name in ("type", "data", "timezone", "enabled", "cron", "rate"):
            value = getattr(request, name)
            if name in given and value is None:
                if name in {"cron", "rate"}:
                    continue  # cleared only by giving the other one
                raise InvalidRequestError(f"{name}: cannot be removed; leave it out to keep it")
            if name in given:
                changes["event_type" if name == "type" else name] = value
        if request.cron is not None:
            changes["rate"] = None
        if request.rate is not None:
            changes["cron"] = None
        changes |= {name: getattr(request, name) for name in _CLEARABLE if name in given}
        updated = _checked(
            dataclasses.replace(current, **changes, updated_at=clock.iso_from_unix(self._now()))  # type: ignore[arg-type]
        )
        self._store.put(updated, new=False)
        try:
            self._scheduler().update(_spec(updated, self._now()))
        except HooklineError:
            self._store.put(current, new=False)
            raise
        return self._view(updated)

    def delete(self, tenant_id: str, schedule_id: str) -> None:
        self._require(tenant_id, schedule_id)
        self._scheduler().delete(schedule_id)
        self._store.delete(tenant_id, schedule_id)

    def _require(self, tenant_id: str, schedule_id: str) -> Schedule:
        schedule = None
        if ids.SCHEDULE_ID_PATTERN.fullmatch(schedule_id):
            schedule = self._store.get(tenant_id, schedule_id)
        if schedule is None:
            self._tenants.require(tenant_id)
            raise NotFoundError(f"schedule {schedule_id!r} does not exist")
        return schedule

    def _view(self, schedule: Schedule) -> ScheduleOut:
        upcoming = schedule.next_run(datetime.fromtimestamp(self._now(), tz=UTC))
        return ScheduleOut(
            id=schedule.schedule_id,
            type=schedule.event_type,
            data=schedule.data,
            cron=schedule.cron,
            rate=schedule.rate,
            timezone=schedule.timezone,
            ordering_key=schedule.ordering_key,
            start_at=schedule.start_at,
            end_at=schedule.end_at,
            enabled=schedule.enabled,
            created_at=schedule.created_at,
            updated_at=schedule.updated_at,
            next_run_at=None if upcoming is None else clock.iso_from_unix(upcoming.timestamp()),
        )


def _checked(schedule: Schedule) -> Schedule:
    """Every rule a schedule must keep, whether new or changed (400s that name the field)."""
    recurrence.parse(schedule.cron, schedule.rate)
    recurrence.parse_timezone(schedule.timezone)
    if len(json.dumps(schedule.data, ensure_ascii=False).encode()) > MAX_SCHEDULE_DATA_BYTES:
        raise InvalidRequestError(f"data: at most {MAX_SCHEDULE_DATA_BYTES} bytes of JSON")
    start = clock.parse_iso(schedule.start_at) if schedule.start_at else None
    end = clock.parse_iso(schedule.end_at) if schedule.end_at else None
    for name, moment in (("start_at", start), ("end_at", end)):
        if moment is not None and not EARLIEST <= moment <= LATEST:
            raise InvalidRequestError(f"{name}: must be between 1970 and 2199 (EventBridge's cron years)")
    if start is not None and end is not None and end <= start:
        raise InvalidRequestError("end_at: must be after start_at")
    return schedule


def _spec(schedule: Schedule, now: float) -> ScheduleSpec:
    """Scheduler refuses a start in the past and an end that has passed: a past start is left out (the
    schedule runs from now), and a schedule past its end is disabled there."""
    start = clock.parse_iso(schedule.start_at) if schedule.start_at else None
    end = clock.parse_iso(schedule.end_at) if schedule.end_at else None
    ended = end is not None and end.timestamp() <= now
    return ScheduleSpec(
        name=schedule.schedule_id,
        expression=schedule.aws_expression,
        timezone=schedule.timezone,
        job=FireJob(schedule.tenant_id, schedule.schedule_id, SCHEDULED_TIME),
        enabled=schedule.enabled and not ended,
        start=start if start is not None and start.timestamp() > now else None,
        end=None if ended else end,
    )
