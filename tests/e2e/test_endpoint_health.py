"""Issue 4 through the local stack over HTTP: resend, recover, rotation, filters, rate limit, redrive."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import Api, Target, wait_quiet
from tests.receivers import Receiver, RecordedRequest, Reply
from tests.waiting import wait_until


def status_of(api: Api, tenant: str, event_id: str, endpoint_id: str) -> str | None:
    for delivery in api.event(tenant, event_id)["deliveries"]:
        if delivery["endpoint_id"] == endpoint_id:
            return str(delivery["status"])
    return None


class Switch:
    def __init__(self, status: int) -> None:
        self.status = status

    def __call__(self, request: RecordedRequest) -> Reply:
        return Reply(self.status)


@pytest.fixture
def switch() -> Switch:
    return Switch(503)


@pytest.fixture
def receiver(switch: Switch) -> Iterator[Receiver]:
    with Receiver(switch) as running:
        yield running


def test_recover_after_an_outage_delivers_each_missed_event_once(
    local_target: Target, api: Api, tenant: str, receiver: Receiver, switch: Switch
) -> None:
    endpoint_id, secret = api.endpoint(tenant, receiver.url)
    outage_began = datetime.now(UTC).isoformat()
    # One event uses up its attempts (fewer than the breaker's threshold) ...
    missed = [api.send(tenant, "order.created", {"n": 0})["id"]]
    api.wait_settled(tenant, missed[0], timeout=30)
    # ... and two more arrive while the endpoint is switched off.
    assert api.client.update_endpoint(tenant, endpoint_id, enabled=False)["enabled"] is False
    missed += [api.send(tenant, "order.created", {"n": n})["id"] for n in (1, 2)]
    for event_id in missed[1:]:
        api.wait_settled(tenant, event_id)
    assert all(status_of(api, tenant, e, endpoint_id) == "failed" for e in missed)
    assert api.client.update_endpoint(tenant, endpoint_id, enabled=True)["enabled"] is True
    switch.status = 200
    seen = len(receiver.requests)

    api.client.recover_endpoint(tenant, endpoint_id, outage_began)  # 202, or ApiError
    wait_until(
        lambda: all(status_of(api, tenant, e, endpoint_id) == "succeeded" for e in missed),
        20,
        "every missed event recovered",
    )
    wait_quiet(local_target)
    recovered = receiver.requests[seen:]
    assert sorted(r.headers["webhook-id"] for r in recovered) == sorted(missed)
    for request in recovered:
        Webhook(secret).verify(request.body, request.headers)


@pytest.mark.usefixtures("local_target")
def test_resend_and_rotation_over_http(api: Api, tenant: str, receiver: Receiver, switch: Switch) -> None:
    switch.status = 200
    endpoint_id, old_secret = api.endpoint(tenant, receiver.url)
    new_secret = api.client.rotate_secret(tenant, endpoint_id)["secret"]
    event_id = api.send(tenant, "order.created", {"n": 1})["id"]
    api.wait_settled(tenant, event_id)
    api.client.retry_event(tenant, event_id, endpoint_id)  # 202, or ApiError
    receiver.wait_for_requests(2)
    first, second = receiver.requests[:2]
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event_id
    for request in (first, second):
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        Webhook(old_secret).verify(request.body, request.headers)
        Webhook(new_secret).verify(request.body, request.headers)


def test_filters_and_rate_limits_over_http(
    local_target: Target, api: Api, tenant: str, receiver: Receiver, switch: Switch
) -> None:
    switch.status = 200
    pattern: dict[str, Any] = {"data": {"status": ["shipped"]}}
    endpoint_id, _ = api.endpoint(tenant, receiver.url, filter=pattern, rate_limit=2)
    sent_before = time.time()
    wanted = [api.send(tenant, "order.updated", {"status": "shipped", "n": n})["id"] for n in range(5)]
    api.send(tenant, "order.updated", {"status": "pending"})
    for event_id in wanted:
        api.wait_settled(tenant, event_id, timeout=30)
    wait_quiet(local_target)
    assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(wanted)
    # Five sends at two a second cannot all arrive sooner than two seconds after the first was sent
    # (unlimited, they would arrive at once). A lower bound the limiter guarantees, whatever the load.
    assert max(r.received_at for r in receiver.requests) >= sent_before + (len(wanted) - 1) / 2
    attempts = api.client.list_endpoint_attempts(tenant, endpoint_id, status="succeeded")
    assert len(attempts["data"]) == 5


def test_dead_letters_can_be_listed_and_redriven(api: Api, target: Target) -> None:
    listed = api.request("GET", "/v1/admin/dead-letters", params={"limit": 5})
    assert listed.status_code == 200, listed.text
    assert set(listed.json()) == {"data", "next_cursor", "has_more"}
    assert api.request("POST", "/v1/admin/dead-letters/redrive").status_code == 202
