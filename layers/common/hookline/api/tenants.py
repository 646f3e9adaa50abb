"""Tenants and their API keys (admin routes), and the per-container answer to "does this tenant exist?"."""

from __future__ import annotations

import time
from collections.abc import Callable

from hookline.api import paging
from hookline.api.auth import TenantKeys, digest
from hookline.api.models import ApiKeyIn, TenantIn
from hookline.api.paging import Pager
from hookline.api.views import ApiKeyCreated, ApiKeyPage, TenantOut, api_key_view, tenant_view
from hookline.core import clock, ids
from hookline.core.cache import MISSING, BoundedCache
from hookline.core.errors import NotFoundError
from hookline.core.models import ApiKey
from hookline.storage.api_keys import ApiKeyStore
from hookline.storage.tenants import TenantStore

MAX_KNOWN_TENANTS = 10_000  # about 150 bytes each: at most ~1.5 MB, least recently used first out


class KnownTenants:
    """Tenants this container has seen exist, trusted for ``ttl_seconds``: accepting an event needs no
    DynamoDB call when its tenant was seen recently. Unknown answers are never cached, so a tenant is
    usable the moment it is created; a deleted one is refused within ``ttl_seconds`` (at once here)."""

    def __init__(
        self, store: TenantStore, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._seen: BoundedCache[str, bool] = BoundedCache(
            MAX_KNOWN_TENANTS, ttl_seconds, monotonic=monotonic
        )

    def require(self, tenant_id: str) -> None:
        if self._seen.get(tenant_id) is not MISSING:
            return
        if self._store.get(tenant_id) is None:
            raise NotFoundError(f"tenant {tenant_id!r} does not exist")
        self.remember(tenant_id)

    def remember(self, tenant_id: str) -> None:
        self._seen.put(tenant_id, True)

    def forget(self, tenant_id: str) -> None:
        self._seen.pop(tenant_id)


class TenantService:
    def __init__(
        self,
        tenants: TenantStore,
        keys: ApiKeyStore,
        tenant_keys: TenantKeys,
        known: KnownTenants,
        pager: Pager,
    ) -> None:
        self._tenants = tenants
        self._keys = keys
        self._tenant_keys = tenant_keys
        self._known = known
        self._pager = pager

    def put(self, tenant_id: str, request: TenantIn) -> tuple[TenantOut, bool]:
        tenant, created = self._tenants.upsert(tenant_id, request.name, clock.now_iso())
        self._known.remember(tenant_id)
        return tenant_view(tenant), created

    def get(self, tenant_id: str) -> TenantOut:
        return tenant_view(self._tenants.require(tenant_id))

    def delete(self, tenant_id: str) -> None:
        """Delete the tenant with its endpoints and keys (the store removes them); its events age out."""
        digests = self._tenants.delete(tenant_id)
        self._known.forget(tenant_id)
        for key_digest in digests:
            self._tenant_keys.forget(key_digest)

    # --- keys -----------------------------------------------------------------------------------------

    def create_key(self, tenant_id: str, request: ApiKeyIn) -> ApiKeyCreated:
        secret = ids.new_api_key()
        now = time.time()
        expires_at = None if request.expires_in is None else int(now) + request.expires_in
        key = ApiKey(
            key_id=ids.new_key_id(),
            tenant_id=tenant_id,
            name=request.name,
            scopes=tuple(request.scopes),
            created_at=clock.iso_from_unix(now),
            expires_at=expires_at,
            digest=digest(secret),
        )
        self._keys.create(key, ttl_expiry=expires_at)
        return ApiKeyCreated(**api_key_view(key), key=secret)

    def list_keys(self, tenant_id: str, limit: int, cursor: str | None) -> ApiKeyPage:
        self._tenants.require(tenant_id)
        list_scope = paging.scope("keys", tenant_id)
        after = paging.text_field(self._pager.position(list_scope, cursor), "after")
        keys = self._keys.page_after(tenant_id, limit + 1, after)
        shown = keys[:limit]
        more = len(keys) > limit
        position = {"after": shown[-1].key_id} if more and shown else None
        return ApiKeyPage(
            data=[api_key_view(key) for key in shown],
            next_cursor=self._pager.cursor(list_scope, position),
            has_more=more,
        )

    def revoke_key(self, tenant_id: str, key_id: str) -> None:
        revoked = self._keys.revoke(tenant_id, key_id)
        self._tenant_keys.forget(revoked.digest)
