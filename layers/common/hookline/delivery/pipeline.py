"""Dispatch: a batch of queue records through a pipeline of values, with one error boundary per record.

    decode → load → plan → effects → settle → persist → report

- **decode**: each SQS record becomes a ``Received`` job (or an unreadable one, which waits for the DLQ).
- **load**: one BatchGetItem for every record and breaker state the batch needs (event jobs on their first
  receive need no record: the job carries the event), plus each tenant's endpoints from the
  directory. If the batch read fails, each record is loaded on its own, so one bad key fails only its record.
- **plan** (``delivery.plan``, pure): what happens to each pair.
- **effects** (``delivery.effects``): probe lease, rate slot, claim and send, concurrently on pooled
  connections; each returns a value and never raises.
- **settle** (``delivery.settle``, pure) and **persist** (``delivery.recorder``): one write per event record,
  or one compare-and-swap per delivery, per record and concurrently; hand-over jobs in SendMessageBatch calls.
- **report**: one ChangeMessageVisibilityBatch for the records that come back later (the queue is the
  scheduler), and powertools' BatchProcessor reports exactly those as batch item failures.

Whatever goes wrong with one record — bad data, an AWS error, a bug — ends as that record's retry (or its
dead letter), never the batch's failure.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline.batch_response import report_failures
from hookline.core import clock, trace
from hookline.core.config import DispatchSettings
from hookline.core.errors import HooklineError
from hookline.core.jobs import DeliverJob, EventJob, decode_job, encode_job
from hookline.core.models import (
    AttemptOutcome,
    Delivery,
    DeliveryStatus,
    EventRecord,
    FailureKind,
    FanoutState,
)
from hookline.core.ports import Alerts, DeliveryLog, EndpointDirectoryPort, EndpointWriter, Jobs
from hookline.delivery.breaker import Breaker, BreakerChange, Observed, Transition
from hookline.delivery.effects import (
    IN_FLIGHT_LIMIT,
    SLOW_ENDPOINT,
    AttemptEffect,
    Attempts,
    ClaimLost,
    Deferred,
    Sent,
)
from hookline.delivery.expander import Expander
from hookline.delivery.plan import (
    InlineBudget,
    PairTask,
    PlanSettings,
    Received,
    RecordKind,
    RecordPlan,
    Snapshot,
    Step,
    plan_deliver,
    plan_event,
)
from hookline.delivery.ports import Loader
from hookline.delivery.recorder import Persisted, Recorder, RecordWork, split_all
from hookline.delivery.settle import Next, Settled, without_attempt
from hookline.observability import logger, metrics

PROVISIONAL_RECORD_AFTER_SECONDS = 1.0  # a slow first round makes its event visible before it settles
SLOW_ATTEMPT_SECONDS = 1.0  # an endpoint whose answer takes this long (or never comes) is slow...
SLOW_FOR_SECONDS = 300.0  # ...for this long: its in-flight limit then holds across invocations
UNREADABLE_RETRY_SECONDS = 60
LOST_CLAIM_RETRY_SECONDS = 5
_TIME_MARGIN_SECONDS = 10.0


class Dispatcher:
    def __init__(
        self,
        settings: DispatchSettings,
        loader: Loader,
        log: DeliveryLog,
        directory: EndpointDirectoryPort,
        endpoints: EndpointWriter,
        breaker: Breaker,
        attempts: Attempts,
        recorder: Recorder,
        deliveries: Jobs,
        dead_letters: Jobs,
        alerts: Alerts,
        expander: Expander,
        clock_now: Callable[[], float] = time.time,
        ordered: Jobs | None = None,
    ) -> None:
        self._settings = settings
        self._loader = loader
        self._log = log
        self._directory = directory
        self._endpoints = endpoints
        self._breaker = breaker
        self._attempts = attempts
        self._recorder = recorder
        self._deliveries = deliveries
        self._dead_letters = dead_letters
        self._alerts = alerts
        self._expander = expander
        self._now = clock_now
        self._ordered = ordered or deliveries  # receipts of the ordered queue are changed there
        # One pool per container: threads, like the sender's connections, outlive an invocation.
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_deliveries, thread_name_prefix="deliver"
        )

    def handle(
        self, event: dict[str, Any], context: LambdaContext, processor: BatchProcessor
    ) -> dict[str, Any]:
        remaining = context.get_remaining_time_in_millis() / 1000
        failed = self.run(event.get("Records", []), remaining)
        return report_failures(event, context, processor, failed)

    def run(self, records: Sequence[dict[str, Any]], remaining_seconds: float = 60.0) -> set[str]:
        """Process a batch; returns the message ids that come back to the queue later."""
        received = [_decode(index, record) for index, record in enumerate(records)]
        by_index = {r.index: r for r in received}
        fates: dict[int, int | None] = dict.fromkeys(_duplicates(received))
        # A FIFO batch may hold several messages of one group, in order: only the first goes now; the
        # others come straight back, behind it (the group stays held while the first is in flight).
        fates |= dict.fromkeys(_behind_in_group(received), 0)
        received = [r for r in received if r.index not in fates]
        snapshot = self._loader.load(received)
        now = self._now()
        budget = InlineBudget(
            self._settings.max_concurrent_deliveries,
            max(self._settings.delivery_timeout_seconds, remaining_seconds - _TIME_MARGIN_SECONDS),
            self._settings.delivery_timeout_seconds,
        )
        plan_settings = PlanSettings(
            self._settings.retry_schedule, now, budget, self._settings.endpoint_max_in_flight
        )
        plans = {r.index: self._plan(r, snapshot, plan_settings) for r in received}
        works = self._run_effects(plans, snapshot)
        persisted = dict(zip(works, self._pool.map(self._persist, works.values()), strict=True))
        self._hand_over(works, persisted, fates)
        for index, plan in plans.items():
            if index not in fates:
                fates[index] = self._fate(plan, works.get(index), persisted.get(index))
        self._observe(works, snapshot)
        _trace(by_index, fates)
        return self._report(by_index, fates)

    # --- plan ------------------------------------------------------------------------------------------

    def _plan(self, received: Received, snapshot: Snapshot, settings: PlanSettings) -> RecordPlan:
        job = received.job
        if job is None or received.index in snapshot.unloadable:
            kind = RecordKind.UNREADABLE if job is None else RecordKind.EXPAND
            retry = UNREADABLE_RETRY_SECONDS if job is None else self._settings.retry_schedule.min_delay
            if job is None:
                logger.error(
                    "unreadable job", extra={"message_id": received.message_id, "reason": received.problem}
                )
                if received.ordered:
                    # Waiting for the queue's redrive would hold its group for maxReceiveCount receives.
                    return RecordPlan(received, kind, dead_letter_body=True)
            return RecordPlan(received, kind, retry_after=retry)
        try:
            if isinstance(job, EventJob):
                return plan_event(received, job, snapshot, settings)
            if isinstance(job, DeliverJob):
                return plan_deliver(received, job, snapshot, settings)
            return RecordPlan(received, RecordKind.EXPAND)
        except Exception:  # noqa: BLE001 - a bug planning one record is that record's retry
            logger.exception("could not plan a record", extra={"message_id": received.message_id})
            return RecordPlan(
                received, RecordKind.EXPAND, retry_after=self._settings.retry_schedule.min_delay
            )

    # --- effects ---------------------------------------------------------------------------------------

    def _run_effects(self, plans: dict[int, RecordPlan], snapshot: Snapshot) -> dict[int, RecordWork]:
        works = {
            index: _Effects(plan)
            for index, plan in plans.items()
            if plan.retry_after is None and plan.kind in {RecordKind.EVENT, RecordKind.DELIVER}
        }
        futures: dict[Future[AttemptEffect], tuple[int, Any]] = {}
        began: dict[int, float] = {}  # id(task) -> when its send left a queue of the pool (monotonic)
        now = self._now()
        for index, work in works.items():
            for task in work.plan.tasks:
                if task.step is Step.SEND:
                    futures[self._pool.submit(self._timed_attempt, task, began)] = (index, task)
                elif task.step in {Step.SPLIT, Step.WAIT}:
                    _wait(work, task, task.delay)
                elif task.step is Step.FAIL and task.failure is not None:
                    work.settled.append(without_attempt(task, task.failure, now))
        marked: set[tuple[str, str]] = set()  # endpoints this invocation has marked slow
        if futures:
            _, waiting = wait(futures, timeout=PROVISIONAL_RECORD_AFTER_SECONDS)
            # Only sends that have been out a while are slow: a send still queued for a thread (a full
            # batch holds up to 10 x its fan-out) is not, and taking it for one would make every
            # endpoint of the batch lease its slots and rewrite its record per delivery (docs/cost.md).
            out_since = time.monotonic() - SLOW_ATTEMPT_SECONDS / 2
            pending = {f for f in waiting if began.get(id(futures[f][1]), out_since + 1) <= out_since}
            if pending:
                # Still waiting after a second: those endpoints are slow now, not when their answers (or
                # timeouts) come, so other invocations lease their slots from here on.
                marked = {futures[f][1].ref.pair for f in pending}
                self._mark_slow(marked, snapshot)
                self._write_provisional(works, {futures[f][0] for f in pending})
        cut_off: set[tuple[str, str]] = set()  # endpoints that did not answer a first wave in time
        for future, (index, task) in futures.items():
            effect = future.result()
            work = works[index]
            if isinstance(effect, Sent):
                work.settled.append(effect.settled)
                if effect.claimed_as is not None:
                    work.claimed_as[task.ref.endpoint_id] = effect.claimed_as
            elif isinstance(effect, Deferred):
                if effect.reason == SLOW_ENDPOINT:
                    cut_off.add(task.ref.pair)
                counts = effect.reason in {IN_FLIGHT_LIMIT, SLOW_ENDPOINT}
                waited = replace(task, waits=task.waits + 1) if counts else task
                _wait(work, waited, effect.seconds)
                metrics.add_metric(name="DeliveriesDeferred", unit=MetricUnit.Count, value=1)
            elif isinstance(effect, ClaimLost):
                work.retry_after = LOST_CLAIM_RETRY_SECONDS
        self._mark_slow(cut_off - marked, snapshot)
        return {index: work.frozen() for index, work in works.items()}

    def _timed_attempt(self, task: Any, began: dict[int, float]) -> AttemptEffect:
        began[id(task)] = time.monotonic()
        return self._attempt(task)

    def _attempt(self, task: Any) -> AttemptEffect:
        try:
            return self._attempts.run(task)
        except Exception:  # noqa: BLE001 - a bug in one attempt is that delivery's wait, never the batch's
            logger.exception("attempt failed unexpectedly", extra={"event_id": task.ref.event_id})
            return Deferred(self._settings.retry_schedule.min_delay, "internal")

    def _write_provisional(self, works: dict[int, _Effects], slow: set[int]) -> None:
        """Sends are slow: make those events visible now, as pending, rather than after they settle."""
        for index in slow:
            plan = works[index].plan
            if plan.kind is not RecordKind.EVENT or plan.record is not None or plan.event is None:
                continue
            pending = {ep: Delivery(ep, DeliveryStatus.PENDING) for ep in plan.endpoint_ids or ()}
            record = EventRecord(plan.event, FanoutState.DONE, plan.endpoint_ids, dict(pending))
            try:
                if self._log.create(
                    record, clock.event_expiry(plan.event.event_id, self._settings.retention_days)
                ):
                    works[index].provisional = pending
            except HooklineError as exc:
                logger.warning("could not write a provisional record", extra={"reason": str(exc)})

    # --- persist and hand over -------------------------------------------------------------------------

    def _persist(self, work: RecordWork) -> Persisted:
        try:
            return self._recorder.persist(work, self._now())
        except Exception:  # noqa: BLE001 - one record's bug must not fail the others
            logger.exception(
                "could not persist a record", extra={"message_id": work.plan.received.message_id}
            )
            return Persisted(ok=False)

    def _hand_over(
        self, works: dict[int, RecordWork], persisted: dict[int, Persisted], fates: dict[int, int | None]
    ) -> None:
        split = [(index, job, delay) for index, p in persisted.items() if p.ok for job, delay in p.split]
        trouble = split_all(split, self._deliveries)
        dead = [(index, job, 0) for index, p in persisted.items() if p.ok for job in p.dead_letters]
        trouble |= split_all(dead, self._dead_letters)
        for index in trouble:
            fates[index] = self._settings.retry_schedule.min_delay
        if split:
            logger.info("deliveries handed over", extra={"deliveries": len(split)})

    # --- fates -----------------------------------------------------------------------------------------

    def _fate(self, plan: RecordPlan, work: RecordWork | None, persisted: Persisted | None) -> int | None:
        """None: done, the record is deleted. A number: it comes back after that many seconds."""
        if plan.dead_letter_body:
            return self._dead_letter_body(plan.received)
        if plan.retry_after is not None:
            return plan.retry_after
        if work is not None and work.retry_after is not None:
            return work.retry_after
        if plan.kind is RecordKind.EXPAND:
            return self._expand(plan)
        if persisted is None or not persisted.ok:
            return self._settings.retry_schedule.min_delay
        # An ordered delivery's retry or wait keeps its message in flight; anything else travels on new
        # messages (hand-overs, retries, waits).
        return persisted.come_back

    def _dead_letter_body(self, received: Received) -> int | None:
        try:
            refused = self._dead_letters.send_bodies([(received.body, 0)])
        except HooklineError:
            refused = [0]
        return UNREADABLE_RETRY_SECONDS if refused else None

    def _expand(self, plan: RecordPlan) -> int | None:
        job = plan.received.job
        if job is None:
            return UNREADABLE_RETRY_SECONDS
        try:
            self._expander.expand(job, plan)
        except Exception as exc:  # noqa: BLE001 - an expansion's failure is its own retry
            log = logger.warning if isinstance(exc, HooklineError) else logger.exception
            log("job failed; it will retry", extra={"job": encode_job(job)[:500], "reason": str(exc)})
            return self._settings.retry_schedule.min_delay
        return None

    # --- health, alerts, logs --------------------------------------------------------------------------

    def _mark_slow(self, keys: set[tuple[str, str]], snapshot: Snapshot) -> None:
        """One write per endpoint per half window, however many of its deliveries are slow."""
        now = self._now()
        stale = [
            key
            for key in keys
            if not (state := snapshot.breakers.get(key)) or not state.slow(now + SLOW_FOR_SECONDS / 2)
        ]
        for key in stale:
            try:
                self._breaker.mark_slow(*key, now + SLOW_FOR_SECONDS)
            except HooklineError as exc:
                logger.warning("could not mark an endpoint slow", extra={"reason": str(exc)})
        if stale:
            logger.info("endpoints answer slowly: in-flight slots leased", extra={"endpoints": len(stale)})
            self._loader.forget_breakers(stale)

    def _observe(self, works: dict[int, RecordWork], snapshot: Snapshot) -> None:
        """Feed each endpoint's results to its breaker; a success writes only to end a failure streak."""
        with_state = {key for key, state in snapshot.breakers.items() if state.failing}
        slow: set[tuple[str, str]] = set()
        by_endpoint: dict[tuple[str, str], list[Observed]] = defaultdict(list)
        endpoints: dict[tuple[str, str], Any] = {}
        now = self._now()
        for work in works.values():
            for settled in work.settled:
                task, result = settled.task, settled.result
                if result is None or task.endpoint is None:
                    continue
                key = (task.ref.tenant_id, task.ref.endpoint_id)
                endpoints[key] = task.endpoint
                by_endpoint[key].append(Observed(result, settled.started_at, task.probe))
                if result.latency_ms >= SLOW_ATTEMPT_SECONDS * 1000 or result.failure is FailureKind.TIMEOUT:
                    slow.add(key)
                _log_attempt(settled, now)
                if settled.next is Next.DISABLE:
                    self._disable(task.endpoint, "the endpoint answered 410 Gone", {"status_code": 410})

        def observe(key: tuple[str, str]) -> None:
            try:
                change = self._breaker.observe(*key, by_endpoint[key], key in with_state, now)
            except HooklineError as exc:
                logger.warning("could not update the circuit breaker", extra={"reason": str(exc)})
                return
            if change is not None:
                self._report_change(endpoints[key], change)

        list(self._pool.map(observe, list(by_endpoint)))
        self._mark_slow(slow, snapshot)
        changed = [
            key
            for key, seen in by_endpoint.items()
            if key in with_state or any(o.result.failure for o in seen)
        ]
        self._loader.forget_breakers(changed)

    def _report_change(self, endpoint: Any, change: BreakerChange) -> None:
        details: dict[str, Any] = {"consecutive_failures": change.consecutive_failures}
        if change.transition is Transition.DISABLED:
            self._disable(endpoint, "every delivery failed for the auto-disable span", details)
        elif change.transition is Transition.FAILING:
            paused = clock.iso_from_unix(change.paused_until) if change.paused_until else None
            self._alerts.endpoint_changed(
                change.transition.value, endpoint, details | {"paused_until": paused}
            )
        else:
            self._alerts.endpoint_changed(change.transition.value, endpoint, {})

    def _disable(self, endpoint: Any, reason: str, details: dict[str, Any]) -> None:
        try:
            disabled = self._endpoints.disable(
                endpoint.tenant_id, endpoint.endpoint_id, reason, clock.now_iso()
            )
        except HooklineError as exc:
            logger.warning("could not disable an endpoint", extra={"reason": str(exc)})
            return
        self._directory.forget(endpoint.tenant_id)
        if disabled:
            metrics.add_metric(name="EndpointsDisabled", unit=MetricUnit.Count, value=1)
            self._alerts.endpoint_changed(Transition.DISABLED.value, endpoint, details | {"reason": reason})

    # --- report ----------------------------------------------------------------------------------------

    def _report(self, received: dict[int, Received], fates: dict[int, int | None]) -> set[str]:
        coming_back = [(received[index], seconds) for index, seconds in fates.items() if seconds is not None]
        for ordered, queue in ((False, self._deliveries), (True, self._ordered)):
            receipts = [(r.receipt, s) for r, s in coming_back if r.ordered is ordered]
            if not receipts:
                continue
            try:
                failed = queue.change_visibility(receipts)
            except HooklineError as exc:
                failed = list(range(len(receipts)))
                logger.warning("could not reschedule retries", extra={"reason": str(exc)})
            if failed:
                # They still come back, after the queue's own visibility timeout.
                logger.warning("some retries keep the queue's default timing", extra={"records": len(failed)})
        return {r.message_id for r, _ in coming_back}


