"""Bearer keys: who is calling, and whether they may call this route for this tenant.

- **The admin key** is generated at deploy time into a Secrets Manager secret. Only its SHA-256 digest is
  kept, compared in constant time; a key that does not match makes at most one re-read of the secret per
  minute, so a rotated admin key works without a cold start.
- **Tenant keys** (``hk_`` + 40 base-62 characters) are stored as SHA-256 digests (``ApiKeyStore``). A
  container trusts a key it has checked for ``api_key_cache_seconds`` (30 s on AWS, 0 in the local stack),
  so a warm request with a recently seen key makes no AWS call, and a revoked key stops working within that
  time. Expiry is checked on every request against the wall clock.

- **Portal sessions** (``hkp_...``, ``core.portal_session``) are signed, self-contained credentials for one
  tenant and a few scopes, verified without a lookup and refused once expired.

Authorization: the admin key may do everything. A tenant key works under its own tenant's path only (any
other tenant's path is a 404, as if it did not exist), never on admin-only routes (403), and only with the
route's scope (403).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hookline.core.cache import BoundedCache, Missing
from hookline.core.errors import (
    DependencyError,
    ForbiddenError,
    InvalidSessionError,
    NotFoundError,
    UnauthorizedError,
)
from hookline.core.ids import API_KEY_PREFIX
from hookline.core.models import ApiKey, Scope
from hookline.core.portal_session import PREFIX as PORTAL_SESSION_PREFIX
from hookline.core.portal_session import PortalSession
from hookline.storage.api_keys import ApiKeyStore

ADMIN_REFRESH_SECONDS = 60.0
_MAX_CACHED_KEYS = 10_000
_TENANT_KEY_LENGTH = len(API_KEY_PREFIX) + 40


def digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def bearer_token(headers: Mapping[str, str]) -> str:
    authorization = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("send 'Authorization: Bearer <api key>'")
    return token.strip()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the admin, or a tenant key with its scopes."""

    admin: bool
    tenant_id: str | None = None
    scopes: frozenset[Scope] = frozenset()
    key_id: str | None = None


ADMIN = Principal(admin=True)


@dataclass(frozen=True, slots=True)
class Access:
    """What a route asks of its caller. ``scope`` None on a tenant route: any key of that tenant."""

    admin_only: bool = False
    scope: Scope | None = None
    public: bool = False  # no key at all (the API's own description)


ADMIN_ONLY = Access(admin_only=True)
ANY_TENANT_KEY = Access()
PUBLIC = Access(public=True)
ENDPOINTS_READ = Access(scope=Scope.ENDPOINTS_READ)
ENDPOINTS_WRITE = Access(scope=Scope.ENDPOINTS_WRITE)
EVENTS_READ = Access(scope=Scope.EVENTS_READ)
EVENTS_WRITE = Access(scope=Scope.EVENTS_WRITE)
PORTAL_CREATE = Access(scope=Scope.PORTAL_CREATE)
SCHEDULES_READ = Access(scope=Scope.SCHEDULES_READ)
SCHEDULES_WRITE = Access(scope=Scope.SCHEDULES_WRITE)


def authorize(principal: Principal, access: Access, tenant_id: str | None) -> None:
    if principal.admin or access.public:
        return
    if tenant_id is not None and tenant_id != principal.tenant_id:
        raise NotFoundError(f"tenant {tenant_id!r} does not exist")
    if access.admin_only:
        raise ForbiddenError("this route needs the admin key")
    if access.scope is not None and access.scope not in principal.scopes:
        raise ForbiddenError(f"this key lacks the {access.scope.value!r} scope")


class AdminKey:
    """The admin key's digest, read from its secret on first use and re-read on a mismatch at most once per
    ``ADMIN_REFRESH_SECONDS``."""

    def __init__(self, load: Callable[[], str], monotonic: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._monotonic = monotonic
        self._digest: bytes | None = None
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def matches(self, presented_digest: str) -> bool:
        return self._matches(presented_digest.encode(), refresh=False)

    def matches_after_refresh(self, presented_digest: str) -> bool:
        return self._matches(presented_digest.encode(), refresh=True)

    def _matches(self, presented: bytes, refresh: bool) -> bool:
        with self._lock:
            stale = self._monotonic() - self._loaded_at >= ADMIN_REFRESH_SECONDS
            if self._digest is None or (refresh and stale):
                key = self._load()
                if not key:
                    raise DependencyError("the admin API key secret is empty")
                self._digest = digest(key).encode()
                self._loaded_at = self._monotonic()
            elif refresh:
                return False
            return hmac.compare_digest(presented, self._digest)


class TenantKeys:
    """Tenant keys by digest, each answer (found or not) trusted for ``ttl_seconds`` per container."""

    def __init__(
        self,
        store: ApiKeyStore,
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._wall_clock = wall_clock
        # Bounded, however many keys are presented: least recently used first out.
        self._cache: BoundedCache[str, ApiKey | None] = BoundedCache(
            _MAX_CACHED_KEYS, ttl_seconds, monotonic=monotonic
        )

    def find(self, key_digest: str) -> ApiKey | None:
        """The live key with this digest, or None (unknown, revoked or expired)."""
        cached = self._cache.get(key_digest)
        if isinstance(cached, Missing):
            key = self._store.find(key_digest)
            self._cache.put(key_digest, key)
        else:
            key = cached
        if key is None or key.expired(self._wall_clock()):
            return None
        return key

    def forget(self, key_digest: str) -> None:
        """Drop a key this container just revoked, so it stops working here at once."""
        self._cache.pop(key_digest)


class Authenticator:
    def __init__(
        self,
        admin: AdminKey,
        tenant_keys: TenantKeys,
        portal_sessions: Callable[[str], PortalSession] | None = None,
    ) -> None:
        self._admin = admin
        self._tenant_keys = tenant_keys
        self._portal_sessions = portal_sessions

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        token = bearer_token(headers)
        presented = digest(token)
        if self._admin.matches(presented):
            return ADMIN
        if token.startswith(PORTAL_SESSION_PREFIX) and self._portal_sessions is not None:
            return self._portal_session(token)
        if token.startswith(API_KEY_PREFIX) and len(token) == _TENANT_KEY_LENGTH:
            key = self._tenant_keys.find(presented)
            if key is not None:
                return Principal(
                    admin=False, tenant_id=key.tenant_id, scopes=frozenset(key.scopes), key_id=key.key_id
                )
        if self._admin.matches_after_refresh(presented):
            return ADMIN
        raise UnauthorizedError("the API key is not valid (unknown, revoked or expired)")

    def _portal_session(self, token: str) -> Principal:
        assert self._portal_sessions is not None
        try:
            session = self._portal_sessions(token)
        except InvalidSessionError as exc:
            raise UnauthorizedError(str(exc)) from None
        return Principal(admin=False, tenant_id=session.tenant_id, scopes=session.scopes)
