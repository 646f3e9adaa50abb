"""The DLQ handler: mark dead-lettered deliveries failed, count them, and alert once per endpoint.

Each dead letter is also kept in the table (``DEADLETTERS`` items) for an operator's redrive: this
handler consumes the DLQ itself, so SQS's own message-move task would find it empty.

Alerts are grouped per (tenant, endpoint) within a batch, so an endpoint that is down produces one SNS
message per batch, not one per event. A record is deleted from the DLQ only once its alert is published:
if SNS fails, the record is reported as a batch failure and comes back, so no dead letter is lost.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline import aws, clock
from hookline.alerts import AlertPublisher
from hookline.batch import report_failures
from hookline.config import DeadLetterSettings, dead_letter_settings
from hookline.errors import HooklineError
from hookline.models import DeadLetterRecord, Delivery
from hookline.observability import logger, metrics
from hookline.queue import DeliveryJob, FanoutJob, RecoverJob, RedriveJob, decode_job, encode_job
from hookline.store import Store

if TYPE_CHECKING:
    pass


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str
    job: DeliveryJob


class DeadLetterHandler:
    def __init__(self, settings: DeadLetterSettings, store: Store, alerts: AlertPublisher) -> None:
        self._settings = settings
        self._store = store
        self._alerts = alerts

    def handle(
        self, event: dict[str, Any], context: LambdaContext, processor: BatchProcessor
    ) -> dict[str, Any]:
        failed = self.run(event.get("Records", []))
        return report_failures(event, context, processor, failed)

    def run(self, records: list[dict[str, Any]]) -> set[str]:
        """Process a batch; returns the message ids that must stay on the DLQ."""
        failed: set[str] = set()
        letters: list[DeadLetter] = []
        for record in records:
            message_id = str(record.get("messageId", ""))
            try:
                job = decode_job(str(record.get("body", "")))
            except ValueError as exc:
                self._alert_unreadable(message_id, str(record.get("body", "")), str(exc), failed)
                continue
            if isinstance(job, DeliveryJob):
                letters.append(DeadLetter(message_id, job))
            else:
                self._alert_job(message_id, job, failed)
        if letters:
            self._handle_deliveries(letters, failed)
        return failed

    def _handle_deliveries(self, letters: list[DeadLetter], failed: set[str]) -> None:
        try:
            snapshot = self._store.load_for_dispatch(
                event_ids=[(letter.job.tenant_id, letter.job.event_id) for letter in letters],
                endpoint_ids=[(letter.job.tenant_id, letter.job.endpoint_id) for letter in letters],
                delivery_ids=[],
            )
        except HooklineError as exc:
            logger.warning("could not load dead letters' context; keeping them", extra={"reason": str(exc)})
            failed.update(letter.message_id for letter in letters)
            return

        now = clock.now_iso()
        expires_at = clock.retention_expiry(self._settings.retention_days)
        groups: dict[tuple[str, str], list[tuple[DeadLetter, Delivery]]] = defaultdict(list)
        for letter in letters:
            job = letter.job
            event = snapshot.events.get((job.tenant_id, job.event_id))
            event_type = event.event_type if event else ""
            try:
                delivery = self._store.mark_dead_lettered(
                    job.tenant_id, job.event_id, job.endpoint_id, event_type, now, expires_at
                )
            except HooklineError as exc:
                logger.warning("could not mark a dead letter failed", extra={"reason": str(exc)})
                failed.add(letter.message_id)
                continue
            if delivery is None:
                logger.info(
                    "dead letter had already succeeded; dropping it", extra={"event_id": job.event_id}
                )
                continue
            try:
                self._store.put_dead_letter(
                    DeadLetterRecord(
                        key=f"{now}#{job.tenant_id}#{job.event_id}#{job.endpoint_id}",
                        tenant_id=job.tenant_id,
                        event_id=job.event_id,
                        endpoint_id=job.endpoint_id,
                        dead_lettered_at=now,
                    ),
                    expires_at,
                )
            except HooklineError as exc:
                logger.warning("could not keep a dead letter for redrive", extra={"reason": str(exc)})
                failed.add(letter.message_id)
                continue
            groups[(job.tenant_id, job.endpoint_id)].append((letter, delivery))

        for (tenant_id, endpoint_id), members in groups.items():
            endpoint = snapshot.endpoints.get((tenant_id, endpoint_id))
            message = {
                "type": "deliveries.dead_lettered",
                "tenant_id": tenant_id,
                "endpoint_id": endpoint_id,
                "endpoint_url": endpoint.url if endpoint else None,
                "deliveries": [
                    {
                        "event_id": delivery.event_id,
                        "event_type": delivery.event_type,
                        "attempts": delivery.attempts,
                        "last_status_code": delivery.last_status_code,
                        "last_error_kind": delivery.last_error_kind,
                        "last_error": delivery.last_error,
                        "last_attempt_at": delivery.last_attempt_at,
                    }
                    for _, delivery in members
                ],
            }
            subject = f"Hookline: {len(members)} delivery(ies) to {endpoint_id} dead-lettered ({tenant_id})"
            try:
                self._alerts.publish(subject, message, {"tenant_id": tenant_id, "endpoint_id": endpoint_id})
            except HooklineError as exc:
                logger.warning(
                    "could not publish an alert; keeping the dead letters", extra={"reason": str(exc)}
                )
                failed.update(letter.message_id for letter, _ in members)
                continue
            metrics.add_metric(name="DeliveriesDeadLettered", unit=MetricUnit.Count, value=len(members))
            logger.info(
                "alert published",
                extra={"tenant_id": tenant_id, "endpoint_id": endpoint_id, "deliveries": len(members)},
            )

    def _alert_job(self, message_id: str, job: FanoutJob | RecoverJob | RedriveJob, failed: set[str]) -> None:
        """A fan-out, recover or redrive job that kept failing: the operator has to look."""
        kind = {FanoutJob: "fanout", RecoverJob: "recover", RedriveJob: "redrive"}[type(job)]
        tenant_id = getattr(job, "tenant_id", "")
        self._publish_or_keep(
            message_id,
            f"Hookline: a {kind} job failed" + (f" ({tenant_id})" if tenant_id else ""),
            {"type": f"job.{kind}_failed", "job": json.loads(encode_job(job))},
            {"tenant_id": tenant_id},
            failed,
        )

    def _alert_unreadable(self, message_id: str, body: str, reason: str, failed: set[str]) -> None:
        self._publish_or_keep(
            message_id,
            "Hookline: unreadable message on the dead-letter queue",
            {"type": "message.unreadable", "message_id": message_id, "reason": reason, "body": body[:1024]},
            {},
            failed,
        )

    def _publish_or_keep(
        self,
        message_id: str,
        subject: str,
        message: dict[str, Any],
        attributes: dict[str, str],
        failed: set[str],
    ) -> None:
        try:
            self._alerts.publish(subject, message, attributes)
        except HooklineError as exc:
            logger.warning("could not publish an alert; keeping the message", extra={"reason": str(exc)})
            failed.add(message_id)
            return
        logger.info("alert published", extra={**attributes, "type": message["type"], "deliveries": 0})


@cache
def dead_letter_handler() -> DeadLetterHandler:
    """The container's DLQ handler, built on first use (after any test's moto mock is in place)."""
    settings = dead_letter_settings()
    return DeadLetterHandler(
        settings=settings,
        store=Store(settings.table_name, aws.dynamodb()),
        alerts=AlertPublisher(settings.alerts_topic_arn, aws.sns()),
    )
