"""The in-flight leases and the slow mark, against the template's own table in moto: concurrent dispatch
invocations never hold more of a slow endpoint's slots than its limit."""

from __future__ import annotations

import threading
import time

import pytest

from hookline.storage.breaker_state import BreakerStateStore
from hookline.storage.in_flight import InFlightLeases
from tests.integration.lambda_harness import Stack
from tests.integration.seed import Seeder

T, EP = "acme", "ep_01SLOWENDPOINT000000000000"


@pytest.fixture
def leases(stack: Stack) -> InFlightLeases:
    return InFlightLeases(Seeder(stack).table)


def test_concurrent_invocations_get_exactly_the_limit(leases: InFlightLeases) -> None:
    now = time.time()
    tokens: list[str | None] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def invocation() -> None:
        start.wait(10)
        token = leases.acquire(T, EP, 3, now, now + 30)
        with lock:
            tokens.append(token)

    threads = [threading.Thread(target=invocation) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    granted = [t for t in tokens if t is not None]
    assert len(tokens) == 12 and len(granted) == 3
    leases.release(T, EP, granted[0])
    assert leases.acquire(T, EP, 3, now, now + 30) is not None
    assert leases.acquire(T, EP, 3, now, now + 30) is None


def test_a_success_ends_a_failure_streak_but_keeps_the_slow_mark(stack: Stack) -> None:
    store = BreakerStateStore(Seeder(stack).table)
    now = time.time()
    store.record_failures(T, EP, 2, now)
    store.mark_slow(T, EP, now + 300)
    cleared = store.close(T, EP, now + 1)
    assert cleared is not None and cleared.consecutive_failures == 2
    state = store.record_failures(T, EP, 1, now + 2)  # a new streak starts from zero
    assert state.consecutive_failures == 1 and state.slow(now + 2)
    # Once the mark has run out, a success removes the whole item again.
    store.mark_slow(T, EP, now)
    assert store.close(T, EP, now + 3) is not None
    assert store.record_failures(T, EP, 1, now + 4).slow_until is None
