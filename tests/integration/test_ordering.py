"""Ordered delivery per (endpoint, ordering key) through the real handlers under moto, FIFO queue included.

The contract (BRIEF, "API v1, third part"): per endpoint and key, no attempt of an event is made before the
previous event of that key has succeeded or finally failed; after a final failure the key goes on; a stuck key
holds back only itself.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from tests.integration.lambda_harness import ApiClient, Stack
from tests.integration.test_delivery import deliveries, setup_endpoint, status_of
from tests.receivers import Receiver, RecordedRequest


class KeyedReceiver:
    """Answers by the event's data: ``fail_first(n)`` fails the first attempt of event n, ``doomed(n)`` all of
    them. Records (key, n, status) in arrival order."""

    def __init__(self, fail_first: Any = lambda n: False, doomed: Any = lambda n: False) -> None:
        self._fail_first = fail_first
        self._doomed = doomed
        self._seen: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self.log: list[tuple[str, int, int]] = []

    def __call__(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        data = json.loads(request.body)["data"]
        key, n = str(data["key"]), int(data["n"])
        with self._lock:
            self._seen[(key, n)] += 1
            first = self._seen[(key, n)] == 1
            status = 500 if self._doomed(n) or (first and self._fail_first(n)) else 200
            self.log.append((key, n, status))
        return status, {}, b""


def send(api: ApiClient, key: str, n: int, tenant: str = "acme") -> str:
    response = api.call(
        "POST",
        f"/v1/tenants/{tenant}/events",
        {"type": "order.updated", "data": {"key": key, "n": n}, "ordering_key": key},
    )
    assert response.status == 202, response
    return str(response.body["id"])


def out_of_order(
    log: list[tuple[str, int, int]], given_up: frozenset[tuple[str, int]] = frozenset()
) -> list[tuple[str, int, int]]:
    """Attempts made while an earlier event of their key (numbered consecutively) had neither succeeded nor
    been given up (``given_up``: dead-lettered after its last attempt in the log)."""
    last = {(key, n): i for i, (key, n, _) in enumerate(log)}
    base = {key: min(n for k, n, _ in log if k == key) for key, _, _ in log}
    settled: dict[str, int] = {}
    bad = []
    for i, (key, n, status) in enumerate(log):
        done = settled.get(key, base[key] - 1)
        if n > done + 1:
            bad.append((key, n, status))
        if status == 200 or ((key, n) in given_up and last[(key, n)] == i):
            settled[key] = max(done, n)
    return bad


def test_retries_keep_the_order_of_a_key(api: ApiClient, stack: Stack) -> None:
    flaky = KeyedReceiver(fail_first=lambda n: n % 3 == 0)
    with Receiver(flaky) as receiver, Receiver() as fast:
        flaky_id, _ = setup_endpoint(api, receiver.url)
        fast_id, _ = setup_endpoint(api, fast.url)
        ids = [send(api, "ord_1", n) for n in range(1, 10)]
        stack.run_until(lambda: all(status_of(api, e, flaky_id) == "succeeded" for e in ids), timeout=60)
        stack.run_until(lambda: all(status_of(api, e, fast_id) == "succeeded" for e in ids), timeout=30)
        assert [n for _, n, status in flaky.log if status == 200] == list(range(1, 10))
        assert out_of_order(flaky.log) == []
        assert Counter(status for _, _, status in flaky.log) == {200: 9, 500: 3}
        assert [json.loads(r.body)["data"]["n"] for r in fast.requests] == list(range(1, 10))
    event = api.call("GET", f"/v1/tenants/acme/events/{ids[0]}").body
    assert event["ordering_key"] == "ord_1"


def test_a_dead_lettered_head_lets_the_key_go_on(api: ApiClient, stack: Stack) -> None:
    doomed = KeyedReceiver(doomed=lambda n: n == 1)
    with Receiver(doomed) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        first, second = send(api, "ord_2", 1), send(api, "ord_2", 2)
        stack.run_until(
            lambda: (
                status_of(api, first, endpoint_id) == "failed"
                and status_of(api, second, endpoint_id) == "succeeded"
            ),
            timeout=60,
        )
    # Every attempt of the first (three: the schedule 0,1,1) came before the second's only attempt.
    assert doomed.log == [("ord_2", 1, 500)] * 3 + [("ord_2", 2, 200)]
    assert out_of_order(doomed.log, given_up=frozenset({("ord_2", 1)})) == []
    assert out_of_order(doomed.log) == [("ord_2", 2, 200)]  # the check itself sees a violation
    assert deliveries(api, first)[endpoint_id]["attempts"] == 3


def test_a_batch_keeps_its_input_order(api: ApiClient, stack: Stack) -> None:
    keyed = KeyedReceiver(fail_first=lambda n: n == 2)
    with Receiver(keyed) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        items = [
            {"type": "order.updated", "data": {"key": "b", "n": n}, "ordering_key": "b"} for n in range(1, 7)
        ]
        response = api.call("POST", "/v1/tenants/acme/events/batch", {"events": items})
        assert response.status == 207
        ids = [item["id"] for item in response.body["data"]]
        stack.run_until(lambda: all(status_of(api, e, endpoint_id) == "succeeded" for e in ids), timeout=60)
    assert [n for _, n, status in keyed.log if status == 200] == list(range(1, 7))
    assert out_of_order(keyed.log) == []


def test_a_stuck_key_holds_back_only_itself(api: ApiClient, stack: Stack) -> None:
    # Key "stuck" fails every attempt of its first event; key "free" on the same endpoint, and the stuck key
    # on another endpoint, flow meanwhile.
    keyed = KeyedReceiver(doomed=lambda n: n == 1)
    with Receiver(keyed) as receiver, Receiver() as other:
        endpoint_id, _ = setup_endpoint(api, receiver.url, event_types=["order.updated"])
        other_id, _ = setup_endpoint(api, other.url)
        stuck = [send(api, "stuck", n) for n in (1, 2)]
        free = [send(api, "free", n) for n in (11, 12, 13)]
        stack.run_until(
            lambda: (
                all(status_of(api, e, endpoint_id) == "succeeded" for e in free)
                and all(status_of(api, e, other_id) == "succeeded" for e in stuck)
            ),
            timeout=60,
        )
        # The stuck key's head is still retrying (or only just given up): its second event has not gone yet.
        assert ("stuck", 2, 200) not in keyed.log or keyed.log.index(("stuck", 2, 200)) > max(
            i for i, entry in enumerate(keyed.log) if entry[:2] == ("stuck", 1)
        )
        stack.run_until(lambda: status_of(api, stuck[1], endpoint_id) == "succeeded", timeout=60)
    assert out_of_order(keyed.log, given_up=frozenset({("stuck", 1)})) == []


def test_an_ordering_key_is_checked(api: ApiClient, stack: Stack) -> None:
    api.call("PUT", "/v1/tenants/acme", {"name": "acme"})
    for bad in ["", "x" * 129, "a\nb", "tab\there", "\u0085"]:
        response = api.call(
            "POST", "/v1/tenants/acme/events", {"type": "a.b", "data": {}, "ordering_key": bad}
        )
        assert response.status == 400, (bad, response)
        assert response.body["error"]["message"].startswith("ordering_key"), response.body
    ok = api.call("POST", "/v1/tenants/acme/events", {"type": "a.b", "data": {}, "ordering_key": "ключ 1/✓"})
    assert ok.status == 202
    unordered = api.call("POST", "/v1/tenants/acme/events", {"type": "a.b", "data": {}})
    assert unordered.status == 202
    # The ordered event went to the FIFO queue, the other to the standard one.
    assert [json.loads(m["Body"])["event_id"] for m in stack.receive(stack.ordered_queue_url)] == [
        ok.body["id"]
    ]
    assert [json.loads(m["Body"])["event_id"] for m in stack.receive(stack.delivery_queue_url)] == [
        unordered.body["id"]
    ]
