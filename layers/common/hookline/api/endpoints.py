"""Endpoints: registration, changes (optimistic lock), secrets and their rotation, recover."""

from __future__ import annotations

from dataclasses import replace

from hookline.api import paging
from hookline.api.models import EndpointIn, EndpointPatch, RecoverIn, RotateSecretIn
from hookline.api.paging import Pager
from hookline.api.tenants import KnownTenants
from hookline.api.views import (
    EndpointOut,
    EndpointPage,
    RecoverOut,
    RotatedSecretOut,
    SecretOut,
    endpoint_view,
)
from hookline.core import clock, ids
from hookline.core.config import IngestSettings
from hookline.core.errors import ConflictError, InvalidRequestError, NotFoundError
from hookline.core.jobs import RecoverJob
from hookline.core.models import Endpoint, EndpointSecret
from hookline.core.signing import generate_secret
from hookline.storage.breaker_state import BreakerStateStore
from hookline.storage.endpoints import EndpointStore
from hookline.storage.queue import DeliveryQueues
from hookline.storage.table import endpoint_key

DISABLED_THROUGH_API = "disabled through the API"
RECOVER_FUTURE_TOLERANCE_SECONDS = 60


class EndpointService:
    def __init__(
        self,
        settings: IngestSettings,
        endpoints: EndpointStore,
        breakers: BreakerStateStore,
        queue: DeliveryQueues,
        pager: Pager,
        tenants: KnownTenants,
    ) -> None:
        self._settings = settings
        self._endpoints = endpoints
        self._breakers = breakers
        self._queue = queue
        self._pager = pager
        self._tenants = tenants

    def create(self, tenant_id: str, request: EndpointIn) -> EndpointOut:
        now = clock.now_iso()
        endpoint = Endpoint(
            tenant_id=tenant_id,
            endpoint_id=ids.new_endpoint_id(),
            url=request.url,
            secrets=(EndpointSecret(request.secret or generate_secret()),),
            event_types=None if request.event_types is None else tuple(request.event_types),
            filter=request.filter,
            description=request.description or "",
            enabled=True if request.enabled is None else request.enabled,
            headers=request.headers or {},
            rate_limit=request.rate_limit,
            max_in_flight=request.max_in_flight,
            disabled_reason=None if request.enabled is not False else DISABLED_THROUGH_API,
            created_at=now,
            updated_at=now,
        )
        self._endpoints.create(endpoint)
        return endpoint_view(endpoint)

    def list(self, tenant_id: str, limit: int, cursor: str | None) -> EndpointPage:
        list_scope = paging.scope("endpoints", tenant_id)
        after = paging.text_field(self._pager.position(list_scope, cursor), "after")
        start = None if after is None else endpoint_key(tenant_id, after)
        endpoints, _ = self._endpoints.page(tenant_id, limit + 1, start, consistent=True)
        if not endpoints and start is None:
            self._tenants.require(tenant_id)  # an empty list of a tenant that does not exist is a 404
        shown = endpoints[:limit]
        more = len(endpoints) > limit
        position = {"after": shown[-1].endpoint_id} if more and shown else None
        return EndpointPage(
            data=[endpoint_view(endpoint) for endpoint in shown],
            next_cursor=self._pager.cursor(list_scope, position),
            has_more=more,
        )

    def require(self, tenant_id: str, endpoint_id: str) -> Endpoint:
        return self._endpoints.require(tenant_id, endpoint_id)

    def require_enabled(self, tenant_id: str, endpoint_id: str, action: str) -> Endpoint:
        endpoint = self.require(tenant_id, endpoint_id)
        if not endpoint.enabled:
            raise ConflictError(f"endpoint {endpoint_id!r} is disabled; enable it before {action}")
        return endpoint

    def get(self, tenant_id: str, endpoint_id: str) -> EndpointOut:
        return endpoint_view(self.require(tenant_id, endpoint_id))

    def update(self, tenant_id: str, endpoint_id: str, request: EndpointPatch) -> EndpointOut:
        current = self.require(tenant_id, endpoint_id)
        given = request.model_fields_set
        changed = replace(current, updated_at=_later_than(current.updated_at))
        if request.url is not None:  # the model refuses an explicit null: a URL cannot be removed
            changed = replace(changed, url=request.url)
        if "event_types" in given:
            types = request.event_types
            changed = replace(changed, event_types=None if types is None else tuple(types))
        if "filter" in given:
            changed = replace(changed, filter=request.filter)
        if "description" in given:
            changed = replace(changed, description=request.description or "")
        if "headers" in given:
            changed = replace(changed, headers=request.headers or {})
        if "rate_limit" in given:
            changed = replace(changed, rate_limit=request.rate_limit)
        if "max_in_flight" in given:
            changed = replace(changed, max_in_flight=request.max_in_flight)
        if "enabled" in given and request.enabled is not None and request.enabled != current.enabled:
            reason = None if request.enabled else DISABLED_THROUGH_API
            changed = replace(changed, enabled=request.enabled, disabled_reason=reason)
        self._endpoints.replace(changed, expected_updated_at=current.updated_at)
        if changed.enabled and not current.enabled:
            # A fresh start: the failure streak and open breaker of the disabled past no longer apply.
            self._breakers.clear(tenant_id, endpoint_id)
        return endpoint_view(changed)

    def delete(self, tenant_id: str, endpoint_id: str) -> None:
        self._endpoints.delete(tenant_id, endpoint_id)

    def secret(self, tenant_id: str, endpoint_id: str) -> SecretOut:
        return SecretOut(secret=self.require(tenant_id, endpoint_id).current_secret)

    def rotate_secret(self, tenant_id: str, endpoint_id: str, request: RotateSecretIn) -> RotatedSecretOut:
        """A new current secret; the previous one keeps signing (a second signature in
        ``webhook-signature``) for the grace window, so receivers can switch without downtime."""
        current = self.require(tenant_id, endpoint_id)
        new_secret = request.secret or generate_secret()
        now = clock.unix_now()
        grace_ends = now + self._settings.secret_rotation_grace_seconds
        still_signing = [s for s in current.secrets if s.expires_at is not None and s.expires_at > now]
        rotated = replace(
            current,
            secrets=(
                EndpointSecret(new_secret),
                EndpointSecret(current.current_secret, grace_ends),
                *still_signing,
            ),
            updated_at=_later_than(current.updated_at),
        )
        self._endpoints.replace(rotated, expected_updated_at=current.updated_at)
        return RotatedSecretOut(secret=new_secret, previous_secret_expires_at=clock.iso_from_unix(grace_ends))

    def recover(self, tenant_id: str, endpoint_id: str, request: RecoverIn) -> RecoverOut:
        """Queue a background resend of every delivery to the endpoint that ended failed since a time."""
        since = clock.parse_iso(request.since).timestamp()
        if since > clock.unix_now() + RECOVER_FUTURE_TOLERANCE_SECONDS:
            raise InvalidRequestError("since: must not be in the future")
        self.require_enabled(tenant_id, endpoint_id, "recovering")
        normalized = clock.iso_from_unix(max(since, 0))
        self._queue.send(RecoverJob(tenant_id, endpoint_id, normalized))
        return RecoverOut(endpoint_id=endpoint_id, since=normalized, status="queued")


def _later_than(previous: str) -> str:
    """Now, but never equal to ``previous``: ``updated_at`` is the optimistic lock's version, so two changes
    within one millisecond must still differ."""
    now = clock.now_iso()
    if now > previous:
        return now
    return clock.iso_from_unix(clock.parse_iso(previous).timestamp() + 0.001)


__all__ = ["EndpointService", "NotFoundError"]
