"""Delayed events and recurring schedules through the local stack, over HTTP, with receivers on 127.0.0.1
that verify every signature. The stack runs recurring schedules' clock 30 times faster
(``--schedule-time-scale``, local only), so a ``rate(1 minute)`` schedule fires every 2 s of wall time."""

from __future__ import annotations

import time
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from hookline.core import clock
from tests.e2e.conftest import Api, Target
from tests.receivers import Receiver, RecordedRequest
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def verified(secret: str, request: RecordedRequest) -> Any:
    return Webhook(secret).verify(request.body, {k.lower(): v for k, v in request.headers.items()})


def test_a_delayed_event_arrives_no_earlier_than_deliver_at_and_a_cancelled_one_never(
    local_target: Target, api: Api, tenant: str
) -> None:
    with Receiver() as receiver:
        _, secret = api.endpoint(tenant, receiver.url)
        deliver_at = clock.iso_from_unix(time.time() + 3)
        delayed = api.client.send_event(tenant, "order.reminder", {"n": 1}, deliver_at=deliver_at)
        assert delayed["deliver_at"] == deliver_at
        cancelled = api.client.send_event(tenant, "order.reminder", {"n": 2}, deliver_at=deliver_at)
        assert api.event(tenant, delayed["id"])["status"] == "scheduled"
        api.client.cancel_event(tenant, cancelled["id"])
        assert api.event(tenant, cancelled["id"])["status"] == "cancelled"

        [request] = receiver.wait_for_requests(1, timeout=30)
        assert request.received_at >= clock.parse_iso(deliver_at).timestamp()
        assert request.headers["webhook-id"] == delayed["id"]
        assert verified(secret, request)["data"] == {"n": 1}
        settled = api.wait_settled(tenant, delayed["id"])
        assert "status" not in settled and settled["deliver_at"] == deliver_at
        # The cancelled one was due at the same time: once the due one is settled, it was dropped.
        assert [r.headers["webhook-id"] for r in receiver.requests] == [delayed["id"]]
        assert api.request("DELETE", f"/v1/tenants/{tenant}/events/{delayed['id']}").status_code == 409


def test_a_rate_schedule_fires_signed_events_and_stops_when_disabled(
    local_target: Target, api: Api, tenant: str
) -> None:
    with Receiver() as receiver:
        _, secret = api.endpoint(tenant, receiver.url)
        bad = api.request("POST", f"/v1/tenants/{tenant}/schedules", json={"type": "a.b", "cron": "0 9 * *"})
        assert bad.status_code == 400 and "5 fields" in bad.json()["error"]["message"]

        ticking = api.client.create_schedule(
            tenant, {"type": "report.tick", "data": {"k": 1}, "rate": "1 minute"}
        )
        assert ticking["next_run_at"]
        receiver.wait_for_requests(2, timeout=30)
        ids = {r.headers["webhook-id"] for r in receiver.requests}
        assert len(ids) == len(receiver.requests)  # distinct events, one per firing
        for request in receiver.requests:
            payload = verified(secret, request)
            assert (payload["type"], payload["data"]) == ("report.tick", {"k": 1})
        first = sorted(ids)[0]
        wait_until(
            lambda: api.event(tenant, first).get("schedule_id") == ticking["id"], 10, "the event's record"
        )

        api.client.update_schedule(tenant, ticking["id"], {"enabled": False})
        stopped_at = len(receiver.requests)
        # A second schedule is the clock: after three of its firings, the disabled one would have fired too.
        witness = api.client.create_schedule(tenant, {"type": "report.witness", "rate": "1 minute"})

        def witnessed() -> int:
            return sum(1 for r in receiver.requests if verified(secret, r)["type"] == "report.witness")

        wait_until(lambda: witnessed() >= 3, 30, "three firings of the witness schedule")
        api.client.delete_schedule(tenant, witness["id"])
        ticks = [r for r in receiver.requests if verified(secret, r)["type"] == "report.tick"]
        assert len(ticks) <= stopped_at + 1  # at most one firing that was already on its way
