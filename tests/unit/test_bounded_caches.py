"""Per-container caches are bounded by what they hold, not by the customer base: a warm container that sees
100,000 tenants, or 100,000 endpoints in large tenants, keeps its memory flat (measured with tracemalloc
over fake stores)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

from hookline.api.auth import TenantKeys
from hookline.api.tenants import MAX_KNOWN_TENANTS, KnownTenants
from hookline.core.cache import MISSING, BoundedCache
from hookline.core.jobs import EventJob
from hookline.core.models import Endpoint, EndpointSecret, Tenant
from hookline.delivery.loader import MAX_CACHED_BREAKERS, SnapshotLoader
from hookline.delivery.plan import Received
from hookline.delivery.recorder import Unrecorded
from hookline.storage.endpoints import MAX_CACHED_ENDPOINTS, EndpointDirectory
from tests.unit.fakes import FakeClock

VISITS = 100_000  # tenants, or endpoints for the directory
WARM_UP = 25_000  # past every cache's capacity: from here on, memory must stay flat
FLAT_BYTES = 2_000_000  # what the last 75,000 may add; unbounded, they add tens of MB
LARGE_TENANT = 100  # endpoints per tenant in the directory's case (the old bound counted tenants only)


def test_the_cache_drops_the_least_recently_used_by_weight_and_the_expired() -> None:
    clock = FakeClock(0.0)
    cache: BoundedCache[str, list[int]] = BoundedCache(10, 5.0, weigh=len, monotonic=clock)
    cache.put("a", [1] * 4)
    cache.put("b", [1] * 4)
    assert cache.get("a") == [1] * 4  # now "b" is the least recently used
    cache.put("c", [1] * 4)
    assert cache.get("b") is MISSING and cache.weight == 8
    cache.put("huge", [1] * 11)  # heavier than the whole cache: not kept
    assert cache.get("huge") is MISSING and len(cache) == 2
    clock.advance(5.0)
    assert cache.get("a") is MISSING and cache.get("c") is MISSING and cache.weight == 0


def _growth(visit: Callable[[int], None], step: int = 1, visits: int = VISITS) -> int:
    """Bytes still allocated after visiting WARM_UP..visits, beyond those held after the warm-up."""
    tracemalloc.start()
    try:
        for number in range(0, WARM_UP, step):
            visit(number)
        warm, _ = tracemalloc.get_traced_memory()
        for number in range(WARM_UP, visits, step):
            visit(number)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - warm


def _endpoint(tenant_id: str) -> Endpoint:
    secret = EndpointSecret("whsec_" + "A" * 32)
    return Endpoint(tenant_id, "ep_" + tenant_id, f"https://{tenant_id}.example/hooks", (secret,))


class AnyTenantStore:
    def get(self, tenant_id: str) -> Tenant:
        return Tenant(tenant_id, "Name", "2026-12-06T00:00:00Z", "2026-12-06T00:00:00Z")


class NoKeyStore:
    def find(self, digest: str) -> None:
        return None


class NewEndpointsStore:
    """Each read decodes new Endpoint objects, as the real store does."""

    def __init__(self, per_tenant: int = 1) -> None:
        self.per_tenant = per_tenant

    def all(self, tenant_id: str) -> list[Endpoint]:
        return [_endpoint(f"{tenant_id}-{number}") for number in range(self.per_tenant)]


class NothingStored:
    def read(self, wanted: Any, action: str) -> tuple[dict[Any, Any], dict[Any, Any]]:
        return {}, {}


def test_known_tenants_stay_flat_across_100_000_tenants() -> None:
    known = KnownTenants(AnyTenantStore(), ttl_seconds=3600)  # type: ignore[arg-type]

    def visit(number: int) -> None:
        known.require(f"tenant-{number}")

    assert MAX_KNOWN_TENANTS < WARM_UP
    assert _growth(visit) < FLAT_BYTES


def test_the_api_key_cache_stays_flat_across_100_000_presented_keys() -> None:
    keys = TenantKeys(NoKeyStore(), ttl_seconds=30)  # type: ignore[arg-type]

    def visit(number: int) -> None:
        keys.find(f"{number:064x}")

    assert _growth(visit) < FLAT_BYTES


def test_the_endpoint_directory_stays_flat_across_100_000_endpoints_of_large_tenants() -> None:
    directory = EndpointDirectory(NewEndpointsStore(LARGE_TENANT), ttl_seconds=3600)  # type: ignore[arg-type]

    def visit(number: int) -> None:
        directory.endpoints(f"tenant-{number}")

    assert MAX_CACHED_ENDPOINTS < WARM_UP
    assert _growth(visit, step=LARGE_TENANT) < FLAT_BYTES


def test_the_breaker_state_cache_stays_flat_across_50_000_endpoints() -> None:
    # Half the visits of the others: each is a whole batch load, and twice its capacity makes the point.
    directory = EndpointDirectory(NewEndpointsStore(), ttl_seconds=0)  # type: ignore[arg-type]
    loader = SnapshotLoader(NothingStored(), directory, Unrecorded())  # type: ignore[arg-type]

    def visit(number: int) -> None:  # a batch of ten messages, each for a tenant of its own
        jobs = [
            EventJob(f"tenant-{n}", f"evt_{n}", "a.b", "ts", '{"type":"a.b","data":{}}')
            for n in range(number, number + 10)
        ]
        loader.load([Received(index, "m", "r", 1, "", job) for index, job in enumerate(jobs)])

    assert MAX_CACHED_BREAKERS < WARM_UP
    assert _growth(visit, step=10, visits=2 * WARM_UP) < FLAT_BYTES
