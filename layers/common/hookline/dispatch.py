"""Dispatch: turn a batch of queue jobs into signed HTTP attempts, and schedule what must come back.

A batch of deliveries is handled in four steps, each a constant number of AWS calls however many records
the batch holds:

1. one BatchGetItem loads every event, endpoint, endpoint health and delivery the batch refers to;
2. the attempts run concurrently on pooled connections (each first taking its endpoint's rate-limit
   slot, when the endpoint has a limit);
3. one BatchWriteItem records attempts and delivery states;
4. one ChangeMessageVisibilityBatch hides each failed record until its next scheduled attempt.

powertools' ``BatchProcessor`` then reports exactly those records as batch item failures
(``hookline.batch``). A record whose attempts are exhausted is made visible at once and reported too, so
SQS's redrive moves it to the DLQ. A delivery held back by its endpoint's rate limit or open circuit
breaker is re-sent with a delay and acknowledged: waiting never spends an attempt.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline import USER_AGENT, aws, clock
from hookline.alerts import AlertPublisher, OperationalAlerts, OperatorWebhook
from hookline.batch import report_failures
from hookline.config import DispatchSettings, dispatch_settings
from hookline.errors import HooklineError
from hookline.fanout import MAX_SQS_DELAY_SECONDS, JobExpander, disabled_delivery
from hookline.health import BreakerPolicy, Gate
from hookline.http_delivery import WebhookSender
from hookline.models import Attempt, AttemptOutcome, AttemptResult, Delivery, DeliveryStatus, Endpoint, Event
from hookline.observability import logger, metrics
from hookline.queue import (
    DeliveryJob,
    FanoutJob,
    Job,
    JobQueue,
    RecoverJob,
    RedriveJob,
    decode_job,
    encode_job,
)
from hookline.rate_limit import RateLimiter
from hookline.signing import webhook_headers
from hookline.store import DispatchSnapshot, Store


@dataclass(frozen=True, slots=True)
class ReceivedJob:
    message_id: str
    receive_count: int
    job: Job


@dataclass(frozen=True, slots=True)
class PlannedAttempt:
    received: ReceivedJob
    job: DeliveryJob
    attempt: int
    event: Event
    endpoint: Endpoint
    previous: Delivery | None
    probe: bool = False


@dataclass(frozen=True, slots=True)
class Deferral:
    seconds: float
    reason: str


@dataclass(slots=True)
class BatchOutcome:
    """What happens to each record: come back after some seconds, or (absent) be deleted."""

    retry_after: dict[str, int] = field(default_factory=dict)
    receipts: dict[str, str] = field(default_factory=dict)


class Dispatcher:
    def __init__(
        self,
        settings: DispatchSettings,
        store: Store,
        deliveries: JobQueue,
        dead_letters: JobQueue,
        sender: WebhookSender,
        alerts: OperationalAlerts,
        clock_now: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._store = store
        self._deliveries = deliveries
        self._dead_letters = dead_letters
        self._sender = sender
        self._alerts = alerts
        self._now = clock_now
        self._expander = JobExpander(
            store, deliveries, settings.retention_days, settings.retry_schedule.delays[0]
        )
        self._limiter = RateLimiter(store, clock_now)
        self._breaker = BreakerPolicy(
            settings.breaker.failure_threshold,
            settings.breaker.cooldown_seconds,
            settings.breaker.disable_after_seconds,
        )
        # One pool per container: threads, like the sender's connections, outlive an invocation.
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_deliveries, thread_name_prefix="deliver"
        )

    def handle(
        self, event: dict[str, Any], context: LambdaContext, processor: BatchProcessor
    ) -> dict[str, Any]:
        outcome = self.run(event.get("Records", []))
        return report_failures(event, context, processor, outcome.retry_after.keys())

    def run(self, records: list[dict[str, Any]]) -> BatchOutcome:
        outcome = BatchOutcome()
        deliveries: list[ReceivedJob] = []
        for record in records:
            received = self._receive(record, outcome)
            if received is None:
                continue
            if isinstance(received.job, DeliveryJob):
                deliveries.append(received)
            else:
                self._expand(received, outcome)
        if deliveries:
            self._deliver(deliveries, outcome)
        self._reschedule(outcome)
        return outcome

    # --- parsing and job expansion -------------------------------------------------------------------

    def _receive(self, record: dict[str, Any], outcome: BatchOutcome) -> ReceivedJob | None:
        message_id = str(record.get("messageId", ""))
        outcome.receipts[message_id] = str(record.get("receiptHandle", ""))
        try:
            job = decode_job(str(record.get("body", "")))
        except ValueError as exc:
            # Not ours: keep it (it reaches the DLQ after the redrive count) rather than drop it silently.
            logger.error("unreadable job", extra={"message_id": message_id, "reason": str(exc)})
            outcome.retry_after[message_id] = self._settings.retry_schedule.max_delay
            return None
        receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        return ReceivedJob(message_id, receive_count, job)

    def _expand(self, received: ReceivedJob, outcome: BatchOutcome) -> None:
        job = received.job
        try:
            if isinstance(job, FanoutJob):
                self._expander.fan_out(job)
            elif isinstance(job, RecoverJob):
                self._expander.recover(job)
            elif isinstance(job, RedriveJob):
                self._expander.redrive(job)
        except HooklineError as exc:
            if not exc.retryable:
                raise
            logger.warning("job failed; will retry", extra={"job": encode_job(job), "reason": str(exc)})
            schedule = self._settings.retry_schedule
            attempt = min(received.receive_count, schedule.max_attempts - 1)
            outcome.retry_after[received.message_id] = (
                schedule.delay_after(attempt) if attempt >= 1 else schedule.min_delay
            )

    # --- delivery ------------------------------------------------------------------------------------

    def _deliver(self, received_jobs: list[ReceivedJob], outcome: BatchOutcome) -> None:
        jobs = [
            (received, received.job) for received in received_jobs if isinstance(received.job, DeliveryJob)
        ]
        try:
            snapshot = self._store.load_for_dispatch(
                event_ids=[(job.tenant_id, job.event_id) for _, job in jobs],
                endpoint_ids=[(job.tenant_id, job.endpoint_id) for _, job in jobs],
                delivery_ids=[(job.tenant_id, job.event_id, job.endpoint_id) for _, job in jobs],
            )
        except HooklineError as exc:
            logger.warning("could not load the batch; every record will retry", extra={"reason": str(exc)})
            for received, _ in jobs:
                outcome.retry_after[received.message_id] = self._settings.retry_schedule.min_delay
            return

        planned, skipped, deferred = self._plan(jobs, snapshot)
        results: list[AttemptResult | Deferral] = list(self._pool.map(self._attempt, planned))
        for plan, result in zip(planned, results, strict=True):
            if isinstance(result, Deferral):
                deferred.append((plan.received, plan.job, result))
        attempted = [(p, r) for p, r in zip(planned, results, strict=True) if isinstance(r, AttemptResult)]
        self._settle(attempted, skipped, outcome)
        self._defer(deferred, outcome)
        self._update_health(attempted, snapshot)

    def _plan(
        self, jobs: list[tuple[ReceivedJob, DeliveryJob]], snapshot: DispatchSnapshot
    ) -> tuple[list[PlannedAttempt], list[Delivery], list[tuple[ReceivedJob, DeliveryJob, Deferral]]]:
        now = self._now()
        planned: list[PlannedAttempt] = []
        skipped: list[Delivery] = []
        deferred: list[tuple[ReceivedJob, DeliveryJob, Deferral]] = []
        probing: set[tuple[str, str]] = set()
        in_batch: set[tuple[str, str, str]] = set()
        for received, job in jobs:
            pair = (job.tenant_id, job.event_id, job.endpoint_id)
            if pair in in_batch:
                continue  # a duplicate job (at-least-once queues, a repeated redrive page)
            in_batch.add(pair)
            event = snapshot.events.get((job.tenant_id, job.event_id))
            endpoint = snapshot.endpoints.get((job.tenant_id, job.endpoint_id))
            previous = snapshot.deliveries.get((job.tenant_id, job.event_id, job.endpoint_id))
            if event is None or endpoint is None:
                logger.info("event or endpoint is gone; dropping the job", extra={"job": encode_job(job)})
                continue
            if previous is not None and previous.status is DeliveryStatus.SUCCEEDED and not job.resend:
                continue  # a duplicate message: the endpoint already has it
            if not endpoint.enabled:
                skipped.append(disabled_delivery(event, job.endpoint_id, previous))
                continue
            endpoint_key = (job.tenant_id, job.endpoint_id)
            gate, wait = self._breaker.admit(snapshot.health.get(endpoint_key), now)
            if gate is Gate.PROBE:
                lease = now + self._settings.delivery_timeout_seconds + 5
                if endpoint_key in probing or not self._store.acquire_probe(*endpoint_key, now, lease):
                    gate, wait = Gate.WAIT, self._settings.delivery_timeout_seconds + 5
                else:
                    probing.add(endpoint_key)
            if gate is Gate.WAIT:
                deferred.append((received, job, Deferral(wait, "circuit_open")))
                continue
            attempt = job.prior_attempts + received.receive_count
            planned.append(
                PlannedAttempt(received, job, attempt, event, endpoint, previous, gate is Gate.PROBE)
            )
        return planned, skipped, deferred

    def _attempt(self, plan: PlannedAttempt) -> AttemptResult | Deferral:
        endpoint = plan.endpoint
        if endpoint.rate_limit is not None:
            reservation = self._limiter.reserve(endpoint.tenant_id, endpoint.endpoint_id, endpoint.rate_limit)
            if reservation.defer_seconds is not None:
                return Deferral(reservation.defer_seconds, "rate_limited")
            if reservation.wait > 0:
                time.sleep(reservation.wait)
        timestamp = int(self._now())
        body = plan.event.body.encode()
        headers = webhook_headers(
            endpoint.signing_secrets(timestamp),
            plan.event.event_id,
            timestamp,
            body,
            USER_AGENT,
            endpoint.headers,
        )
        return self._sender.send(endpoint.url, body, headers)

    def _settle(
        self,
        attempted: list[tuple[PlannedAttempt, AttemptResult]],
        skipped: list[Delivery],
        outcome: BatchOutcome,
    ) -> None:
        schedule = self._settings.retry_schedule
        now_iso = clock.now_iso()
        attempts: list[Attempt] = []
        deliveries: list[Delivery] = list(skipped)
        for plan, result in attempted:
            job = plan.job
            attempted_at = clock.iso_from_unix(self._now() - result.latency_ms / 1000)
            attempts.append(
                Attempt(job.tenant_id, job.event_id, job.endpoint_id, plan.attempt, attempted_at, result)
            )
            next_retry_in: int | None = None
            if result.outcome is AttemptOutcome.SUCCEEDED:
                status = DeliveryStatus.SUCCEEDED
            elif result.outcome is AttemptOutcome.GONE:
                status = DeliveryStatus.FAILED
                self._disable(plan.endpoint, "endpoint answered 410 Gone", {"status_code": 410})
            elif schedule.has_attempt_after(plan.attempt):
                status = DeliveryStatus.RETRYING
                next_retry_in = schedule.delay_after(plan.attempt, result.retry_after_seconds)
                outcome.retry_after[plan.received.message_id] = next_retry_in
            else:
                status = DeliveryStatus.FAILED
                self._dead_letter(plan, outcome)
            deliveries.append(
                Delivery(
                    tenant_id=job.tenant_id,
                    event_id=job.event_id,
                    endpoint_id=job.endpoint_id,
                    event_type=plan.event.event_type,
                    status=status,
                    attempts=(plan.previous.attempts if plan.previous else 0) + 1,
                    last_attempt_at=attempted_at,
                    last_status_code=result.status_code,
                    last_error_kind=result.error_kind,
                    last_error=result.error_message,
                    next_attempt_at=None
                    if next_retry_in is None
                    else clock.iso_from_unix(self._now() + next_retry_in),
                )
            )
            self._log_attempt(plan, result, next_retry_in)

        if not attempts and not deliveries:
            return
        retention_expiry = clock.retention_expiry(self._settings.retention_days)
        try:
            self._store.record_attempts(attempts, deliveries, now_iso, retention_expiry)
        except HooklineError as exc:
            # The HTTP requests already happened: retrying a 2xx would deliver twice, so the log loses
            # these lines instead, and the failure is loud.
            logger.exception(
                "could not record attempts", extra={"reason": str(exc), "attempts": len(attempts)}
            )
            metrics.add_metric(name="AttemptLogWriteFailures", unit=MetricUnit.Count, value=1)

    def _dead_letter(self, plan: PlannedAttempt, outcome: BatchOutcome) -> None:
        """The last attempt failed. If SQS's own receive count is the attempt count, make the message
        visible and let redrive move it; a job re-sent after a deferral must be moved explicitly."""
        if plan.job.prior_attempts == 0:
            outcome.retry_after[plan.received.message_id] = 0
            return
        try:
            self._dead_letters.send(replace(plan.job, prior_attempts=0, resend=False))
        except HooklineError as exc:
            logger.warning("could not dead-letter; will retry", extra={"reason": str(exc)})
            outcome.retry_after[plan.received.message_id] = self._settings.retry_schedule.min_delay

    def _defer(
        self, deferred: list[tuple[ReceivedJob, DeliveryJob, Deferral]], outcome: BatchOutcome
    ) -> None:
        """Re-send held-back jobs with a delay, keeping their attempt counts: waiting is not a failed attempt.
        One SendMessageBatch call per ten, however many are held back."""
        if not deferred:
            return
        resend: list[tuple[Job, int]] = []
        for received, job, deferral in deferred:
            delay = max(1, min(MAX_SQS_DELAY_SECONDS, round(deferral.seconds + 0.5)))
            attempts_so_far = job.prior_attempts + received.receive_count - 1
            resend.append((replace(job, prior_attempts=attempts_so_far), delay))
        try:
            self._deliveries.send_delayed(resend)
        except HooklineError as exc:
            logger.warning("could not defer; the records will come back", extra={"reason": str(exc)})
            for (received, _, _), (_, delay) in zip(deferred, resend, strict=True):
                outcome.retry_after[received.message_id] = delay
            return
        metrics.add_metric(name="DeliveriesDeferred", unit=MetricUnit.Count, value=len(deferred))
        for (_, job, deferral), (_, delay) in zip(deferred, resend, strict=True):
            logger.info(
                "delivery deferred",
                extra={
                    "event_id": job.event_id,
                    "endpoint_id": job.endpoint_id,
                    "reason": deferral.reason,
                    "next_retry_in_s": delay,
                },
            )

    # --- endpoint health -----------------------------------------------------------------------------

    def _update_health(
        self, attempted: list[tuple[PlannedAttempt, AttemptResult]], snapshot: DispatchSnapshot
    ) -> None:
        """Feed each endpoint's results to its breaker. Endpoints are updated concurrently, so a batch
        spread over many failing endpoints costs about one round trip, not one per endpoint."""
        by_endpoint: dict[tuple[str, str], list[tuple[PlannedAttempt, AttemptResult]]] = defaultdict(list)
        for plan, result in attempted:
            by_endpoint[(plan.job.tenant_id, plan.job.endpoint_id)].append((plan, result))
        now = self._now()
        known_health = set(snapshot.health)

        def update(item: tuple[tuple[str, str], list[tuple[PlannedAttempt, AttemptResult]]]) -> None:
            key, results = item
            try:
                self._update_endpoint_health(key, results, key in known_health, now)
            except HooklineError as exc:
                logger.warning("could not update endpoint health", extra={"reason": str(exc)})

        list(self._pool.map(update, by_endpoint.items()))

    def _update_endpoint_health(
        self,
        key: tuple[str, str],
        results: list[tuple[PlannedAttempt, AttemptResult]],
        has_health: bool,
        now: float,
    ) -> None:
        endpoint = results[0][0].endpoint
        if any(r.outcome is AttemptOutcome.SUCCEEDED for _, r in results):
            if has_health:
                previous = self._store.clear_health(*key)
                if previous is not None and previous.alerted_failing:
                    self._alerts.endpoint_changed("endpoint.recovered", endpoint, {})
            return
        failures = [r for _, r in results if r.outcome is AttemptOutcome.RETRY]
        if not failures:
            return
        health = self._store.record_failures(*key, len(failures), now)
        probed = any(plan.probe for plan, _ in results)
        last = failures[-1]
        details = {
            "consecutive_failures": health.consecutive_failures,
            "last_status_code": last.status_code,
            "last_error_kind": last.error_kind,
        }
        if self._breaker.should_disable(health, now):
            self._disable(endpoint, "every delivery failed for the auto-disable span", details)
        elif self._breaker.should_open(health, probed):
            opened_until = now + self._breaker.cooldown_seconds
            if self._store.open_breaker(*key, opened_until):
                self._alerts.endpoint_changed(
                    "endpoint.failing",
                    endpoint,
                    details | {"paused_until": clock.iso_from_unix(opened_until)},
                )

    def _disable(self, endpoint: Endpoint, reason: str, details: dict[str, Any]) -> None:
        self._store.disable_endpoint(endpoint.tenant_id, endpoint.endpoint_id, reason, clock.now_iso())
        metrics.add_metric(name="EndpointsDisabled", unit=MetricUnit.Count, value=1)
        self._alerts.endpoint_changed("endpoint.disabled", endpoint, details | {"reason": reason})

    def _log_attempt(self, plan: PlannedAttempt, result: AttemptResult, next_retry_in: int | None) -> None:
        metrics.add_metric(name="DeliveryAttempts", unit=MetricUnit.Count, value=1)
        if result.outcome is AttemptOutcome.SUCCEEDED:
            metrics.add_metric(name="DeliveriesSucceeded", unit=MetricUnit.Count, value=1)
        logger.info(
            "delivery attempt",
            extra={
                "tenant_id": plan.job.tenant_id,
                "event_id": plan.job.event_id,
                "endpoint_id": plan.job.endpoint_id,
                "attempt": plan.attempt,
                "status_code": result.status_code,
                "error_kind": result.error_kind,
                "latency_ms": result.latency_ms,
                "outcome": result.outcome.value,
                "next_retry_in_s": next_retry_in,
            },
        )

    # --- scheduling ----------------------------------------------------------------------------------

    def _reschedule(self, outcome: BatchOutcome) -> None:
        if not outcome.retry_after:
            return
        pairs = [
            (outcome.receipts[message_id], seconds) for message_id, seconds in outcome.retry_after.items()
        ]
        try:
            self._deliveries.reschedule(pairs)
        except HooklineError as exc:
            # The records still fail, so they return after the queue's own visibility timeout.
            logger.warning("could not reschedule retries", extra={"reason": str(exc)})


@cache
def dispatcher() -> Dispatcher:
    """The container's dispatcher, built on first use (after any test's moto mock is in place)."""
    settings = dispatch_settings()
    store = Store(settings.table_name, aws.dynamodb())
    sender = WebhookSender(
        settings.target_policy,
        settings.delivery_timeout_seconds,
        pool_size=settings.max_concurrent_deliveries,
    )
    operator = settings.operator_webhook
    return Dispatcher(
        settings=settings,
        store=store,
        deliveries=JobQueue(settings.delivery_queue_url, aws.sqs()),
        dead_letters=JobQueue(settings.dead_letter_queue_url, aws.sqs()),
        sender=sender,
        alerts=OperationalAlerts(
            AlertPublisher(settings.alerts_topic_arn, aws.sns()),
            OperatorWebhook(operator.url, operator.secret) if operator else None,
            sender,
        ),
    )
