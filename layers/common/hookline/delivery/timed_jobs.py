"""Dispatch's timed jobs, kept apart from the fan-out and delivery pipeline (the expander hands them here):

- ``release``: a delayed event is due. Unless it was cancelled, its origin moves ``scheduled`` ->
  ``started`` (the conditional write a cancel races against) and its event job is sent; from then on it is an
  ordinary event. A release that comes early goes back to the queue for the rest of the wait; one that runs
  again after the move re-sends the job as a possible repeat (``read_first``), which dispatch de-duplicates.
- ``fire``: a recurring schedule fired. The event id is derived from the schedule and the scheduled time
  (``core.ids.firing_event_id``), and the job is sent as a possible repeat, so a firing that Scheduler (or
  SQS) delivers twice is one event, delivered once per endpoint.
- ``replay``: one page of a replay, one shard of the tenant's events at a time (see ``api.replays``).
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hookline.core import clock, ids, jsonsafe
from hookline.core.errors import DependencyError
from hookline.core.jobs import EventJob, FireJob, Job, ReleaseJob, ReplayJob, decode_job
from hookline.core.models import EventRecord
from hookline.core.ports import DeliveryLog, EndpointDirectoryPort, Jobs
from hookline.delivery import resend
from hookline.observability import logger
from hookline.storage.event_origins import EventOrigin, EventOrigins, OriginState
from hookline.storage.queue import MAX_DELAY_SECONDS
from hookline.storage.replays import SHARDS, Replay, ReplayStore
from hookline.storage.schedules import ScheduleStore
from hookline.storage.table import Item

REPLAY_PAGE = 50  # events per replay job


class TimedJobs:
    def __init__(
        self,
        origins: EventOrigins,
        schedules: ScheduleStore,
        replays: ReplayStore,
        log: DeliveryLog,
        directory: EndpointDirectoryPort,
        deliveries: Jobs,
        retention_days: int,
        clock_now: Callable[[], float] = time.time,
    ) -> None:
        self._origins = origins
        self._schedules = schedules
        self._replays = replays
        self._log = log
        self._directory = directory
        self._deliveries = deliveries
        self._retention_days = retention_days
        self._now = clock_now

    def handles(self, job: Job) -> bool:
        return isinstance(job, ReleaseJob | FireJob | ReplayJob)

    def run(self, job: Job) -> None:
        """Do the job (one page of it); raises a retryable error when it must run again."""
        if isinstance(job, ReleaseJob):
            self.release(job)
        elif isinstance(job, FireJob):
            self.fire(job)
        elif isinstance(job, ReplayJob):
            self.replay(job)

    # --- delayed events ------------------------------------------------------------------------------------

    def release(self, job: ReleaseJob) -> None:
        origin = self._origins.get(job.tenant_id, job.event_id)
        if origin is None or origin.job is None or origin.state is OriginState.CANCELLED:
            logger.info("delayed event not sent (cancelled or gone)", extra={"event_id": job.event_id})
            return
        remaining = (origin.due_at or 0.0) - self._now()
        if remaining > 0:
            self._deliveries.send(job, math.ceil(min(remaining, MAX_DELAY_SECONDS)))
            return
        first = origin.state is OriginState.SCHEDULED and self._origins.move(
            job.tenant_id, job.event_id, OriginState.STARTED
        )
        if not first and not self._started(origin):
            logger.info("delayed event cancelled as it came due", extra={"event_id": job.event_id})
            return
        event_job = decode_job(origin.job)
        if not isinstance(event_job, EventJob):
            logger.error("a delayed event's origin holds no event job", extra={"event_id": job.event_id})
            return
        self._deliveries.send(event_job if first else replace(event_job, read_first=True))
        logger.info("delayed event released", extra={"event_id": job.event_id, "repeat": not first})

    def _started(self, origin: EventOrigin) -> bool:
        if origin.state is OriginState.STARTED:
            return True
        now = self._origins.get(origin.tenant_id, origin.event_id)
        return now is not None and now.state is OriginState.STARTED

    # --- schedule firings -----------------------------------------------------------------------------------

    def fire(self, job: FireJob) -> None:
        schedule = self._schedules.get(job.tenant_id, job.schedule_id)
        if schedule is None or not schedule.enabled:
            logger.info(
                "firing of a deleted or disabled schedule ignored", extra={"schedule_id": job.schedule_id}
            )
            return
        try:
            scheduled_ms = round(clock.parse_iso(job.scheduled_time).timestamp() * 1000)
        except ValueError:
            logger.error(
                "firing without a scheduled time", extra={"scheduled_time": job.scheduled_time[:100]}
            )
            return
        event_id = ids.firing_event_id(job.schedule_id, scheduled_ms)
        timestamp = clock.iso_from_unix(scheduled_ms / 1000)
        body = jsonsafe.dumps({"type": schedule.event_type, "timestamp": timestamp, "data": schedule.data})
        origin = EventOrigin(job.tenant_id, event_id, OriginState.FIRED, schedule_id=job.schedule_id)
        self._origins.add(origin, clock.event_expiry(event_id, self._retention_days))
        fired = EventJob(
            job.tenant_id,
            event_id,
            schedule.event_type,
            timestamp,
            body,
            read_first=True,
            ordering_key=schedule.ordering_key,
        )
        self._deliveries.send(fired)
        logger.info("schedule fired", extra={"schedule_id": job.schedule_id, "event_id": event_id})

    # --- replays --------------------------------------------------------------------------------------------

    def replay(self, job: ReplayJob) -> None:
        replay = self._replays.get(job.tenant_id, job.replay_id)
        if replay is None or replay.done:
            return
        shard, start = _position(job.cursor)
        records, last = self._replays.events_page(replay, shard, start, REPLAY_PAGE)
        matched, queued, skipped, failed = self._replay_page(replay, records)
        if last is not None:
            following: tuple[int, Item | None] | None = (shard, last)
        else:
            following = (shard + 1, None) if shard + 1 < SHARDS else None
        self._replays.progress(replay, matched, queued, skipped, done=following is None and not failed)
        if failed:
            raise DependencyError("some replayed deliveries could not be queued; the page runs again")
        if following is not None:
            self._deliveries.send(ReplayJob(job.tenant_id, job.replay_id, _cursor(*following)))
        logger.info(
            "replay page done",
            extra={"replay_id": job.replay_id, "shard": shard, "queued": queued, "skipped": skipped},
        )

    def _replay_page(self, replay: Replay, records: list[EventRecord]) -> tuple[int, int, int, bool]:
        endpoints = self._directory.endpoints(replay.tenant_id)
        now = self._now()
        expires = clock.retention_expiry(self._retention_days, now)
        matched = skipped = 0
        claims: list[resend.ResendClaimed] = []
        for listed in records:
            record = self._log.get(replay.tenant_id, listed.event.event_id) if listed.overflow else listed
            if record is None:
                continue
            for endpoint_id, delivery in sorted(record.deliveries.items()):
                wanted = delivery.status.value == replay.status if replay.status else delivery.status.final
                if not wanted or replay.endpoint_id not in (None, endpoint_id):
                    continue
                if not self._replays.take(replay.replay_id, record.event.event_id, endpoint_id, expires):
                    continue  # this page ran before and took it then
                matched += 1
                endpoint = endpoints.get(endpoint_id)
                claimed = None
                if endpoint is not None and endpoint.enabled:
                    event_expiry = clock.event_expiry(record.event.event_id, self._retention_days)
                    claimed = resend.claim(self._log, record, endpoint_id, now, False, event_expiry)
                if claimed is None:
                    skipped += 1
                else:
                    claims.append(claimed)
        queued = resend.queue_claimed(self._log, self._deliveries, claims)
        sent = {c.ref for c in queued}
        for claim in claims:
            if claim.ref not in sent:  # released: the next run of this page takes it again
                self._replays.untake(replay.replay_id, claim.ref.event_id, claim.ref.endpoint_id)
                matched -= 1
        return matched, len(queued), skipped, len(queued) < len(claims)


def _position(cursor: str | None) -> tuple[int, Item | None]:
    if not cursor:
        return 0, None
    value: Any = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    return int(value["shard"]), value.get("start")


def _cursor(shard: int, start: Item | None) -> str:
    return base64.urlsafe_b64encode(json.dumps({"shard": shard, "start": start}).encode()).decode()
