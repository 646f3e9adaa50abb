"""Persisting a record's outcomes: the event record's one write, or one delivery's compare-and-swap.

A delivery that got a 2xx must be recorded before anything else can fail. If the write fails (after
botocore's own retries), the outcomes travel on instead: a replacement job carrying them (``known``) is
queued and the original acknowledged, so the next carrier writes them and never sends those pairs again.
Only if that send fails too do the outcomes stay in this container's memory (``Unrecorded``), and the
original message comes back; a 2xx can then be sent twice only if another container picks it up.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from hookline.core import clock
from hookline.core.errors import ContendedWriteError, HooklineError
from hookline.core.jobs import DeliverJob, EventJob, Job
from hookline.core.models import Delivery, DeliveryRef, DeliveryStatus, EventRecord, FailureEntry, FanoutState
from hookline.core.ports import DeliveryLog, Jobs
from hookline.delivery.plan import PairTask, RecordKind, RecordPlan
from hookline.delivery.settle import Next, Settled, handed_over
from hookline.observability import logger

_UNRECORDED_LIMIT = 10_000
LOST_SWAP_RETRY_SECONDS = 2


@dataclass(frozen=True, slots=True)
class RecordWork:
    """One received record after its effects (the pipeline's effects stage makes it): what to write, and
    what to hand on."""

    plan: RecordPlan
    settled: tuple[Settled, ...] = ()
    handed: tuple[tuple[PairTask, float], ...] = ()  # to deliver jobs, with a delay
    claimed_as: Mapping[str, Delivery] = field(default_factory=dict)
    provisional: Mapping[str, Delivery] | None = None  # pending deliveries written before slow sends finished
    requeue: tuple[tuple[DeliverJob, float], ...] = ()  # this deliver job again, later
    retry_after: int | None = None  # an effect decided it: the record comes back after this many seconds


@dataclass
class Persisted:
    ok: bool  # written (or carried on by a replacement job)
    split: list[tuple[DeliverJob, int]] = field(default_factory=list)
    dead_letters: list[DeliverJob] = field(default_factory=list)
    come_back: int | None = None  # an ordered delivery's retry or wait: its message stays in flight


class Unrecorded:
    """Outcomes this container could neither write nor queue: consulted before sending again."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str, str], Delivery] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, tenant_id: str, event_id: str, delivery: Delivery) -> None:
        with self._lock:
            self._items[(tenant_id, event_id, delivery.endpoint_id)] = delivery
            while len(self._items) > _UNRECORDED_LIMIT:
                self._items.popitem(last=False)

    def forget(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._items.pop(key, None)

    def snapshot(self) -> dict[tuple[str, str, str], Delivery]:
        with self._lock:
            return dict(self._items)


class Recorder:
    def __init__(self, log: DeliveryLog, queue: Jobs, retention_days: int, unrecorded: Unrecorded) -> None:
        self._log = log
        self._queue = queue
        self._retention_days = retention_days
        self._unrecorded = unrecorded

    def persist(self, work: RecordWork, now: float) -> Persisted:
        plan = work.plan
        unchanged = not work.settled and not work.handed and not plan.carried
        record_complete = plan.record is not None and plan.record.fanout is FanoutState.DONE
        if unchanged and (plan.kind is not RecordKind.EVENT or record_complete):
            # Nothing happened to any delivery (a dropped or repeated job, or one that waits).
            return self._keep_order(work, Persisted(ok=True, split=[(j, round(d)) for j, d in work.requeue]))
        deliveries = self._new_deliveries(work, now)
        event = plan.event
        failures = [
            FailureEntry(event.tenant_id, endpoint_id, event.event_id, clock.iso_from_unix(now))
            for endpoint_id, delivery in deliveries.items()
            if event is not None and delivery.status is DeliveryStatus.FAILED
        ]
        lost: list[DeliveryRef] = []
        try:
            if plan.kind is RecordKind.EVENT:
                self._persist_event(work, deliveries, failures)
            else:
                lost = self._persist_delivery(work, deliveries, failures)
        except HooklineError as exc:
            logger.warning("could not record outcomes; carrying them on", extra={"reason": str(exc)})
            return self._spool(work, deliveries)
        for key in ((plan.event.tenant_id, plan.event.event_id, ep) for ep in deliveries if plan.event):
            self._unrecorded.forget(key)
        if lost:
            # Another writer changed the delivery under this job's claim: the job comes back and goes on
            # from what is stored, rather than ending and leaving the delivery (and, when ordered, its key)
            # to whatever that writer meant.
            return Persisted(ok=True, come_back=LOST_SWAP_RETRY_SECONDS)
        return self._follow_ups(work, deliveries, now)

    # --- writing ---------------------------------------------------------------------------------------

    def _new_deliveries(self, work: RecordWork, now: float) -> dict[str, Delivery]:
        deliveries = dict(work.plan.carried)
        deliveries.update({s.task.ref.endpoint_id: s.delivery for s in work.settled})
        for task, delay in work.handed:
            if task.ref.endpoint_id not in deliveries:
                deliveries[task.ref.endpoint_id] = handed_over(_with_delay(task, delay), now)
        return deliveries

    def _persist_event(
        self, work: RecordWork, deliveries: dict[str, Delivery], failures: list[FailureEntry]
    ) -> None:
        plan = work.plan
        assert plan.event is not None and plan.endpoint_ids is not None
        expires = clock.event_expiry(plan.event.event_id, self._retention_days)
        record = plan.record
        if record is None and work.provisional is None:
            complete = EventRecord(plan.event, FanoutState.DONE, plan.endpoint_ids, dict(deliveries))
            if self._log.create(complete, expires, failures):
                return
            record = self._log.get(plan.event.tenant_id, plan.event.event_id)
            if record is None:
                raise ContendedWriteError("the event record vanished while being written")
        stored = dict(record.deliveries) if record else {}
        if work.provisional:
            stored.update(work.provisional)
        overflow = record.overflow if record else False
        for ref in self._swap_each(work, stored, overflow, deliveries, failures, expires):
            logger.info(
                "a delivery changed meanwhile; keeping the stored one", extra={"endpoint_id": ref.endpoint_id}
            )
        if record is not None and (record.fanout is not FanoutState.DONE or record.endpoint_ids is None):
            self._log.set_fanout(
                plan.event.tenant_id, plan.event.event_id, FanoutState.DONE, plan.endpoint_ids
            )

    def _persist_delivery(
        self, work: RecordWork, deliveries: dict[str, Delivery], failures: list[FailureEntry]
    ) -> list[DeliveryRef]:
        plan = work.plan
        assert plan.event is not None
        expires = clock.event_expiry(plan.event.event_id, self._retention_days)
        stored = plan.record.deliveries if plan.record is not None else {}
        overflow = plan.record.overflow if plan.record is not None else False
        # After the first round: kept apart from a large record (``DeliveryRef.of``), as its claim was.
        apart = plan.record is not None and plan.record.changes_kept_apart
        lost = self._swap_each(work, stored, overflow, deliveries, failures, expires, apart)
        for ref in lost:
            logger.warning(
                "a delivery changed under its claim; its job comes back to go on from what is stored",
                extra={"event_id": ref.event_id, "endpoint_id": ref.endpoint_id},
            )
        return lost

    def _swap_each(
        self,
        work: RecordWork,
        stored: Mapping[str, Delivery],
        overflow: bool,
        deliveries: dict[str, Delivery],
        failures: list[FailureEntry],
        expires: int,
        apart: bool = False,
    ) -> list[DeliveryRef]:
        """Swap each new delivery in over the one it was planned against; returns the ones that changed."""
        event = work.plan.event
        assert event is not None
        lost: list[DeliveryRef] = []
        failed = {f.endpoint_id: f for f in failures}
        together = [
            (endpoint_id, work.claimed_as.get(endpoint_id) or stored.get(endpoint_id), new)
            for endpoint_id, new in deliveries.items()
            if endpoint_id not in failed
        ]
        written: set[str] = set()
        # Inline deliveries of one record in one write (each is billed on the whole record); if one of them
        # changed meanwhile, nothing was written and each goes on its own, to tell which.
        combine = not overflow and not apart and len(together) > 1
        if combine and self._log.swap_many(event.tenant_id, event.event_id, together):
            written = {endpoint_id for endpoint_id, _, _ in together}
        for endpoint_id, new in deliveries.items():
            if endpoint_id in written:
                continue
            ref = DeliveryRef(event.tenant_id, event.event_id, endpoint_id, overflow, apart)
            seen = work.claimed_as.get(endpoint_id) or stored.get(endpoint_id)
            if not self._log.swap(ref, seen, new, failed.get(endpoint_id), expires):
                lost.append(ref)
        return lost

    # --- what comes next -------------------------------------------------------------------------------

    def _follow_ups(self, work: RecordWork, deliveries: dict[str, Delivery], now: float) -> Persisted:
        persisted = Persisted(ok=True)
        for settled in work.settled:
            ref = settled.task.ref
            job = settled.task.deliver_job()
            if settled.next is Next.DEAD_LETTER:
                persisted.dead_letters.append(job)
            elif settled.next is Next.RETRY:
                # A new message delayed until the attempt (SQS caps a delay at 15 min; a longer wait hops):
                # a hidden message would count against the queue's in-flight limit for the whole wait.
                due = deliveries[ref.endpoint_id].next_attempt_at or now
                persisted.split.append((job, max(0, round(due - now))))
        for task, delay in work.handed:
            persisted.split.append((task.deliver_job(), round(delay)))
        persisted.split.extend((job, round(delay)) for job, delay in work.requeue)
        return self._keep_order(work, persisted)

    @staticmethod
    def _keep_order(work: RecordWork, persisted: Persisted) -> Persisted:
        """An ordered deliver job never sends itself again: a new message would queue behind later events
        of its key. Its retry or wait keeps it in flight (a visibility timeout) and holds only its group."""
        plan = work.plan
        job = plan.received.job
        if not plan.received.ordered or not isinstance(job, DeliverJob):
            return persisted
        own = [delay for later, delay in persisted.split if _same_pair(later, job)]
        if own:
            persisted.split = [(later, d) for later, d in persisted.split if not _same_pair(later, job)]
            persisted.come_back = max(0, min(own))
        return persisted

    def _spool(self, work: RecordWork, deliveries: dict[str, Delivery]) -> Persisted:
        plan = work.plan
        job = plan.received.job
        replacement: Job | None = None
        if plan.received.ordered:
            replacement = None  # a replacement would queue behind later events of its key
        elif isinstance(job, EventJob) and plan.event is not None:
            replacement = EventJob(
                job.tenant_id,
                job.event_id,
                job.event_type,
                job.timestamp,
                job.body,
                job.only_endpoint,
                read_first=True,
                known=tuple(deliveries.values()),
                traceparent=job.traceparent,
            )
        elif isinstance(job, DeliverJob) and len(deliveries) == 1:
            replacement = DeliverJob(
                job.tenant_id,
                job.event_id,
                job.endpoint_id,
                job.resend_token,
                next(iter(deliveries.values())),
            )
        if replacement is not None:
            try:
                self._queue.send(replacement)
            except HooklineError as exc:
                logger.error(
                    "could not carry outcomes on; keeping them in memory", extra={"reason": str(exc)}
                )
            else:
                return Persisted(ok=True)
        if plan.event is not None:
            for delivery in deliveries.values():
                self._unrecorded.remember(plan.event.tenant_id, plan.event.event_id, delivery)
        return Persisted(ok=False)


def _same_pair(job: DeliverJob, other: DeliverJob) -> bool:
    return (job.tenant_id, job.event_id, job.endpoint_id) == (
        other.tenant_id,
        other.event_id,
        other.endpoint_id,
    )


def _with_delay(task: PairTask, delay: float) -> PairTask:
    return replace(task, delay=delay)


def split_all(pending: Sequence[tuple[int, DeliverJob, int]], queue: Jobs) -> set[int]:
    """Send every hand-over job; the indexes of the records whose jobs could not all be sent."""
    if not pending:
        return set()
    try:
        failed = queue.send_batch([(job, delay) for _, job, delay in pending])
    except HooklineError:
        return {index for index, _, _ in pending}
    if logger.log_level <= logging.DEBUG:  # the hot path builds nothing at INFO
        refused = set(failed)
        for position, (_, job, delay) in enumerate(pending):
            logger.debug(
                "deliver job refused" if position in refused else "deliver job queued",
                extra={
                    "event_id": job.event_id,
                    "endpoint_id": job.endpoint_id,
                    "delay_s": delay,
                    "waits": job.waits,
                },
            )
    return {pending[i][0] for i in failed}
