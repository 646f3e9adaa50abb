"""API keys: the admin key's digest and refresh, the tenant-key cache (fake clocks), and authorization."""

from __future__ import annotations

import pytest

from hookline.api.auth import (
    ADMIN,
    ADMIN_ONLY,
    ANY_TENANT_KEY,
    ENDPOINTS_READ,
    EVENTS_WRITE,
    PUBLIC,
    AdminKey,
    Authenticator,
    Principal,
    TenantKeys,
    authorize,
    digest,
)
from hookline.core.errors import DependencyError, ForbiddenError, NotFoundError, UnauthorizedError
from hookline.core.ids import new_api_key
from hookline.core.models import ApiKey, Scope


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeKeyStore:
    """ApiKeyStore.find, counting reads."""

    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.reads = 0

    def add(self, tenant_id: str, scopes: tuple[Scope, ...], expires_at: int | None = None) -> str:
        secret = new_api_key()
        self.keys[digest(secret)] = ApiKey(
            "key_01", tenant_id, "test", scopes, "2026-11-27T08:00:00.000Z", expires_at, digest(secret)
        )
        return secret

    def find(self, key_digest: str) -> ApiKey | None:
        self.reads += 1
        return self.keys.get(key_digest)


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def test_the_admin_key_is_read_once_and_only_its_digest_is_kept() -> None:
    loads: list[int] = []

    def load() -> str:
        loads.append(1)
        return "hk_admin"

    admin = AdminKey(load)
    for _ in range(3):
        assert admin.matches(digest("hk_admin"))
    assert len(loads) == 1
    assert "hk_admin" not in vars(admin).values()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "hk_admin"},
        {"authorization": "Basic aGs6cmlnaHQ="},
        {"authorization": "Bearer "},
        {"authorization": "Bearer hk_wrong"},
    ],
)
def test_missing_or_wrong_keys_are_unauthorized(headers: dict[str, str]) -> None:
    authenticator = Authenticator(AdminKey(lambda: "hk_admin"), TenantKeys(FakeKeyStore(), 30))  # type: ignore[arg-type]
    with pytest.raises(UnauthorizedError):
        authenticator.authenticate(headers)


def test_a_rotated_admin_key_is_picked_up_after_the_refresh_interval() -> None:
    clock = FakeClock()
    current = {"key": "hk_old"}
    admin = AdminKey(lambda: current["key"], monotonic=clock)
    authenticator = Authenticator(admin, TenantKeys(FakeKeyStore(), 30))  # type: ignore[arg-type]
    assert authenticator.authenticate(bearer("hk_old")) == ADMIN
    current["key"] = "hk_new"
    with pytest.raises(UnauthorizedError):
        authenticator.authenticate(bearer("hk_new"))  # too soon to read the secret again
    clock.now += 61
    assert authenticator.authenticate(bearer("hk_new")) == ADMIN
    with pytest.raises(UnauthorizedError):
        authenticator.authenticate(bearer("hk_old"))


def test_an_empty_admin_secret_is_a_dependency_failure_not_a_401() -> None:
    with pytest.raises(DependencyError):
        AdminKey(lambda: "").matches(digest("x"))


def test_a_warm_container_trusts_a_seen_key_for_the_cache_time_then_sees_its_revocation() -> None:
    store, clock = FakeKeyStore(), FakeClock()
    key = store.add("acme", (Scope.EVENTS_WRITE,))
    authenticator = Authenticator(AdminKey(lambda: "hk_admin"), TenantKeys(store, 30, monotonic=clock))  # type: ignore[arg-type]
    principal = authenticator.authenticate(bearer(key))
    assert principal == Principal(False, "acme", frozenset({Scope.EVENTS_WRITE}), "key_01")
    for _ in range(5):
        authenticator.authenticate(bearer(key))
    assert store.reads == 1  # no AWS call for a warm request with a recently seen key
    store.keys.clear()  # revoked
    clock.now += 29
    authenticator.authenticate(bearer(key))
    clock.now += 2
    with pytest.raises(UnauthorizedError):
        authenticator.authenticate(bearer(key))


def test_with_no_cache_time_a_revocation_takes_effect_at_once() -> None:
    store = FakeKeyStore()
    key = store.add("acme", (Scope.EVENTS_READ,))
    authenticator = Authenticator(AdminKey(lambda: "hk_admin"), TenantKeys(store, 0))  # type: ignore[arg-type]
    authenticator.authenticate(bearer(key))
    store.keys.clear()
    with pytest.raises(UnauthorizedError):
        authenticator.authenticate(bearer(key))


def test_an_expired_key_is_refused_even_while_cached() -> None:
    store, wall = FakeKeyStore(), FakeClock(2_000.0)
    key = store.add("acme", (Scope.EVENTS_READ,), expires_at=2_010)
    keys = TenantKeys(store, 30, monotonic=FakeClock(), wall_clock=wall)  # type: ignore[arg-type]
    authenticator = Authenticator(AdminKey(lambda: "hk_admin"), keys)
    authenticator.authenticate(bearer(key))
    wall.now = 2_010
    with pytest.raises(UnauthorizedError):
        authenticator.authenticate(bearer(key))


def test_forgetting_a_key_drops_it_from_this_containers_cache() -> None:
    store = FakeKeyStore()
    key = store.add("acme", (Scope.EVENTS_READ,))
    keys = TenantKeys(store, 30)  # type: ignore[arg-type]
    assert keys.find(digest(key)) is not None
    store.keys.clear()
    keys.forget(digest(key))
    assert keys.find(digest(key)) is None


TENANT_KEY = Principal(False, "acme", frozenset({Scope.ENDPOINTS_READ}))


def test_authorization() -> None:
    authorize(ADMIN, ADMIN_ONLY, "anyone")
    authorize(TENANT_KEY, ENDPOINTS_READ, "acme")
    authorize(TENANT_KEY, ANY_TENANT_KEY, "acme")
    authorize(Principal(False), PUBLIC, None)
    with pytest.raises(NotFoundError):
        authorize(TENANT_KEY, ENDPOINTS_READ, "globex")  # another tenant's path: as if it did not exist
    with pytest.raises(NotFoundError):
        authorize(TENANT_KEY, ADMIN_ONLY, "globex")
    with pytest.raises(ForbiddenError):
        authorize(TENANT_KEY, ADMIN_ONLY, "acme")
    with pytest.raises(ForbiddenError):
        authorize(TENANT_KEY, ADMIN_ONLY, None)
    with pytest.raises(ForbiddenError):
        authorize(TENANT_KEY, EVENTS_WRITE, "acme")
