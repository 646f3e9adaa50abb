"""Issue 4 under moto: delivery log, resend, recover, DLQ redrive, rotation, filters, rate limits,
circuit breaker, auto-disable and operational alerts. Receivers are real servers on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hookline.core import clock
from hookline.delivery.rate_limit import SPACING_MARGIN
from hookline.storage.rate_slots import RateSlotStore
from tests.integration.conftest import TEST_PARAMETERS
from tests.integration.lambda_harness import ApiClient, Stack
from tests.integration.seed import Seeder
from tests.integration.test_delivery import (
    always,
    deliveries,
    post_event,
    setup_endpoint,
    status_of,
    subscribe_queue_to_alerts,
)
from tests.receivers import Receiver, RecordedRequest
from tests.waiting import wait_until


def switchable(initial: int) -> tuple[Any, dict[str, int]]:
    state = {"status": initial}

    def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes, float]:
        return state["status"], {}, b"", 0.0

    return respond, state


def settled(api: ApiClient, event_id: str, endpoint_id: str) -> bool:
    return status_of(api, event_id, endpoint_id) in {"succeeded", "failed"}


def alerts_of(stack: Stack, queue_url: str, kind: str) -> list[dict[str, Any]]:
    messages = [json.loads(json.loads(m["Body"])["Message"]) for m in stack.receive(queue_url)]
    return [message for message in messages if message["type"] == kind]


def test_endpoint_attempts_are_listed_newest_first_and_filtered_by_status(
    api: ApiClient, stack: Stack
) -> None:
    respond, state = switchable(500)
    with Receiver(respond) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        first = post_event(api)
        stack.run_until(lambda: status_of(api, first, endpoint_id) == "failed", timeout=20)
        state["status"] = 200
        second = post_event(api)
        stack.run_until(lambda: status_of(api, second, endpoint_id) == "succeeded")

    path = f"/v1/tenants/acme/endpoints/{endpoint_id}/attempts"
    every = api.call("GET", path).body["data"]
    assert [a["event_id"] for a in every] == [second, first, first, first]
    assert [a["attempted_at"] for a in every] == sorted((a["attempted_at"] for a in every), reverse=True)
    failed = api.call("GET", path + "?status=failed").body["data"]
    assert {a["status_code"] for a in failed} == {500}
    assert all(a["error_kind"] == "http_status" for a in failed)
    assert [a["event_id"] for a in api.call("GET", path + "?status=succeeded").body["data"]] == [second]
    assert api.call("GET", path + "?status=maybe").status == 400
    paged = api.call("GET", path + "?limit=3").body
    assert len(paged["data"]) == 3
    rest = api.call("GET", path + f"?limit=3&cursor={paged['next_cursor']}").body
    assert [a["event_id"] for a in paged["data"] + rest["data"]] == [a["event_id"] for a in every]


def test_resend_delivers_again_with_the_same_webhook_id(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as one, Receiver(always(200)) as two:
        first_id, _ = setup_endpoint(api, one.url)
        second_id, _ = setup_endpoint(api, two.url)
        event_id = post_event(api)
        stack.run_until(lambda: all(settled(api, event_id, e) for e in (first_id, second_id)))
        resent = api.call("POST", f"/v1/tenants/acme/events/{event_id}/retry", {"endpoint_id": second_id})
        assert resent.status == 202
        assert resent.body["endpoint_ids"] == [second_id]
        stack.run_until(lambda: len(two.requests) == 2)
        stack.drain()
        assert len(one.requests) == 1
        assert two.requests[0].headers["webhook-id"] == two.requests[1].headers["webhook-id"] == event_id
        everyone = api.call("POST", f"/v1/tenants/acme/events/{event_id}/retry")
        assert sorted(everyone.body["endpoint_ids"]) == sorted([first_id, second_id])
        stack.run_until(lambda: len(one.requests) == 2 and len(two.requests) == 3)
    assert deliveries(api, event_id)[second_id]["attempts"] == 3
    assert (
        api.call("POST", f"/v1/tenants/acme/events/{event_id}/retry", {"endpoint_id": "ep_nope"}).status
        == 404
    )


def test_recover_after_an_outage_delivers_each_missed_event_exactly_once(
    api: ApiClient, stack: Stack
) -> None:
    respond, state = switchable(503)
    with Receiver(respond) as receiver:
        endpoint_id, secret = setup_endpoint(api, receiver.url)
        before_outage = post_event(api)
        state["status"] = 200
        stack.run_until(lambda: status_of(api, before_outage, endpoint_id) == "succeeded")
        state["status"] = 503
        outage_started = clock.now_iso()
        missed = [post_event(api, data={"n": n}) for n in range(4)]
        stack.run_until(lambda: all(status_of(api, e, endpoint_id) == "failed" for e in missed), timeout=30)
        state["status"] = 200
        seen_before = len(receiver.requests)

        answer = api.call(
            "POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/recover", {"since": outage_started}
        )
        assert answer.status == 202
        # A second recover while the first is still queued must not double anything.
        api.call("POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/recover", {"since": outage_started})
        stack.run_until(lambda: all(status_of(api, e, endpoint_id) == "succeeded" for e in missed))
        stack.drain()
        recovered = receiver.requests[seen_before:]
        assert sorted(request.headers["webhook-id"] for request in recovered) == sorted(missed)
        for request in recovered:
            Webhook(secret).verify(request.body, request.headers)
    assert (
        api.call("POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/recover", {"since": "yesterday"}).status
        == 400
    )
    assert api.call("POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/recover", {}).status == 400


def test_events_missed_while_disabled_are_recovered_after_re_enabling(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        disabled_at = clock.now_iso()
        api.call("PATCH", f"/v1/tenants/acme/endpoints/{endpoint_id}", {"enabled": False})
        missed = [post_event(api) for _ in range(3)]
        stack.drain()
        assert receiver.requests == []
        blocked = api.call(
            "POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/recover", {"since": disabled_at}
        )
        assert blocked.status == 409
        assert api.call("PATCH", f"/v1/tenants/acme/endpoints/{endpoint_id}", {"enabled": True}).status == 200
        api.call("POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/recover", {"since": disabled_at})
        stack.run_until(lambda: len(receiver.requests) == 3)
        stack.drain()
        assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(missed)


def test_dead_letters_are_redriven_for_another_full_round(api: ApiClient, stack: Stack) -> None:
    respond, state = switchable(500)
    with Receiver(respond) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        event_id = post_event(api)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "failed", timeout=20)
        stack.run_until(lambda: bool(api.call("GET", "/v1/admin/dead-letters").body["data"]))
        [letter] = api.call("GET", "/v1/admin/dead-letters").body["data"]
        assert (letter["event_id"], letter["endpoint_id"], letter["tenant_id"]) == (
            event_id,
            endpoint_id,
            "acme",
        )
        assert len(receiver.requests) == 3

        state["status"] = 200
        assert api.call("POST", "/v1/admin/dead-letters/redrive").status == 202
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded")
        stack.drain()
        assert len(receiver.requests) == 4
        assert api.call("GET", "/v1/admin/dead-letters").body["data"] == []
    attempts = api.call("GET", f"/v1/tenants/acme/events/{event_id}/attempts").body["data"]
    # A fresh round of the schedule; attempts keep counting, so the log reads 4, 3, 2, 1.
    assert [a["attempt"] for a in attempts] == [4, 3, 2, 1]
    assert attempts[0]["status_code"] == 200


@pytest.fixture
def short_grace(stack_parameters: dict[str, str]) -> None:
    stack_parameters["SecretRotationGraceSeconds"] = "6"


@pytest.mark.usefixtures("short_grace")
def test_a_rotated_secret_signs_alongside_the_old_one_for_the_grace_window(
    api: ApiClient, stack: Stack
) -> None:
    with Receiver(always(200)) as receiver:
        endpoint_id, old_secret = setup_endpoint(api, receiver.url)
        rotated_after = int(time.time())
        rotated = api.call("POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/secret/rotate")
        assert rotated.status == 200
        grace_ends = clock.parse_iso(rotated.body["previous_secret_expires_at"]).timestamp()
        assert rotated_after + 6 <= grace_ends <= time.time() + 6  # the template's grace, from rotation
        new_secret = rotated.body["secret"]
        assert new_secret.startswith("whsec_")
        assert new_secret != old_secret
        assert (
            api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}/secret").body["secret"] == new_secret
        )

        during = post_event(api)
        stack.run_until(lambda: status_of(api, during, endpoint_id) == "succeeded")
        request = receiver.requests[-1]
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        Webhook(old_secret).verify(request.body, request.headers)
        Webhook(new_secret).verify(request.body, request.headers)

        # The grace window ends: age the previous secret past its expiry rather than wait it out.
        seeder = Seeder(stack)
        endpoint = seeder.endpoints.require("acme", endpoint_id)
        aged = tuple(
            replace(secret, expires_at=int(time.time()) - 1) if secret.expires_at is not None else secret
            for secret in endpoint.secrets
        )
        assert len(aged) == 2
        seeder.change(endpoint, secrets=aged)
        after = post_event(api)
        stack.run_until(lambda: status_of(api, after, endpoint_id) == "succeeded")
        request = receiver.requests[-1]
        assert len(request.headers["webhook-signature"].split(" ")) == 1
        Webhook(new_secret).verify(request.body, request.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old_secret).verify(request.body, request.headers)


def test_content_filters_send_only_matching_events(api: ApiClient, stack: Stack) -> None:
    pattern = {"data": {"status": ["shipped"], "amount": [{"numeric": [">", 100]}]}}
    with Receiver(always(200)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url, filter=pattern)
        assert api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").body["filter"] == pattern
        wanted = post_event(api, "order.updated", {"status": "shipped", "amount": 250})
        unwanted = [
            post_event(api, "order.updated", {"status": "shipped", "amount": 50}),
            post_event(api, "order.updated", {"status": "pending", "amount": 250}),
            post_event(api, "order.updated", {"amount": 250}),
        ]
        stack.run_until(lambda: status_of(api, wanted, endpoint_id) == "succeeded")
        stack.drain()
        assert [r.headers["webhook-id"] for r in receiver.requests] == [wanted]
        assert all(deliveries(api, event_id) == {} for event_id in unwanted)
    invalid = api.call(
        "POST",
        "/v1/tenants/acme/endpoints",
        {"url": "https://example.com", "filter": {"data": {"n": [{"numeric": [">"]}]}}},
    )
    assert invalid.status == 400
    assert "filter.data.n" in invalid.body["error"]["message"]


def test_a_rate_limit_holds_across_two_racing_dispatchers(
    api: ApiClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two dispatchers polling at once share one limiter: every send has a slot of its own, slots are
    ``SPACING_MARGIN / rate`` apart, and nothing is sent before its slot. (The slots, not the receiver's
    arrival times, are asserted: how late a loaded machine delivers is not the limiter's doing.)"""
    slots: list[float] = []
    claim = RateSlotStore.claim

    def recording_claim(store: RateSlotStore, *args: Any) -> bool:
        taken = claim(store, *args)
        if taken:
            with slots_lock:
                slots.append(args[3] - SPACING_MARGIN / 3)  # the claimed slot's start
        return taken

    slots_lock = threading.Lock()
    monkeypatch.setattr(RateSlotStore, "claim", recording_claim)
    with Receiver(always(200)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url, rate_limit=3)
        events = [post_event(api, data={"n": n}) for n in range(12)]
        stop = threading.Event()
        errors: list[BaseException] = []

        def dispatcher_loop() -> None:
            try:
                while not stop.is_set():
                    if not stack.poll_once("DispatchFunction")[0]:
                        stop.wait(0.02)
            except BaseException as exc:  # noqa: BLE001 - reported to the test thread
                errors.append(exc)

        racers = [threading.Thread(target=dispatcher_loop) for _ in range(2)]
        for racer in racers:
            racer.start()
        try:
            wait_until(lambda: len(receiver.requests) >= len(events), 30, "every event delivered")
        finally:
            stop.set()
            for racer in racers:
                racer.join()
        assert errors == []
        arrivals = sorted(r.received_at for r in receiver.requests)
        assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(events)
    slots.sort()
    assert len(slots) == len(events)  # one slot per send: no two sends shared one
    assert all(later - earlier >= SPACING_MARGIN / 3 - 1e-3 for earlier, later in itertools.pairwise(slots))
    # The k-th arrival came no earlier than the k-th slot: nothing was sent ahead of its slot.
    assert all(arrived >= slot - 1e-3 for arrived, slot in zip(arrivals, slots, strict=True))
    # Waiting for the limiter is not a failed attempt.
    assert all(deliveries(api, e)[endpoint_id]["attempts"] == 1 for e in events)


