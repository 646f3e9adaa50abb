"""The v1 API's logic: tenants, endpoints and events, independent of HTTP.

Accepting an event costs a constant number of AWS calls however many endpoints match: one transactional
write (the event, conditional on its tenant) and one SendMessage (a fan-out job). Matching happens in
dispatch. With an ``Idempotency-Key``, powertools' idempotency utility adds its own record (24 h).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline import clock, ids
from hookline.api import validation
from hookline.config import IngestSettings
from hookline.errors import (
    ConflictError,
    HooklineError,
    InvalidRequestError,
    NotFoundError,
    UnprocessableError,
)
from hookline.models import (
    Attempt,
    DeadLetterRecord,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointSecret,
    Event,
    Tenant,
)
from hookline.queue import DeliveryJob, FanoutJob, JobQueue, RecoverJob, RedriveJob
from hookline.signing import generate_secret
from hookline.store import Page, Store

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
MAX_IDEMPOTENCY_KEY = 255


class IngestService:
    def __init__(
        self,
        settings: IngestSettings,
        store: Store,
        queue: JobQueue,
        idempotency_store: DynamoDBPersistenceLayer,
    ) -> None:
        self._settings = settings
        self._store = store
        self._queue = queue
        self._idempotency_store = idempotency_store
        self._idempotency_config = IdempotencyConfig(
            event_key_jmespath="[tenant_id, idempotency_key]",
            payload_validation_jmespath="payload_sha256",
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
            raise_on_no_idempotency_key=True,
        )

    @property
    def settings(self) -> IngestSettings:
        return self._settings

    # tenants

    def put_tenant(self, tenant_id: str, payload: dict[str, Any]) -> tuple[Tenant, bool]:
        validation.tenant_id(tenant_id)
        return self._store.upsert_tenant(tenant_id, validation.tenant_name(payload), clock.now_iso())

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self._store.require_tenant(validation.tenant_id(tenant_id))

    def delete_tenant(self, tenant_id: str) -> None:
        self._store.delete_tenant(validation.tenant_id(tenant_id))

    # endpoints

    def create_endpoint(self, tenant_id: str, payload: dict[str, Any]) -> Endpoint:
        validation.tenant_id(tenant_id)
        changes = validation.endpoint_changes(payload, self._settings.target_policy, creating=True)
        now = clock.now_iso()
        assert changes.url is not None  # validation requires it on create
        endpoint = Endpoint(
            tenant_id=tenant_id,
            endpoint_id=ids.new_endpoint_id(),
            url=changes.url,
            secrets=(EndpointSecret(changes.secret or generate_secret()),),
            event_types=changes.event_types,
            filter=changes.filter,
            description=changes.description or "",
            enabled=True if changes.enabled is None else changes.enabled,
            headers=changes.headers or {},
            rate_limit=changes.rate_limit,
            created_at=now,
            updated_at=now,
        )
        self._store.create_endpoint(endpoint)
        return endpoint

    def list_endpoints(self, tenant_id: str, query: dict[str, str] | None) -> Page[Endpoint]:
        page = validation.page_request(query)
        self.get_tenant(tenant_id)
        return self._store.list_endpoints(tenant_id, page.limit, page.cursor)

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> Endpoint:
        validation.tenant_id(tenant_id)
        return self._store.require_endpoint(tenant_id, endpoint_id)

    def update_endpoint(self, tenant_id: str, endpoint_id: str, payload: dict[str, Any]) -> Endpoint:
        current = self.get_endpoint(tenant_id, endpoint_id)
        changes = validation.endpoint_changes(payload, self._settings.target_policy, creating=False)
        updated = replace(
            current,
            url=changes.url or current.url,
            event_types=changes.event_types if changes.event_types_given else current.event_types,
            filter=changes.filter if changes.filter_given else current.filter,
            description=current.description if changes.description is None else changes.description,
            enabled=current.enabled if changes.enabled is None else changes.enabled,
            headers=current.headers if changes.headers is None else changes.headers,
            rate_limit=changes.rate_limit if changes.rate_limit_given else current.rate_limit,
            updated_at=clock.now_iso(),
        )
        if updated.enabled:
            updated = replace(updated, disabled_reason=None)
        elif not current.enabled:
            updated = replace(updated, disabled_reason=current.disabled_reason)
        else:
            updated = replace(updated, disabled_reason="disabled through the API")
        self._store.replace_endpoint(updated, expected_updated_at=current.updated_at)
        if updated.enabled and not current.enabled:
            # A fresh start: the failure streak and breaker of the disabled past no longer apply.
            self._store.clear_health(tenant_id, endpoint_id)
        return updated

    def rotate_secret(
        self, tenant_id: str, endpoint_id: str, payload: dict[str, Any] | None
    ) -> tuple[str, int]:
        """Make a new current secret. The previous one keeps signing (a second signature in
        ``webhook-signature``) for the grace window, so receivers can switch without downtime.
        Returns the new secret and when the previous one stops signing (Unix seconds)."""
        current = self.get_endpoint(tenant_id, endpoint_id)
        new_secret = validation.rotation_secret(payload or {}) or generate_secret()
        now = clock.unix_now()
        grace_ends = now + self._settings.secret_rotation_grace_seconds
        kept = [s for s in current.secrets if s.expires_at is not None and s.expires_at > now]
        retiring = EndpointSecret(current.current_secret, grace_ends)
        updated = replace(
            current,
            secrets=(EndpointSecret(new_secret), retiring, *kept),
            updated_at=clock.now_iso(),
        )
        self._store.replace_endpoint(updated, expected_updated_at=current.updated_at)
        return new_secret, grace_ends

    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> None:
        validation.tenant_id(tenant_id)
        self._store.delete_endpoint(tenant_id, endpoint_id)

    def endpoint_secret(self, tenant_id: str, endpoint_id: str) -> str:
        return self.get_endpoint(tenant_id, endpoint_id).current_secret

    # events

    def accept_event(
        self,
        tenant_id: str,
        payload: dict[str, Any],
        idempotency_key: str | None,
        context: LambdaContext | None,
    ) -> dict[str, Any]:
        """Store the event and queue its fan-out. With an idempotency key, a repeat within 24 h gets the
        first answer back; the same key with a different body is refused with 422."""
        validation.tenant_id(tenant_id)
        event_input = validation.event_input(payload)
        if idempotency_key is None:
            return self._accept(tenant_id, event_input)
        if not idempotency_key.strip() or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidRequestError(
                f"Idempotency-Key must be a non-empty string of at most {MAX_IDEMPOTENCY_KEY} characters"
            )
        if context is not None:
            self._idempotency_config.register_lambda_context(context)
        request = {
            "tenant_id": tenant_id,
            "idempotency_key": idempotency_key,
            "payload_sha256": hashlib.sha256(
                json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest(),
        }

        def accept_once(request: dict[str, Any]) -> dict[str, Any]:
            return self._accept(tenant_id, event_input)

        guarded = idempotent_function(
            data_keyword_argument="request",
            persistence_store=self._idempotency_store,
            config=self._idempotency_config,
        )(accept_once)
        try:
            result: dict[str, Any] = guarded(request=request)
        except IdempotencyValidationError as exc:
            raise UnprocessableError(
                "this Idempotency-Key was already used with a different request body"
            ) from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise ConflictError(
                "a request with this Idempotency-Key is still in progress; retry shortly"
            ) from exc
        return result

    def _accept(self, tenant_id: str, event_input: validation.EventInput) -> dict[str, Any]:
        timestamp = clock.now_iso()
        event = Event(
            tenant_id=tenant_id,
            event_id=ids.new_event_id(),
            event_type=event_input.event_type,
            timestamp=timestamp,
            body=json.dumps(
                {"type": event_input.event_type, "timestamp": timestamp, "data": event_input.data},
                separators=(",", ":"),
                ensure_ascii=False,
            ),
        )
        retention_expiry = clock.retention_expiry(self._settings.retention_days)
        self._store.put_event(event, retention_expiry)
        try:
            self._queue.send(FanoutJob(tenant_id, event.event_id))
        except HooklineError:
            # Without its fan-out job the event would sit undelivered: take it back, and let the caller retry.
            self._store.delete_event(tenant_id, event.event_id)
            raise
        return {"id": event.event_id, "type": event.event_type, "timestamp": event.timestamp}

    def get_event(self, tenant_id: str, event_id: str) -> tuple[Event, list[Any]]:
        self.get_tenant(tenant_id)
        event, deliveries = self._store.get_event_with_deliveries(tenant_id, event_id)
        return event, deliveries

    def list_event_attempts(self, tenant_id: str, event_id: str, query: dict[str, str] | None) -> Page[Any]:
        page = validation.page_request(query)
        self.get_tenant(tenant_id)
        if self._store.get_event(tenant_id, event_id) is None:
            raise NotFoundError(f"event {event_id!r} does not exist")
        return self._store.list_event_attempts(tenant_id, event_id, page.limit, page.cursor)

    def list_endpoint_attempts(
        self, tenant_id: str, endpoint_id: str, query: dict[str, str] | None
    ) -> Page[Attempt]:
        page = validation.page_request(query)
        status = (query or {}).get("status")
        if status not in {None, "succeeded", "failed"}:
            raise InvalidRequestError("status must be 'succeeded' or 'failed'")
        self.get_endpoint(tenant_id, endpoint_id)
        return self._store.list_endpoint_attempts(tenant_id, endpoint_id, status, page.limit, page.cursor)

    # resend and recover

    def resend_event(self, tenant_id: str, event_id: str, payload: dict[str, Any] | None) -> list[str]:
        """Resend the event now, with the same webhook-id, to one endpoint or to every endpoint it matched."""
        endpoint_id = validation.optional_endpoint_id(payload or {})
        self.get_tenant(tenant_id)
        event, deliveries = self._store.get_event_with_deliveries(tenant_id, event_id)
        if endpoint_id is not None:
            targets = [self._store.require_endpoint(tenant_id, endpoint_id)]
        else:
            known = list(event.endpoint_ids or ()) + [d.endpoint_id for d in deliveries]
            candidates = (self._store.get_endpoint(tenant_id, known_id) for known_id in dict.fromkeys(known))
            targets = [endpoint for endpoint in candidates if endpoint is not None]
        disabled = [endpoint.endpoint_id for endpoint in targets if not endpoint.enabled]
        if endpoint_id is not None and disabled:
            raise ConflictError(f"endpoint {endpoint_id!r} is disabled; enable it before resending")
        target_ids = [endpoint.endpoint_id for endpoint in targets if endpoint.enabled]
        self._queue.send_many(
            [DeliveryJob(tenant_id, event_id, target, resend=True) for target in target_ids]
        )
        previous = {delivery.endpoint_id: delivery for delivery in deliveries}
        pending = [
            Delivery(
                tenant_id,
                event_id,
                target,
                event.event_type,
                DeliveryStatus.PENDING,
                previous[target].attempts,
            )
            for target in target_ids
            if target in previous
        ]
        if pending:
            expiry = clock.retention_expiry(self._settings.retention_days)
            self._store.put_deliveries(pending, clock.now_iso(), expiry)
        return target_ids

    def recover_endpoint(self, tenant_id: str, endpoint_id: str, payload: dict[str, Any]) -> str:
        """Queue a background resend of every delivery to the endpoint that ended failed since a time."""
        since = validation.recover_since(payload)
        endpoint = self.get_endpoint(tenant_id, endpoint_id)
        if not endpoint.enabled:
            raise ConflictError(f"endpoint {endpoint_id!r} is disabled; enable it before recovering")
        self._queue.send(RecoverJob(tenant_id, endpoint_id, since))
        return since

    # dead letters

    def list_dead_letters(self, query: dict[str, str] | None) -> Page[DeadLetterRecord]:
        page = validation.page_request(query)
        return self._store.list_dead_letters(page.limit, page.cursor)

    def redrive_dead_letters(self) -> None:
        self._queue.send(RedriveJob())
