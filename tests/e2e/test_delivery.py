"""Deliveries through the whole system: ingest API -> SQS -> dispatch -> receivers on 127.0.0.1.

Every request a receiver gets is checked with the independent ``standardwebhooks`` library.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from hookline.core import clock
from tests.e2e.conftest import ATTEMPTS, Api, Target, wait_quiet
from tests.receivers import Receiver, RecordedRequest, Reply, reply

pytestmark = pytest.mark.slow


def verified(secret: str, request: RecordedRequest) -> Any:
    """The payload, once ``standardwebhooks`` accepts the request's signature (it raises otherwise)."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    return Webhook(secret).verify(request.body, headers)


def fail_first(times: int, status: int = 500) -> Any:
    """A responder that fails the first ``times`` requests, then answers 200."""
    count = 0
    lock = threading.Lock()

    def respond(request: RecordedRequest) -> Reply:
        nonlocal count
        with lock:
            count += 1
            return Reply(status if count <= times else 200)

    return respond


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


def test_delivery_has_the_exact_body_and_signed_headers(
    local_target: Target, api: Api, tenant: str, receiver: Receiver
) -> None:
    endpoint_id, secret = api.endpoint(tenant, receiver.url + "/hooks/orders")
    data = {"order_id": "ord_1", "amount": 4200, "items": [{"sku": "A-1", "qty": 2}], "note": "naïve ☃"}

    sent_before = int(time.time())
    event = api.send(tenant, "order.created", data)

    assert event["id"].startswith("evt_")
    assert event["type"] == "order.created"
    [request] = receiver.wait_for_requests(1, timeout=10)
    assert request.method == "POST"
    assert request.path == "/hooks/orders"
    assert json.loads(request.body) == {
        "type": "order.created",
        "timestamp": event["timestamp"],
        "data": data,
    }
    assert verified(secret, request) == json.loads(request.body)
    assert request.headers["webhook-id"] == event["id"]
    assert sent_before <= int(request.headers["webhook-timestamp"]) <= request.received_at
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["content-type"] == "application/json"
    assert "hookline" in request.headers["user-agent"].lower()

    settled = api.wait_settled(tenant, event["id"])
    assert [(d["endpoint_id"], d["status"], d["attempts"]) for d in settled["deliveries"]] == [
        (endpoint_id, "succeeded", 1)
    ]
    assert settled["data"] == data
    wait_quiet(local_target)
    assert len(receiver.requests) == 1


def test_a_failed_attempt_is_retried_until_it_succeeds(local_target: Target, api: Api, tenant: str) -> None:
    with Receiver(fail_first(2, status=503)) as receiver:
        endpoint_id, secret = api.endpoint(tenant, receiver.url)
        event_id = api.send(tenant, "invoice.paid", {"invoice": "inv_9"})["id"]

        requests = receiver.wait_for_requests(3, timeout=15)
        settled = api.wait_settled(tenant, event_id)

    assert [d["status"] for d in settled["deliveries"]] == ["succeeded"]
    assert settled["deliveries"][0]["attempts"] == 3
    assert len(requests) == 3
    assert {request.headers["webhook-id"] for request in requests} == {event_id}
    for request in requests:
        verified(secret, request)
    attempts = sorted(api.attempts(tenant, event_id), key=lambda item: item["attempt"])
    # The schedule's one-second delays separate the attempts: each retry arrived no earlier than a second
    # after the attempt before it started (a causal bound from the product's own records).
    started = [clock.parse_iso(a["attempted_at"]).timestamp() for a in attempts]
    assert all(request.received_at >= at + 1 for at, request in zip(started, requests[1:], strict=False))
    assert [(a["attempt"], a["status_code"], a["outcome"]) for a in attempts] == [
        (1, 503, "retry"),
        (2, 503, "retry"),
        (3, 200, "succeeded"),
    ]
    assert {a["endpoint_id"] for a in attempts} == {endpoint_id}


def test_an_idempotent_repeat_returns_the_same_event_and_delivers_once(
    local_target: Target, api: Api, tenant: str, receiver: Receiver
) -> None:
    api.endpoint(tenant, receiver.url)
    body = {"payment": "pay_1", "amount": 100}

    first = api.send(tenant, "payment.captured", body, idempotency_key="capture-pay_1")
    second = api.send(tenant, "payment.captured", body, idempotency_key="capture-pay_1")

    assert second["id"] == first["id"]
    receiver.wait_for_requests(1, timeout=10)
    api.wait_settled(tenant, first["id"])
    wait_quiet(local_target)  # nothing queued: no second delivery is on its way
    assert len(receiver.requests) == 1
    third = api.send(tenant, "payment.captured", body, idempotency_key="capture-pay_2")
    assert third["id"] != first["id"]


def test_fan_out_delivers_once_to_each_healthy_endpoint_while_one_fails(
    local_target: Target, api: Api, tenant: str
) -> None:
    with Receiver() as first, Receiver() as second, Receiver(reply(500)) as failing:
        secrets = {
            api.endpoint(tenant, first.url)[0]: "first",
            api.endpoint(tenant, second.url)[0]: "second",
            api.endpoint(tenant, failing.url)[0]: "failing",
        }
        first_secret = api.client.endpoint_secret(tenant, _id(secrets, "first"))["secret"]
        second_secret = api.client.endpoint_secret(tenant, _id(secrets, "second"))["secret"]
        event_id = api.send(tenant, "user.signed_up", {"user": "u_1"})["id"]

        settled = api.wait_settled(tenant, event_id, timeout=30)
        wait_quiet(local_target)  # nothing queued: no stray extra delivery is on its way
        statuses = {secrets[d["endpoint_id"]]: (d["status"], d["attempts"]) for d in settled["deliveries"]}
        assert statuses == {
            "first": ("succeeded", 1),
            "second": ("succeeded", 1),
            "failing": ("failed", ATTEMPTS),
        }
        assert len(first.requests) == 1
        assert len(second.requests) == 1
        assert len(failing.requests) == ATTEMPTS
        verified(first_secret, first.requests[0])
        verified(second_secret, second.requests[0])
        assert first.requests[0].headers["webhook-id"] == second.requests[0].headers["webhook-id"] == event_id


def _id(names: dict[str, str], name: str) -> str:
    return next(endpoint_id for endpoint_id, value in names.items() if value == name)
