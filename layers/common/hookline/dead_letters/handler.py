"""The DLQ handler: every job that ran out of attempts is marked, kept for a redrive, counted and alerted on.

- A **deliver** job: its delivery is marked failed (and filed in the endpoint's failure index for
  ``recover``), unless it had succeeded meanwhile.
- An **event** job (its fan-out kept failing): the event record shows ``fanout: dead_lettered``, so the
  event is never silently pending; the redrive sends the job again.
- **recover** and **redrive** jobs, and unreadable messages, are kept and alerted on.

Every job is kept in the table (``DEADLETTERS`` items) for ``POST /v1/admin/dead-letters/redrive``: this
handler consumes the DLQ itself, so SQS's own message-move task would find it empty.

Alerts are grouped per (tenant, endpoint) within a batch, so an endpoint that is down produces one SNS message
per batch, not one per event. A record leaves the DLQ only once its alert is published: if SNS fails, the
record is reported as a batch failure and comes back, so no dead letter is lost. Handling a record twice is
harmless: marks and kept letters are idempotent, and the alert simply goes out again.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline.batch_response import report_failures
from hookline.core import clock
from hookline.core.errors import ContendedWriteError, HooklineError
from hookline.core.jobs import DeliverJob, EventJob, Job, decode_job, encode_job, job_kind
from hookline.core.models import (
    DeadLetter,
    Delivery,
    DeliveryRef,
    DeliveryStatus,
    Event,
    EventRecord,
    FailureEntry,
    FanoutState,
)
from hookline.core.ports import DeadLetterKeeper, DeliveryLog, EndpointReader, Topic
from hookline.observability import logger, metrics

_SWAP_TRIES = 3


@dataclass(frozen=True, slots=True)
class Marked:
    message_id: str
    event: Event
    delivery: Delivery


class DeadLetterHandler:
    def __init__(
        self,
        log: DeliveryLog,
        endpoints: EndpointReader,
        letters: DeadLetterKeeper,
        topic: Topic,
        retention_days: int,
        clock_now: Callable[[], float] = time.time,
    ) -> None:
        self._log = log
        self._endpoints = endpoints
        self._letters = letters
        self._topic = topic
        self._retention_days = retention_days
        self._now = clock_now

    def handle(
        self, event: dict[str, Any], context: LambdaContext, processor: BatchProcessor
    ) -> dict[str, Any]:
        failed = self.run(event.get("Records", []))
        return report_failures(event, context, processor, failed)

    def run(self, records: Sequence[dict[str, Any]]) -> set[str]:
        """Process a batch; returns the message ids that must stay on the DLQ."""
        failed: set[str] = set()
        groups: dict[tuple[str, str], list[Marked]] = defaultdict(list)
        for record in records:
            message_id = str(record.get("messageId", ""))
            body = str(record.get("body", ""))
            try:
                self._one(message_id, body, groups)
            except Exception as exc:  # noqa: BLE001 - one dead letter's trouble keeps only that one on the DLQ
                log = logger.warning if isinstance(exc, HooklineError) else logger.exception
                log(
                    "could not handle a dead letter; keeping it",
                    extra={"message_id": message_id, "reason": str(exc)},
                )
                failed.add(message_id)
        for (tenant_id, endpoint_id), members in groups.items():
            if not self._alert_group(tenant_id, endpoint_id, members):
                failed.update(m.message_id for m in members)
        return failed

    def _one(self, message_id: str, body: str, groups: dict[tuple[str, str], list[Marked]]) -> None:
        now_iso = clock.now_iso()
        try:
            job: Job = decode_job(body)
        except ValueError as exc:
            self._keep(
                DeadLetter(
                    f"unreadable#{message_id}", "unreadable", None, None, None, now_iso, str(exc), body[:4096]
                )
            )
            self._publish(
                "Hookline: unreadable message on the dead-letter queue",
                {
                    "type": "message.unreadable",
                    "message_id": message_id,
                    "reason": str(exc),
                    "body": body[:1024],
                },
                {},
            )
            return
        if isinstance(job, DeliverJob):
            marked = self._mark_failed(message_id, job, now_iso)
            if marked is not None:
                groups[(job.tenant_id, job.endpoint_id)].append(marked)
            return
        if isinstance(job, EventJob):
            self._fanout_dead_lettered(job)
        tenant_id = getattr(job, "tenant_id", None)
        kind = job_kind(job)
        identity = "#".join(
            str(getattr(job, name, "")) for name in ("tenant_id", "event_id", "endpoint_id", "since")
        ) + "".join(  # timed jobs (a schedule's firing, a replay) are told apart by these
            f"#{getattr(job, name)}"
            for name in ("schedule_id", "scheduled_time", "replay_id")
            if hasattr(job, name)
        )
        self._keep(
            DeadLetter(
                f"{kind}#{identity}#{message_id if kind == 'redrive' else ''}",
                kind,
                tenant_id,
                getattr(job, "event_id", None),
                getattr(job, "endpoint_id", None),
                now_iso,
                f"the {kind} job kept failing",
                encode_job(job),
            )
        )
        self._publish(
            f"Hookline: a {kind} job was dead-lettered" + (f" ({tenant_id})" if tenant_id else ""),
            {"type": f"job.{kind}_dead_lettered", "job": {k: v for k, v in _job_summary(job).items() if v}},
            {"tenant_id": tenant_id or ""},
        )

    # --- deliveries --------------------------------------------------------------------------------------

    def _mark_failed(self, message_id: str, job: DeliverJob, now_iso: str) -> Marked | None:
        expires = clock.event_expiry(job.event_id, self._retention_days)
        for _ in range(_SWAP_TRIES):
            record = self._log.get(job.tenant_id, job.event_id)
            seen = record.deliveries.get(job.endpoint_id) if record else None
            if record is None or seen is None:
                logger.info(
                    "dead letter for a delivery that no longer exists", extra={"event_id": job.event_id}
                )
                return None
            if seen.status is DeliveryStatus.SUCCEEDED:
                logger.info(
                    "dead letter had already succeeded; dropping it", extra={"event_id": job.event_id}
                )
                return None
            if seen.status is DeliveryStatus.FAILED:
                break  # marked by an earlier run of this handler; the alert goes out again
            failed = seen.with_status(
                DeliveryStatus.FAILED, next_attempt_at=None, claim=None, resend=None, updated_at=now_iso
            )
            ref = DeliveryRef.of(record, job.endpoint_id)
            entry = FailureEntry(job.tenant_id, job.endpoint_id, job.event_id, now_iso)
            if self._log.swap(ref, seen, failed, entry, expires):
                seen = failed
                break
        else:
            raise ContendedWriteError("the delivery kept changing while being marked failed")
        self._keep(
            DeadLetter(
                f"deliver#{job.tenant_id}#{job.event_id}#{job.endpoint_id}",
                "deliver",
                job.tenant_id,
                job.event_id,
                job.endpoint_id,
                now_iso,
                seen.last_error or "every attempt failed",
                encode_job(DeliverJob(job.tenant_id, job.event_id, job.endpoint_id)),
            )
        )
        return Marked(message_id, record.event, seen)

    def _fanout_dead_lettered(self, job: EventJob) -> None:
        record = self._log.get(job.tenant_id, job.event_id)
        if record is not None:
            if record.fanout is not FanoutState.DONE:
                self._log.set_fanout(job.tenant_id, job.event_id, FanoutState.DEAD_LETTERED)
            return
        if job.body is None:
            return
        event = Event(
            job.tenant_id,
            job.event_id,
            job.event_type,
            job.timestamp,
            job.body,
            ordering_key=job.ordering_key,
            traceparent=job.traceparent,
        )
        shown = EventRecord(event, FanoutState.DEAD_LETTERED, None, {}, only_endpoint=job.only_endpoint)
        self._log.create(shown, clock.event_expiry(job.event_id, self._retention_days))

    # --- alerts ------------------------------------------------------------------------------------------

    def _alert_group(self, tenant_id: str, endpoint_id: str, members: list[Marked]) -> bool:
        try:
            endpoint = self._endpoints.get(tenant_id, endpoint_id)
        except HooklineError:
            endpoint = None
        message = {
            "type": "deliveries.dead_lettered",
            "tenant_id": tenant_id,
            "endpoint_id": endpoint_id,
            "endpoint_url": endpoint.url if endpoint else None,
            "deliveries": [_delivery_summary(m) for m in members],
        }
        subject = f"Hookline: {len(members)} delivery(ies) to {endpoint_id} dead-lettered ({tenant_id})"
        try:
            self._publish(subject, message, {"tenant_id": tenant_id, "endpoint_id": endpoint_id})
        except HooklineError as exc:
            logger.warning("could not publish an alert; keeping the dead letters", extra={"reason": str(exc)})
            return False
        metrics.add_metric(name="DeliveriesDeadLettered", unit=MetricUnit.Count, value=len(members))
        return True

    def _publish(self, subject: str, message: dict[str, Any], attributes: dict[str, str]) -> None:
        self._topic.publish(subject, message, attributes)
        logger.info(
            "alert published",
            extra={**attributes, "type": message["type"], "deliveries": len(message.get("deliveries", []))},
        )

    def _keep(self, letter: DeadLetter) -> None:
        self._letters.keep(letter, clock.retention_expiry(self._retention_days, time.time()))


def _delivery_summary(marked: Marked) -> dict[str, Any]:
    delivery = marked.delivery
    last = delivery.last_attempt
    return {
        "event_id": marked.event.event_id,
        "event_type": marked.event.event_type,
        "attempts": delivery.attempts,
        "last_status_code": last.status_code if last else None,
        "last_error_kind": delivery.last_error_kind.value if delivery.last_error_kind else None,
        "last_error": delivery.last_error,
        "last_attempt_at": last.attempted_at if last else None,
    }


def _job_summary(job: Job) -> dict[str, Any]:
    return {name: getattr(job, name, None) for name in ("tenant_id", "event_id", "endpoint_id", "since")}