@pytest.fixture
def touchy_breaker(stack_parameters: dict[str, str]) -> None:
    stack_parameters |= {
        "BreakerFailureThreshold": "2",
        "BreakerCooldownSeconds": "3",
        "RetrySchedule": "0,1,1,1,1",
    }


@pytest.mark.usefixtures("touchy_breaker")
def test_the_breaker_opens_spends_no_attempts_while_open_and_closes_after_a_probe(
    api: ApiClient, stack: Stack
) -> None:
    alerts = subscribe_queue_to_alerts(stack)
    respond, state = switchable(500)
    with Receiver(respond) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        events = [post_event(api, data={"n": n}) for n in range(4)]
        stack.run_until(lambda: len(receiver.requests) >= 2)
        # Open: for the cool-down, nothing reaches the endpoint however often dispatch runs. Each failed
        # delivery comes back after its 1 s retry delay, inside the 3 s cool-down, and is deferred unsent.
        opened_with = len(receiver.requests)
        handled = 0

        def every_failed_delivery_came_back() -> bool:
            nonlocal handled
            handled += stack.poll_once("DispatchFunction")[0]
            return handled >= opened_with

        wait_until(every_failed_delivery_came_back, 10, "the failed deliveries' retries reach dispatch")
        assert len(receiver.requests) == opened_with
        [failing] = alerts_of(stack, alerts, "endpoint.failing")
        assert failing["endpoint_id"] == endpoint_id

        state["status"] = 200
        stack.run_until(
            lambda: all(status_of(api, e, endpoint_id) == "succeeded" for e in events), timeout=20
        )
        [recovered] = alerts_of(stack, alerts, "endpoint.recovered")
        assert recovered["endpoint_id"] == endpoint_id
    # Attempts spent = HTTP requests made: the waits in between cost none.
    spent = sum(deliveries(api, e)[endpoint_id]["attempts"] for e in events)
    assert spent == len(receiver.requests)
    assert all(deliveries(api, e)[endpoint_id]["attempts"] <= 3 for e in events)


