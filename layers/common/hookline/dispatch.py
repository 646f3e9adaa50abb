"""Dispatch: turn a batch of queue jobs into signed HTTP attempts, and schedule what must be retried.

A batch is handled in four steps, each a constant number of AWS calls however many records it holds:

1. fan-out jobs are expanded into one ``deliver`` job per matching endpoint;
2. one BatchGetItem loads every event, endpoint and delivery the batch refers to;
3. the attempts run concurrently on pooled connections;
4. one BatchWriteItem records attempts and delivery states, and one ChangeMessageVisibilityBatch hides
   each record that failed until its next scheduled attempt.

powertools' ``BatchProcessor`` then reports exactly the records to retry as batch item failures
(``hookline.batch``). A record
whose attempts are exhausted is made visible at once and reported too, so SQS's redrive moves it to the DLQ.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline import USER_AGENT, aws, clock
from hookline.batch import report_failures
from hookline.config import DispatchSettings, dispatch_settings
from hookline.errors import HooklineError
from hookline.http_delivery import WebhookSender
from hookline.matching import event_type_matches
from hookline.models import Attempt, AttemptOutcome, AttemptResult, Delivery, DeliveryStatus, Endpoint, Event
from hookline.observability import logger, metrics
from hookline.queue import DeliveryJob, FanoutJob, JobQueue, decode_job, encode_job
from hookline.signing import webhook_headers
from hookline.store import Store


@dataclass(frozen=True, slots=True)
class ReceivedJob:
    message_id: str
    receipt_handle: str
    receive_count: int
    job: FanoutJob | DeliveryJob


@dataclass(frozen=True, slots=True)
class PlannedAttempt:
    received: ReceivedJob
    job: DeliveryJob
    attempt: int
    event: Event
    endpoint: Endpoint
    previous: Delivery | None


@dataclass(slots=True)
class BatchOutcome:
    """Per message id: retry it (with the visibility to set), or let it be deleted."""

    retry_after: dict[str, int]
    receipts: dict[str, str]


class Dispatcher:
    def __init__(
        self,
        settings: DispatchSettings,
        store: Store,
        deliveries: JobQueue,
        dead_letters: JobQueue,
        sender: WebhookSender,
        clock_now: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._store = store
        self._deliveries = deliveries
        self._dead_letters = dead_letters
        self._sender = sender
        self._now = clock_now
        # One pool per container: threads (like the sender's connections) outlive an invocation.
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_deliveries, thread_name_prefix="deliver"
        )

    def handle(
        self, event: dict[str, Any], context: LambdaContext, processor: BatchProcessor
    ) -> dict[str, Any]:
        outcome = self.run(event.get("Records", []))
        return report_failures(event, context, processor, outcome.retry_after.keys())

    def run(self, records: list[dict[str, Any]]) -> BatchOutcome:
        outcome = BatchOutcome(retry_after={}, receipts={})
        fanouts: list[ReceivedJob] = []
        jobs: list[ReceivedJob] = []
        for record in records:
            received = self._receive(record, outcome)
            if received is None:
                continue
            (fanouts if isinstance(received.job, FanoutJob) else jobs).append(received)

        for received in fanouts:
            self._fan_out(received, outcome)
        if jobs:
            self._deliver(jobs, outcome)
        self._reschedule(outcome)
        return outcome

    # --- parsing -------------------------------------------------------------------------------------

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
        return ReceivedJob(message_id, str(record.get("receiptHandle", "")), receive_count, job)

    # --- fan-out -------------------------------------------------------------------------------------

    def _fan_out(self, received: ReceivedJob, outcome: BatchOutcome) -> None:
        job = received.job
        assert isinstance(job, FanoutJob)
        try:
            event = self._store.get_event(job.tenant_id, job.event_id)
            if event is None:
                logger.warning("fan-out for an unknown event", extra={"event_id": job.event_id})
                return
            matches = [
                endpoint.endpoint_id
                for endpoint in self._store.iter_endpoints(job.tenant_id)
                if endpoint.enabled and event_type_matches(endpoint.event_types, event.event_type)
            ]
            self._store.record_fanout(job.tenant_id, job.event_id, matches)
            self._deliveries.send_many([DeliveryJob(job.tenant_id, job.event_id, match) for match in matches])
            metrics.add_metric(name="EventsFannedOut", unit=MetricUnit.Count, value=1)
            logger.info(
                "event fanned out",
                extra={"tenant_id": job.tenant_id, "event_id": job.event_id, "endpoints": len(matches)},
            )
        except HooklineError as exc:
            if not exc.retryable:
                raise
            logger.warning("fan-out failed; will retry", extra={"event_id": job.event_id, "reason": str(exc)})
            outcome.retry_after[received.message_id] = self._fanout_retry_delay(received.receive_count)

    def _fanout_retry_delay(self, receive_count: int) -> int:
        schedule = self._settings.retry_schedule
        attempt = min(receive_count, schedule.max_attempts - 1)
        return schedule.delay_after(attempt) if attempt >= 1 else schedule.min_delay

    # --- delivery ------------------------------------------------------------------------------------

    def _deliver(self, jobs: list[ReceivedJob], outcome: BatchOutcome) -> None:
        delivery_jobs = [
            (received, received.job) for received in jobs if isinstance(received.job, DeliveryJob)
        ]
        try:
            snapshot = self._store.load_for_dispatch(
                event_ids=[(job.tenant_id, job.event_id) for _, job in delivery_jobs],
                endpoint_ids=[(job.tenant_id, job.endpoint_id) for _, job in delivery_jobs],
                delivery_ids=[(job.tenant_id, job.event_id, job.endpoint_id) for _, job in delivery_jobs],
            )
        except HooklineError as exc:
            logger.warning("could not load the batch; every record will retry", extra={"reason": str(exc)})
            for received, _ in delivery_jobs:
                outcome.retry_after[received.message_id] = self._settings.retry_schedule.min_delay
            return

        now_iso = clock.now_iso()
        planned: list[PlannedAttempt] = []
        skipped: list[Delivery] = []
        for received, job in delivery_jobs:
            event = snapshot.events.get((job.tenant_id, job.event_id))
            endpoint = snapshot.endpoints.get((job.tenant_id, job.endpoint_id))
            previous = snapshot.deliveries.get((job.tenant_id, job.event_id, job.endpoint_id))
            if event is None or endpoint is None:
                logger.info("event or endpoint is gone; dropping the job", extra={"job": encode_job(job)})
                continue
            if previous is not None and previous.status is DeliveryStatus.SUCCEEDED and not job.resend:
                continue  # a duplicate message: the endpoint already has it
            if not endpoint.enabled:
                skipped.append(self._disabled_delivery(job, event, previous))
                continue
            attempt = job.prior_attempts + received.receive_count
            planned.append(PlannedAttempt(received, job, attempt, event, endpoint, previous))

        results = list(self._pool.map(self._attempt, planned))
        self._settle(planned, results, skipped, outcome, now_iso)

    def _disabled_delivery(self, job: DeliveryJob, event: Event, previous: Delivery | None) -> Delivery:
        return Delivery(
            tenant_id=job.tenant_id,
            event_id=job.event_id,
            endpoint_id=job.endpoint_id,
            event_type=event.event_type,
            status=DeliveryStatus.FAILED,
            attempts=previous.attempts if previous else 0,
            last_attempt_at=previous.last_attempt_at if previous else None,
            last_status_code=previous.last_status_code if previous else None,
            last_error_kind="endpoint_disabled",
            last_error="the endpoint is disabled; recover it to resend",
        )

    def _attempt(self, plan: PlannedAttempt) -> tuple[str, AttemptResult]:
        timestamp = int(self._now())
        body = plan.event.body.encode()
        headers = webhook_headers(
            plan.endpoint.signing_secrets(timestamp),
            plan.event.event_id,
            timestamp,
            body,
            USER_AGENT,
            plan.endpoint.headers,
        )
        attempted_at = clock.iso_from_unix(self._now())
        return attempted_at, self._sender.send(plan.endpoint.url, body, headers)

    def _settle(
        self,
        planned: list[PlannedAttempt],
        results: list[tuple[str, AttemptResult]],
        skipped: list[Delivery],
        outcome: BatchOutcome,
        now_iso: str,
    ) -> None:
        schedule = self._settings.retry_schedule
        attempts: list[Attempt] = []
        deliveries: list[Delivery] = list(skipped)
        for plan, (attempted_at, result) in zip(planned, results, strict=True):
            job = plan.job
            attempts.append(
                Attempt(job.tenant_id, job.event_id, job.endpoint_id, plan.attempt, attempted_at, result)
            )
            next_retry_in: int | None = None
            if result.outcome is AttemptOutcome.SUCCEEDED:
                status = DeliveryStatus.SUCCEEDED
            elif result.outcome is AttemptOutcome.GONE:
                status = DeliveryStatus.FAILED
                self._store.disable_endpoint(
                    job.tenant_id, job.endpoint_id, "endpoint answered 410 Gone", now_iso
                )
                metrics.add_metric(name="EndpointsDisabled", unit=MetricUnit.Count, value=1)
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
        retention_expiry = clock.unix_now() + self._settings.retention_days * 86_400
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
        """The last attempt failed. If SQS's own count has reached the redrive limit, make the message
        visible and let redrive move it; a job re-sent with prior attempts must be moved explicitly."""
        if plan.job.prior_attempts == 0:
            outcome.retry_after[plan.received.message_id] = 0
            return
        try:
            self._dead_letters.send(plan.job)
        except HooklineError as exc:
            logger.warning("could not dead-letter; will retry", extra={"reason": str(exc)})
            outcome.retry_after[plan.received.message_id] = self._settings.retry_schedule.min_delay

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
    return Dispatcher(
        settings=settings,
        store=Store(settings.table_name, aws.dynamodb()),
        deliveries=JobQueue(settings.delivery_queue_url, aws.sqs()),
        dead_letters=JobQueue(settings.dead_letter_queue_url, aws.sqs()),
        sender=WebhookSender(
            settings.target_policy,
            settings.delivery_timeout_seconds,
            pool_size=settings.max_concurrent_deliveries,
        ),
    )