def _trace(received: dict[int, Received], fates: dict[int, int | None]) -> None:
    """At DEBUG, each message's job and fate (deleted, or back after N seconds): how a key's order is kept."""
    if logger.log_level > logging.DEBUG:
        return  # the hot path builds nothing at INFO
    for index, item in received.items():
        job = item.job
        logger.debug(
            "job done" if fates.get(index) is None else "job comes back",
            extra={
                "message_id": item.message_id,
                "group": item.group,
                "receives": item.receive_count,
                "kind": type(job).__name__,
                "event_id": getattr(job, "event_id", None),
                "endpoint_id": getattr(job, "endpoint_id", None),
                "after_s": fates.get(index),
            },
        )


@dataclass
class _Effects:
    """One record's effects as they come in, frozen into its ``RecordWork`` once all are in."""

    plan: RecordPlan
    settled: list[Settled] = field(default_factory=list)
    handed: list[tuple[PairTask, float]] = field(default_factory=list)
    claimed_as: dict[str, Delivery] = field(default_factory=dict)
    provisional: dict[str, Delivery] | None = None
    requeue: list[tuple[DeliverJob, float]] = field(default_factory=list)
    retry_after: int | None = None

    def frozen(self) -> RecordWork:
        return RecordWork(
            self.plan,
            tuple(self.settled),
            tuple(self.handed),
            self.claimed_as,
            self.provisional,
            tuple(self.requeue),
            self.retry_after,
        )


