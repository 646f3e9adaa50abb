"""Resending one event now (``.../events/{id}/retry``), with the same ``webhook-id``, only to endpoints it
was fanned out to (a named endpoint it never went to is a 422 ``not_subscribed``).

Each delivery is claimed first (``delivery.resend``: a conditional write with a fresh token that starts a
new round of attempts), then one ``deliver`` job per claim is queued; only the job holding the token sends,
so overlapping retries and duplicate messages deliver once. A claim whose job could not be queued is
released again.
"""

from __future__ import annotations

import time

from hookline.api.models import RetryIn
from hookline.api.views import RetryOut, matched_endpoints
from hookline.core import clock
from hookline.core.config import IngestSettings
from hookline.core.errors import ConflictError, DependencyError, NotFoundError, NotSubscribedError
from hookline.core.models import EventRecord
from hookline.delivery import resend
from hookline.storage.endpoints import EndpointStore
from hookline.storage.event_log import EventLog
from hookline.storage.queue import DeliveryQueues


class ResendService:
    def __init__(
        self, settings: IngestSettings, log: EventLog, endpoints: EndpointStore, queue: DeliveryQueues
    ) -> None:
        self._settings = settings
        self._log = log
        self._endpoints = endpoints
        self._queue = queue

    def retry(self, record: EventRecord, request: RetryIn) -> RetryOut:
        tenant_id, event_id = record.event.tenant_id, record.event.event_id
        if request.endpoint_id is not None:
            endpoint = self._endpoints.get(tenant_id, request.endpoint_id)
            if endpoint is None:
                raise NotFoundError(f"endpoint {request.endpoint_id!r} does not exist")
            # Only where the event went: its types or filter may refuse this endpoint (created later, say).
            if request.endpoint_id not in matched_endpoints(record):
                raise NotSubscribedError(
                    f"event {event_id!r} was not sent to endpoint {request.endpoint_id!r}; a retry goes only"
                    " to the endpoints the event was fanned out to"
                )
            if not endpoint.enabled:
                raise ConflictError(
                    f"endpoint {request.endpoint_id!r} is disabled; enable it before resending"
                )
            targets = [request.endpoint_id]
        else:
            if record.endpoint_ids is None and not record.deliveries:
                raise ConflictError(
                    "the event has not been fanned out yet; it is still on its first delivery"
                )
            candidates = (self._endpoints.get(tenant_id, e) for e in matched_endpoints(record))
            targets = [
                endpoint.endpoint_id for endpoint in candidates if endpoint is not None and endpoint.enabled
            ]
        now = time.time()
        expires_at = clock.event_expiry(event_id, self._settings.retention_days)
        claims = [
            claimed
            for endpoint_id in targets
            if (claimed := resend.claim(self._log, record, endpoint_id, now, False, expires_at)) is not None
        ]
        queued = resend.queue_claimed(self._log, self._queue, claims)
        if claims and not queued:
            raise DependencyError("no resend could be queued")
        return RetryOut(
            event_id=event_id, endpoint_ids=[claimed.ref.endpoint_id for claimed in queued], status="queued"
        )