@pytest.fixture
def operator(stack_parameters: dict[str, str], before_deploy: list[Any]) -> Iterator[Receiver]:
    def keep_the_signing_secret() -> None:
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        arn = secrets.create_secret(Name="operator-webhook", SecretString=OPERATOR_SECRET)["ARN"]
        stack_parameters["OperatorWebhookSecretArn"] = arn

    before_deploy.append(keep_the_signing_secret)
    with Receiver(always(204)) as receiver:
        stack_parameters |= {
            "AutoDisableAfterSeconds": "1",
            "RetrySchedule": "0,2,2",
            "OperatorWebhookUrl": receiver.url + "/ops",
        }
        yield receiver


OPERATOR_SECRET = "whsec_" + "b3BlcmF0b3Itd2ViaG9vay1zZWNyZXQtMzItYnl0ZXM="


def test_an_endpoint_that_only_fails_is_disabled_and_the_operator_is_told(
    operator: Receiver, api: ApiClient, stack: Stack
) -> None:
    alerts = subscribe_queue_to_alerts(stack)
    with Receiver(always(500)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        event_id = post_event(api)
        stack.run_until(
            lambda: api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").body["enabled"] is False,
            timeout=20,
        )
        endpoint = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").body
        assert "auto-disable" in endpoint["disabled_reason"]
        # The retry already scheduled finds the endpoint disabled and settles as failed without a request.
        requests_when_disabled = len(receiver.requests)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "failed", timeout=10)
        assert len(receiver.requests) == requests_when_disabled
    [disabled] = alerts_of(stack, alerts, "endpoint.disabled")
    assert disabled["endpoint_id"] == endpoint_id
    operator_alerts = [json.loads(r.body) for r in operator.requests]
    assert "endpoint.disabled" in [alert["type"] for alert in operator_alerts]
    for request in operator.requests:
        Webhook(OPERATOR_SECRET).verify(request.body, request.headers)
    assert TEST_PARAMETERS["BreakerFailureThreshold"] == "1000"