def _wait(work: _Effects, task: PairTask, seconds: float) -> None:
    """The pair goes on later, without an attempt now. An event job hands it to a deliver job (its state is
    written); a deliver job sends itself again, delayed, and nothing needs writing."""
    if work.plan.kind is RecordKind.EVENT:
        work.handed.append((task, seconds))
    else:
        work.requeue.append((task.deliver_job(), seconds))


def _duplicates(received: Sequence[Received]) -> list[int]:
    """Records whose job repeats an earlier one in the batch (at-least-once queues): they are just deleted."""
    seen: set[tuple[str, ...]] = set()
    repeats: list[int] = []
    for r in received:
        job = r.job
        if isinstance(job, EventJob):
            identity: tuple[str, ...] = ("event", job.tenant_id, job.event_id, job.after or "")
        elif isinstance(job, DeliverJob):
            identity = ("deliver", job.tenant_id, job.event_id, job.endpoint_id, job.resend_token or "")
        else:
            continue
        if identity in seen:
            repeats.append(r.index)
        seen.add(identity)
    return repeats


def _behind_in_group(received: Sequence[Received]) -> list[int]:
    """Records of the ordered queue that follow an earlier record of their group in this batch."""
    heads: set[str] = set()
    behind: list[int] = []
    for r in received:
        if not r.ordered or r.group is None:
            continue
        if r.group in heads:
            behind.append(r.index)
        heads.add(r.group)
    return behind


