"""Jobs that create other jobs: a large fan-out, an endpoint's recover, and the dead-letter redrive.

Each runs inside dispatch a page at a time and queues a continuation for the rest, so the API answers at
once however much work follows. Every page is safe to repeat: deliveries are created with conditions, and
resends are claimed before they are queued (``delivery.resend``), so a repeated page queues duplicates at
worst, and duplicates send once.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hookline.core import clock
from hookline.core.errors import DependencyError
from hookline.core.jobs import DeliverJob, EventJob, Job, RecoverJob, RedriveJob
from hookline.core.models import Delivery, DeliveryStatus, EventRecord, FailureEntry, FailureKind, FanoutState
from hookline.core.ports import DeadLetterKeeper, DeliveryLog, EndpointDirectoryPort, Jobs
from hookline.delivery import resend
from hookline.delivery.plan import RecordPlan, matching_endpoints
from hookline.delivery.timed_jobs import TimedJobs
from hookline.observability import logger, metrics
from hookline.storage.table import Item

SPILL_PAGE = 200  # deliveries created and queued per invocation of a large fan-out
RECOVER_PAGE = 100
REDRIVE_PAGE = 100


def encode_position(position: Item | None) -> str | None:
    return None if not position else base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def decode_position(cursor: str | None) -> Item | None:
    if not cursor:
        return None
    value: Any = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    return value if isinstance(value, dict) else None


class Expander:
    def __init__(
        self,
        log: DeliveryLog,
        directory: EndpointDirectoryPort,
        dead_letters: DeadLetterKeeper,
        deliveries: Jobs,
        retention_days: int,
        clock_now: Callable[[], float] = time.time,
        timed: TimedJobs | None = None,
    ) -> None:
        self._timed = timed  # delayed events, schedule firings, replays (``delivery.timed_jobs``)
        self._log = log
        self._directory = directory
        self._dead_letters = dead_letters
        self._deliveries = deliveries
        self._retention_days = retention_days
        self._now = clock_now

    def expand(self, job: Job, plan: RecordPlan) -> None:
        """Do one page of the job's work; raises (a retryable error) when the page must run again."""
        if isinstance(job, EventJob):
            self.spill(job, plan)
        elif isinstance(job, RecoverJob):
            self.recover(job)
        elif isinstance(job, RedriveJob):
            self.redrive(job)
        elif self._timed is not None and self._timed.handles(job):
            self._timed.run(job)
        else:
            raise DependencyError(f"{type(job).__name__} is not expanded")

    # --- a large fan-out ---------------------------------------------------------------------------------

    def spill(self, job: EventJob, plan: RecordPlan) -> None:
        """Give each delivery of a large fan-out an item and a deliver job of its own, a page at a time."""
        event = plan.event
        if event is None:
            raise DependencyError("the event of a large fan-out is not readable yet")
        expires = clock.event_expiry(event.event_id, self._retention_days)
        record = plan.record
        if record is None:
            record = EventRecord(
                event, FanoutState.PENDING, None, {}, overflow=True, only_endpoint=job.only_endpoint
            )
            self._log.create(record, expires)
        endpoints = self._directory.endpoints(event.tenant_id)
        if job.only_endpoint:
            wanted = [endpoints[job.only_endpoint]] if job.only_endpoint in endpoints else []
        else:
            # Matched once, when the plan did (it did unless the ids came from the record).
            matched = plan.endpoint_ids
            if matched is None:
                matched = matching_endpoints(event, endpoints)
            wanted = [endpoints[e] for e in matched if e in endpoints]
        after = job.after
        page = [e for e in wanted if after is None or e.endpoint_id > after][:SPILL_PAGE]
        if event.ordering_key is not None:
            # A continuation would queue behind later events of its key: an ordered fan-out spills whole.
            page = [e for e in wanted if after is None or e.endpoint_id > after]
        now = self._now()
        jobs: list[tuple[Job, int]] = []
        for endpoint in page:
            if endpoint.enabled:
                delivery = Delivery(
                    endpoint.endpoint_id, DeliveryStatus.PENDING, updated_at=clock.iso_from_unix(now)
                )
                self._log.create_overflow_delivery(record, delivery, expires)
                deliver = DeliverJob(
                    event.tenant_id, event.event_id, endpoint.endpoint_id, ordering_key=event.ordering_key
                )
                jobs.append((deliver, 0))
            else:
                failed = Delivery(
                    endpoint.endpoint_id,
                    DeliveryStatus.FAILED,
                    last_error_kind=FailureKind.ENDPOINT_DISABLED,
                    last_error="the endpoint is disabled; re-enable it and recover to resend",
                    updated_at=clock.iso_from_unix(now),
                )
                if self._log.create_overflow_delivery(record, failed, expires):
                    entry = FailureEntry(
                        event.tenant_id, endpoint.endpoint_id, event.event_id, clock.iso_from_unix(now)
                    )
                    self._log.index_failure(entry, expires)
        if self._deliveries.send_batch(jobs):
            raise DependencyError("some deliveries of a large fan-out could not be queued")
        if len(page) == SPILL_PAGE and page[-1].endpoint_id != wanted[-1].endpoint_id:
            self._deliveries.send(
                EventJob(
                    job.tenant_id,
                    job.event_id,
                    job.event_type,
                    job.timestamp,
                    None,
                    job.only_endpoint,
                    read_first=True,
                    after=page[-1].endpoint_id,
                    traceparent=job.traceparent,
                )
            )
        else:
            self._log.set_fanout(event.tenant_id, event.event_id, FanoutState.DONE)
        metrics.add_metric(name="EventsFannedOut", unit=MetricUnit.Count, value=1)
        logger.info("large fan-out page queued", extra={"event_id": event.event_id, "deliveries": len(jobs)})

    # --- recover -----------------------------------------------------------------------------------------

    def recover(self, job: RecoverJob) -> None:
        entries, last = self._log.failures_since(
            job.tenant_id, job.endpoint_id, job.since, RECOVER_PAGE, decode_position(job.cursor)
        )
        records = self._log.load([(job.tenant_id, e.event_id, job.endpoint_id) for e in entries])
        now = self._now()
        claims = []
        done = []
        for entry in entries:
            record = records.get((job.tenant_id, entry.event_id))
            if record is None:
                done.append(entry)
                continue
            claimed, settled = self._claim_failed(record, job.endpoint_id, now)
            if claimed is not None:
                claims.append((entry, claimed))
            elif settled:
                done.append(entry)  # no longer failed (resent or delivered meanwhile)
        queued = resend.queue_claimed(self._log, self._deliveries, [c for _, c in claims])
        queued_refs = {c.ref for c in queued}
        done += [entry for entry, c in claims if c.ref in queued_refs]
        if done:
            self._log.forget_failures(done)
        if len(queued) < len(claims):
            raise DependencyError("some recovered deliveries could not be queued")
        if last:
            self._deliveries.send(
                RecoverJob(job.tenant_id, job.endpoint_id, job.since, encode_position(last))
            )
        logger.info(
            "recover page queued",
            extra={"tenant_id": job.tenant_id, "endpoint_id": job.endpoint_id, "deliveries": len(queued)},
        )

    # --- redrive -----------------------------------------------------------------------------------------

    def redrive(self, job: RedriveJob) -> None:
        letters, last = self._dead_letters.page(REDRIVE_PAGE, decode_position(job.cursor))
        now = self._now()
        moved: list[str] = []
        bodies: list[tuple[str, int]] = []
        body_keys: list[str] = []
        claims = []
        for letter in letters:
            if letter.kind == "deliver" and letter.tenant_id and letter.event_id and letter.endpoint_id:
                record = self._log.get(letter.tenant_id, letter.event_id)
                if record is None:
                    moved.append(letter.key)  # the event aged out: nothing left to deliver
                    continue
                claimed, settled = self._claim_failed(record, letter.endpoint_id, now)
                if claimed is not None:
                    claims.append((letter.key, claimed))
                elif settled:
                    moved.append(letter.key)  # recovered or delivered meanwhile
            elif letter.kind != "unreadable":
                bodies.append((letter.job, 0))
                body_keys.append(letter.key)
        queued = resend.queue_claimed(self._log, self._deliveries, [c for _, c in claims])
        queued_refs = {c.ref for c in queued}
        moved += [key for key, c in claims if c.ref in queued_refs]
        failed_bodies = set(self._deliveries.send_bodies(bodies)) if bodies else set()
        moved += [key for index, key in enumerate(body_keys) if index not in failed_bodies]
        if moved:
            self._dead_letters.forget(moved)
        if failed_bodies or len(queued) < len(claims):
            raise DependencyError("some dead letters could not be sent back")
        if last:
            # What was moved is gone; what stayed (unreadable ones) is passed over by the cursor.
            self._deliveries.send(RedriveJob(encode_position(last)))
        logger.info("dead letters redriven", extra={"deliveries": len(moved)})

    def _claim_failed(
        self, record: EventRecord, endpoint_id: str, now: float
    ) -> tuple[resend.ResendClaimed | None, bool]:
        """Claim a failed delivery for another round (recover, redrive). Returns the claim, or None and
        whether the delivery is settled: no longer failed, so there is nothing left to resend."""
        expires = clock.event_expiry(record.event.event_id, self._retention_days)
        claimed = resend.claim(self._log, record, endpoint_id, now, True, expires)
        if claimed is not None:
            return claimed, False
        return None, not resend.claimable(record.deliveries.get(endpoint_id), now, only_failed=True)
