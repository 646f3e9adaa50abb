"""Ordered delivery through the local stack: ingest -> the FIFO queue -> dispatch -> receivers on 127.0.0.1.

Many keys at once, sent one by one and in batches, to a receiver that fails the first attempt of every third
event and to a fast one: per endpoint and key, no attempt may come before the previous event succeeded.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import Api, Target
from tests.e2e.test_delivery import verified
from tests.receivers import Receiver, RecordedRequest, Reply

pytestmark = pytest.mark.slow

KEYS = 6
PER_KEY = 8


class FlakyTakingTurns:
    """Fails the first attempt of every sixth event of each key; logs (key, n, status) in arrival order.

    The keys take turns (key k fails events n with (n + k) % 6 == 0), so that one key's head at most fails
    at a time: the endpoint never fails five times in a row, which would open its circuit breaker for a
    minute (the e2e stack's premise, ``conftest.RETRY_SCHEDULE``); order under retries is what is tested."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int, int]] = []
        self._seen: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply:
        data = json.loads(request.body)["data"]
        key, n = data["key"], data["n"]
        with self._lock:
            self._seen[(key, n)] += 1
            turn = (n + int(key.removeprefix("k"))) % KEYS == 0
            status = 500 if turn and self._seen[(key, n)] == 1 else 200
            self.log.append((key, n, status))
        return Reply(status)


def out_of_order(log: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    succeeded: dict[str, int] = {}
    bad = []
    for key, n, status in log:
        if n > succeeded.get(key, -1) + 1:
            bad.append((key, n, status))
        if status == 200:
            succeeded[key] = max(succeeded.get(key, -1), n)
    return bad


def test_each_key_keeps_its_order_at_each_endpoint(local_target: Target, api: Api, tenant: str) -> None:
    flaky = FlakyTakingTurns()
    with Receiver(flaky) as receiver, Receiver() as fast:
        _, secret = api.endpoint(tenant, receiver.url)
        api.endpoint(tenant, fast.url)
        events: list[dict[str, Any]] = []
        for n in range(PER_KEY):
            for k in range(KEYS - 2):  # one by one
                events.append(
                    api.send(tenant, "order.updated", {"key": f"k{k}", "n": n}, ordering_key=f"k{k}")
                )
            batch = [  # and two keys in batches
                {"type": "order.updated", "data": {"key": f"k{k}", "n": n}, "ordering_key": f"k{k}"}
                for k in (KEYS - 2, KEYS - 1)
            ]
            answer = api.client.send_events(tenant, batch)
            assert [item["status"] for item in answer["data"]] == [202, 202]
            events += answer["data"]
        for event in events:
            api.wait_settled(tenant, event["id"], timeout=90)
        assert len([s for _, _, s in flaky.log if s == 200]) == KEYS * PER_KEY
        assert len([s for _, _, s in flaky.log if s == 500]) == 8  # the (key, n) with (n + k) % 6 == 0
        assert out_of_order(flaky.log) == []
        fast_log = [
            (json.loads(r.body)["data"]["key"], json.loads(r.body)["data"]["n"], 200) for r in fast.requests
        ]
        assert out_of_order(fast_log) == [] and len(fast_log) == KEYS * PER_KEY
        assert all(verified(secret, request) for request in receiver.requests)
    shown = api.event(tenant, events[0]["id"])
    assert shown["ordering_key"] == "k0"
