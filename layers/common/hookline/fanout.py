"""Jobs that create other jobs: an event's fan-out, an endpoint's recover, and the dead-letter redrive.

Each runs inside dispatch, never in the API's request path, so the API answers at once however much
work follows. Recover and redrive go a page at a time and queue a continuation for the rest; they send
before they mark, so an interruption can repeat a send (at-least-once) but never lose one.
"""

from __future__ import annotations

import json
from dataclasses import replace

from aws_lambda_powertools.metrics import MetricUnit

from hookline import clock
from hookline.filters import matches
from hookline.matching import event_type_matches
from hookline.models import Delivery, DeliveryStatus, Endpoint, Event
from hookline.observability import logger, metrics
from hookline.queue import DeliveryJob, FanoutJob, JobQueue, RecoverJob, RedriveJob
from hookline.store import Store

PAGE_SIZE = 100
MAX_SQS_DELAY_SECONDS = 900


def endpoint_wants(endpoint: Endpoint, event: Event, body: dict[str, object]) -> bool:
    """Event-type patterns first (cheap), then the endpoint's content filter over the delivered body."""
    if not event_type_matches(endpoint.event_types, event.event_type):
        return False
    return endpoint.filter is None or matches(endpoint.filter, body)


def disabled_delivery(event: Event, endpoint_id: str, previous: Delivery | None = None) -> Delivery:
    """A delivery that could not go because its endpoint is disabled; ``recover`` resends it later."""
    return Delivery(
        tenant_id=event.tenant_id,
        event_id=event.event_id,
        endpoint_id=endpoint_id,
        event_type=event.event_type,
        status=DeliveryStatus.FAILED,
        attempts=previous.attempts if previous else 0,
        last_attempt_at=previous.last_attempt_at if previous else None,
        last_status_code=previous.last_status_code if previous else None,
        last_error_kind="endpoint_disabled",
        last_error="the endpoint is disabled; re-enable it and recover to resend",
    )


class JobExpander:
    def __init__(
        self, store: Store, deliveries: JobQueue, retention_days: int, first_delay_seconds: int = 0
    ) -> None:
        self._store = store
        self._deliveries = deliveries
        self._retention_days = retention_days
        # The schedule's first entry is the wait before the first attempt (usually 0, "immediately");
        # SQS delays a message by at most 15 minutes.
        self._first_delay = min(first_delay_seconds, MAX_SQS_DELAY_SECONDS)

    def _expiry(self) -> int:
        return clock.retention_expiry(self._retention_days)

    def fan_out(self, job: FanoutJob) -> None:
        event = self._store.get_event(job.tenant_id, job.event_id)
        if event is None:
            logger.warning("fan-out for an unknown event", extra={"event_id": job.event_id})
            return
        body = json.loads(event.body)
        wanted = [e for e in self._store.iter_endpoints(job.tenant_id) if endpoint_wants(e, event, body)]
        enabled = [endpoint.endpoint_id for endpoint in wanted if endpoint.enabled]
        disabled = [endpoint.endpoint_id for endpoint in wanted if not endpoint.enabled]
        self._deliveries.send_many(
            [DeliveryJob(job.tenant_id, job.event_id, endpoint_id) for endpoint_id in enabled],
            delay_seconds=self._first_delay,
        )
        if disabled:
            self._store.put_deliveries(
                [disabled_delivery(event, endpoint_id) for endpoint_id in disabled],
                clock.now_iso(),
                self._expiry(),
            )
        self._store.record_fanout(job.tenant_id, job.event_id, enabled + disabled)
        metrics.add_metric(name="EventsFannedOut", unit=MetricUnit.Count, value=1)
        logger.info(
            "event fanned out",
            extra={"tenant_id": job.tenant_id, "event_id": job.event_id, "endpoints": len(enabled)},
        )

    def recover(self, job: RecoverJob) -> None:
        page = self._store.failed_deliveries_since(
            job.tenant_id, job.endpoint_id, job.since, PAGE_SIZE, job.cursor
        )
        if page.items:
            self._deliveries.send_many(
                [DeliveryJob(d.tenant_id, d.event_id, d.endpoint_id, resend=True) for d in page.items]
            )
            pending = [replace(d, status=DeliveryStatus.PENDING, next_attempt_at=None) for d in page.items]
            self._store.put_deliveries(pending, clock.now_iso(), self._expiry())
        if page.next_cursor:
            self._deliveries.send(replace(job, cursor=page.next_cursor))
        logger.info(
            "recover page queued",
            extra={"tenant_id": job.tenant_id, "endpoint_id": job.endpoint_id, "deliveries": len(page.items)},
        )

    def redrive(self, job: RedriveJob) -> None:
        page = self._store.list_dead_letters(PAGE_SIZE, None)
        if page.items:
            # A fresh message: prior_attempts 0 gives the delivery another full round of the schedule.
            self._deliveries.send_many(
                [DeliveryJob(r.tenant_id, r.event_id, r.endpoint_id) for r in page.items]
            )
            self._store.delete_dead_letters([record.key for record in page.items])
        if page.next_cursor:
            self._deliveries.send(RedriveJob())
        logger.info("dead letters redriven", extra={"deliveries": len(page.items)})