def _decode(index: int, record: dict[str, Any]) -> Received:
    body = str(record.get("body", ""))
    message_id = str(record.get("messageId", ""))
    receipt = str(record.get("receiptHandle", ""))
    try:
        receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
    except (TypeError, ValueError):
        receive_count = 1
    ordered = str(record.get("eventSourceARN", "")).endswith(".fifo")
    group = record.get("attributes", {}).get("MessageGroupId") if ordered else None
    try:
        job = decode_job(body)
    except ValueError as exc:
        return Received(index, message_id, receipt, receive_count, body, None, str(exc), ordered, group)
    return Received(index, message_id, receipt, receive_count, body, job, None, ordered, group)


def _log_attempt(settled: Any, now: float) -> None:
    """Metrics for every attempt; a log line for each failure, saying what happened. A success is logged
    only at DEBUG: the delivery log (``GET .../attempts``) and the DeliveriesSucceeded metric hold it."""
    result = settled.result
    metrics.add_metric(name="DeliveryAttempts", unit=MetricUnit.Count, value=1)
    ref = settled.task.ref
    if result.outcome is AttemptOutcome.SUCCEEDED:
        metrics.add_metric(name="DeliveriesSucceeded", unit=MetricUnit.Count, value=1)
        logger.debug(
            "delivered",
            extra={
                "event_id": ref.event_id,
                "endpoint_id": ref.endpoint_id,
                "attempt": settled.delivery.attempts,
                "status_code": result.status_code,
                "latency_ms": result.latency_ms,
            },
        )
        return
    next_at = settled.delivery.next_attempt_at
    traceparent = settled.task.event.traceparent
    logger.info(
        "delivery attempt failed",
        extra={
            "tenant_id": ref.tenant_id,
            "event_id": ref.event_id,
            "endpoint_id": ref.endpoint_id,
            "attempt": settled.delivery.attempts,
            "status_code": result.status_code,
            "error_kind": result.failure.value if result.failure else None,
            "error": result.message,
            "latency_ms": result.latency_ms,
            "outcome": result.outcome.value,
            "next_retry_in_s": None if next_at is None else max(0, round(next_at - now)),
            "trace_id": trace.trace_id(traceparent) if traceparent else None,
        },
    )
