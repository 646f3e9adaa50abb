"""What the dispatch benchmarks send and what they compare with.

``Workload`` accepts events through the API for one tenant whose endpoints all point at one receiver, then
runs dispatch through its event source until the receiver has them all. ``BareSender`` is the baseline: a
bare ``requests.Session`` posting bodies of the same size to the same receiver from ``CONCURRENCY`` threads.
``HttpClock`` says when webhook requests were in flight during an invocation.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import requests
import urllib3

from bench.aws_meter import covered_seconds
from bench.lambda_stack import Invocation, Stack
from bench.receiver import ReceiverProcess

CONCURRENCY = 10  # the dispatch function's concurrent deliveries, and the baseline's threads
ENDPOINTS = 10
DISPATCH = "DispatchFunction"


def sample_data(number: int) -> dict[str, Any]:
    """About 1 KiB of event data, as the benchmarks have always sent."""
    return {
        "order_id": f"ord_{number:012d}",
        "amount": 4200,
        "currency": "EUR",
        "customer": {"id": "cus_0123456789", "email": "someone@example.com", "name": "Some One"},
        "items": [{"sku": f"SKU-{n:04d}", "quantity": n, "price": 1000 + n} for n in range(10)],
    }


class HttpClock:
    """When webhook requests were in flight: every ``urllib3`` request (``requests`` sends through it;
    moto serves boto3 before urllib3 is reached), as wall-clock intervals."""

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []

    @contextlib.contextmanager
    def installed(self) -> Iterator[HttpClock]:
        original = urllib3.connectionpool.HTTPConnectionPool.urlopen
        intervals = self.intervals

        def timed(pool: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(pool, *args, **kwargs)
            finally:
                intervals.append((started, time.perf_counter()))

        with mock.patch.object(urllib3.connectionpool.HTTPConnectionPool, "urlopen", timed):
            yield self

    def during(self, invocation: Invocation) -> float:
        return covered_seconds(self.intervals, invocation.started, invocation.started + invocation.seconds)


class Workload:
    """Events for one tenant whose ``ENDPOINTS`` endpoints all point at one receiver."""

    def __init__(self, stack: Stack, receiver: ReceiverProcess) -> None:
        self.stack = stack
        self.receiver = receiver
        self.urls = [f"{receiver.url}/hook/{index}" for index in range(ENDPOINTS)]
        self.tenant, _ = stack.create_tenant(self.urls)
        self._number = 0

    def send(self, events: int) -> list[tuple[str, bytes]]:
        """Accept ``events`` events through the API; returns what the baseline posts for the same work."""
        targets = []
        for _ in range(events):
            self._number += 1
            event = {"type": "order.created", "data": sample_data(self._number)}
            self.stack.api_ok("POST", f"/v1/tenants/{self.tenant}/events", event)
            body = json.dumps(event | {"timestamp": "2026-11-30T00:00:00.000Z"}, separators=(",", ":"))
            targets += [(url, body.encode()) for url in self.urls]
        return targets

    def deliver(self, posts_expected: int | None, track: bool = False) -> list[tuple[Invocation, int]]:
        """Run dispatch until the receiver has seen ``posts_expected`` posts in all (None: until nothing is
        visible in the queues); returns each dispatch invocation with the posts it made (counted only when
        ``track``: it costs a stats request)."""
        made: list[tuple[Invocation, int]] = []
        seen = [self.receiver.stats()["posts"] if track else 0]

        def count(invocation: Invocation) -> None:
            posts = self.receiver.stats()["posts"] if track else seen[0]
            if invocation.function == DISPATCH:
                made.append((invocation, posts - seen[0]))
            seen[0] = posts

        def done() -> bool:
            return posts_expected is None or self.receiver.stats()["posts"] >= posts_expected

        self.stack.drain(done, after_each=count)
        return made


# --- the baseline ----------------------------------------------------------------------------------------


class BareSender:
    """A bare ``requests.Session`` posting from ``CONCURRENCY`` threads: the HTTP transport's own cost."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.pool = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="baseline")

    def close(self) -> None:
        self.pool.shutdown()
        self.session.close()

    def _post(self, target: tuple[str, bytes]) -> int:
        url, body = target
        response = self.session.post(
            url, data=body, headers={"content-type": "application/json"}, timeout=5, allow_redirects=False
        )
        response.content  # noqa: B018 - read the (empty) body, as the sender reads its excerpt
        return response.status_code

    def run(self, targets: list[tuple[str, bytes]]) -> float:
        """Post every body, ``CONCURRENCY`` at a time; returns the wall seconds."""
        started = time.perf_counter()
        statuses = list(self.pool.map(self._post, targets))
        elapsed = time.perf_counter() - started
        if any(status != 200 for status in statuses):
            raise RuntimeError("the baseline got non-200 answers")
        return elapsed

    def run_batches(self, targets: list[tuple[str, bytes]]) -> float:
        """Post ten at a time, each group waiting for its slowest request (as a dispatch batch does)."""
        return sum(self.run(targets[start : start + 10]) for start in range(0, len(targets), 10))
