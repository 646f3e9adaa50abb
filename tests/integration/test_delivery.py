"""End to end through the handlers under moto: ingest -> fan-out -> signed delivery -> retry -> DLQ -> alert.

Receivers are real HTTP servers on 127.0.0.1; signatures are checked with the `standardwebhooks` library.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from hookline.core import clock
from tests.integration.lambda_harness import ApiClient, Stack
from tests.receivers import Receiver, RecordedRequest


def always(status: int, body: str = "", headers: dict[str, str] | None = None, delay: float = 0.0) -> Any:
    def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes, float]:
        return status, headers or {}, body.encode(), delay

    return respond


def scripted(*statuses: int) -> Any:
    """Answer with each status in turn, then repeat the last one."""
    answers = list(statuses)

    def respond(request: RecordedRequest) -> tuple[int, dict[str, str], bytes, float]:
        status = answers.pop(0) if len(answers) > 1 else answers[0]
        return status, {}, b"", 0.0

    return respond


def setup_endpoint(api: ApiClient, url: str, tenant: str = "acme", **fields: Any) -> tuple[str, str]:
    if api.call("GET", f"/v1/tenants/{tenant}").status == 404:
        api.call("PUT", f"/v1/tenants/{tenant}", {"name": tenant})
    endpoint = api.call("POST", f"/v1/tenants/{tenant}/endpoints", {"url": url} | fields)
    assert endpoint.status == 201, endpoint
    secret = api.call("GET", f"/v1/tenants/{tenant}/endpoints/{endpoint.body['id']}/secret").body["secret"]
    return endpoint.body["id"], secret


def post_event(
    api: ApiClient, event_type: str = "order.created", data: Any = None, tenant: str = "acme"
) -> str:
    response = api.call(
        "POST", f"/v1/tenants/{tenant}/events", {"type": event_type, "data": data or {"n": 1}}
    )
    assert response.status == 202, response
    return str(response.body["id"])


def deliveries(api: ApiClient, event_id: str, tenant: str = "acme") -> dict[str, dict[str, Any]]:
    """The event's deliveries by endpoint; none while dispatch has not recorded the event yet (a 404)."""
    response = api.call("GET", f"/v1/tenants/{tenant}/events/{event_id}")
    if response.status == 404:
        return {}
    return {delivery["endpoint_id"]: delivery for delivery in response.body["deliveries"]}


def status_of(api: ApiClient, event_id: str, endpoint_id: str) -> str | None:
    delivery = deliveries(api, event_id).get(endpoint_id)
    return delivery["status"] if delivery else None


def test_a_delivery_succeeds_signed_and_exact(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200, "thanks")) as receiver:
        endpoint_id, secret = setup_endpoint(api, receiver.url + "/hook", headers={"X-Team": "orders"})
        posted_before = time.time()
        event_id = post_event(api, data={"order_id": "ord_1", "amount": 4200})
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded")

        assert len(receiver.requests) == 1
        request = receiver.requests[0]
        assert request.method == "POST"
        assert request.path == "/hook"
        body = json.loads(request.body)
        assert body["type"] == "order.created"
        assert body["data"] == {"order_id": "ord_1", "amount": 4200}
        event = api.call("GET", f"/v1/tenants/acme/events/{event_id}").body
        assert body["timestamp"] == event["timestamp"]
        assert request.headers["webhook-id"] == event_id
        assert int(posted_before) <= int(request.headers["webhook-timestamp"]) <= request.received_at
        assert request.headers["content-type"] == "application/json"
        assert "Hookline" in request.headers["user-agent"]
        assert request.headers["x-team"] == "orders"
        assert Webhook(secret).verify(request.body, request.headers) == body

    attempts = api.call("GET", f"/v1/tenants/acme/events/{event_id}/attempts").body["data"]
    assert len(attempts) == 1
    assert attempts[0]["status_code"] == 200
    assert attempts[0]["response_excerpt"] == "thanks"
    assert attempts[0]["error_kind"] is None
    assert attempts[0]["latency_ms"] >= 0
    assert deliveries(api, event_id)[endpoint_id]["attempts"] == 1


def test_event_types_route_events_only_to_matching_endpoints(api: ApiClient, stack: Stack) -> None:
    with (
        Receiver(always(200)) as orders,
        Receiver(always(200)) as invoices,
        Receiver(always(200)) as everything,
    ):
        orders_id, _ = setup_endpoint(api, orders.url, event_types=["order.*"])
        setup_endpoint(api, invoices.url, event_types=["invoice.paid"])
        everything_id, _ = setup_endpoint(api, everything.url)
        event_id = post_event(api, "order.shipped")
        stack.run_until(
            lambda: (
                all(d["status"] == "succeeded" for d in deliveries(api, event_id).values())
                and len(deliveries(api, event_id)) == 2
            )
        )
        assert set(deliveries(api, event_id)) == {orders_id, everything_id}
        assert (len(orders.requests), len(invoices.requests), len(everything.requests)) == (1, 0, 1)


def test_a_500_is_retried_on_the_schedule_then_succeeds(api: ApiClient, stack: Stack) -> None:
    with Receiver(scripted(500, 200)) as receiver:
        endpoint_id, secret = setup_endpoint(api, receiver.url)
        event_id = post_event(api)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "retrying")
        delivery = deliveries(api, event_id)[endpoint_id]
        assert delivery["last_status_code"] == 500
        assert delivery["next_attempt_at"] is not None
        # The queue is the scheduler: the message stays hidden for the schedule's next delay (1 s +/- 20%).
        assert stack.receive(stack.delivery_queue_url) == []
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded")
        assert len(receiver.requests) == 2
        first, second = receiver.requests
        # Not sent before its time (a causal bound from the product's own schedule, never a duration).
        assert second.received_at >= clock.parse_iso(delivery["next_attempt_at"]).timestamp()
        assert first.headers["webhook-id"] == second.headers["webhook-id"] == event_id
        for request in receiver.requests:
            Webhook(secret).verify(request.body, request.headers)
    attempts = api.call("GET", f"/v1/tenants/acme/events/{event_id}/attempts").body["data"]
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(2, 200), (1, 500)]  # newest first
    assert attempts[1]["error_kind"] == "http_status"


def test_410_disables_the_endpoint_without_retrying(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(410)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        event_id = post_event(api)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "failed")
        endpoint = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").body
        assert endpoint["enabled"] is False
        assert "410" in endpoint["disabled_reason"]
        stack.run_until(stack.idle)  # no retry waits in any queue
        assert len(receiver.requests) == 1
        # A disabled endpoint gets no new events; they are logged as failed so a later recover resends them.
        later = post_event(api)
        stack.drain()
        missed = deliveries(api, later)[endpoint_id]
        assert (missed["status"], missed["last_error_kind"], missed["attempts"]) == (
            "failed",
            "endpoint_disabled",
            0,
        )
        assert len(receiver.requests) == 1


def test_a_slow_endpoint_times_out_and_is_retried(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200, delay=2.5)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        event_id = post_event(api)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "retrying")
        delivery = deliveries(api, event_id)[endpoint_id]
        assert delivery["last_error_kind"] == "timeout"
        assert delivery["last_status_code"] is None


def test_a_redirect_is_a_failure_and_is_not_followed(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as target, Receiver(always(302)) as redirector:
        redirector.responder = always(302, headers={"Location": target.url + "/elsewhere"})
        endpoint_id, _ = setup_endpoint(api, redirector.url)
        event_id = post_event(api)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "retrying")
        assert deliveries(api, event_id)[endpoint_id]["last_status_code"] == 302
        assert target.requests == []


def test_the_last_failure_is_dead_lettered_and_alerted_once_per_endpoint(
    api: ApiClient, stack: Stack
) -> None:
    alerts = subscribe_queue_to_alerts(stack)
    with Receiver(always(500, "boom")) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        event_ids = [post_event(api), post_event(api, "order.updated")]
        stack.run_until(
            lambda: (
                all(status_of(api, event_id, endpoint_id) == "failed" for event_id in event_ids)
                and bool(
                    stack.sqs.get_queue_attributes(
                        QueueUrl=alerts, AttributeNames=["ApproximateNumberOfMessages"]
                    )["Attributes"]["ApproximateNumberOfMessages"]
                    != "0"
                )
            ),
            timeout=20,
        )
        assert len(receiver.requests) == 2 * 3  # three attempts each ("0,1,1")
    stack.drain()
    messages = [json.loads(json.loads(m["Body"])["Message"]) for m in stack.receive(alerts)]
    messages = [message for message in messages if message["type"] == "deliveries.dead_lettered"]
    alerted = [d for message in messages for d in message["deliveries"]]
    assert {d["event_id"] for d in alerted} == set(event_ids)
    assert all(
        message["endpoint_id"] == endpoint_id and message["tenant_id"] == "acme" for message in messages
    )
    assert len(messages) <= 2  # grouped per endpoint per batch
    for delivery in alerted:
        assert delivery["attempts"] == 3
        assert delivery["last_status_code"] == 500
        assert delivery["event_type"] in {"order.created", "order.updated"}
    # The DLQ is drained: every dead letter was handled.
    assert stack.receive(stack.dead_letter_queue_url) == []


def test_a_large_records_retries_and_dead_letter_are_kept_apart_from_it(api: ApiClient, stack: Stack) -> None:
    """A record above one write unit is written once; its deliveries' later claims, outcomes and dead letter
    go to items of their own, which the API shows (and searches) in place of the record's inline entries."""
    noise = "".join(f"{n * 7919 % 65521:05x}" for n in range(400))  # compresses poorly: about 1 KB stored
    with Receiver(always(500, "boom")) as failing, Receiver(scripted(500, 200)) as flaky:
        failing_id, _ = setup_endpoint(api, failing.url)
        flaky_id, _ = setup_endpoint(api, flaky.url)
        event_id = post_event(api, data={"noise": noise})
        stack.run_until(
            lambda: (
                status_of(api, event_id, failing_id) == "failed"
                and status_of(api, event_id, flaky_id) == "succeeded"
            ),
            timeout=20,
        )
        stack.drain()
        assert (len(failing.requests), len(flaky.requests)) == (3, 2)
    table = stack.env("DispatchFunction", "TABLE_NAME")
    items = [i for i in stack.dynamodb.scan(TableName=table)["Items"] if i["sk"]["S"].startswith(event_id)]
    [record] = [i for i in items if i["k"]["S"] == "event"]
    assert {d["M"]["s"]["S"] for d in record["d"]["M"].values()} == {"retrying"}  # as the first round left it
    apart = {i["sk"]["S"].rsplit("#", 1)[1]: i["s"]["S"] for i in items if i["k"]["S"] == "apart"}
    assert apart == {failing_id: "failed", flaky_id: "succeeded"}
    attempts = api.call("GET", f"/v1/tenants/acme/events/{event_id}/attempts").body["data"]
    assert sorted((a["endpoint_id"] == flaky_id, a["attempt"]) for a in attempts) == [
        (False, 1),
        (False, 2),
        (False, 3),
        (True, 1),
        (True, 2),
    ]
    for status, found in (("failed", True), ("succeeded", True), ("retrying", False)):
        listed = api.call("GET", f"/v1/tenants/acme/events?status={status}").body["data"]
        assert (event_id in {e["id"] for e in listed}) is found, status


def test_a_failing_endpoint_never_causes_a_second_delivery_to_a_healthy_one(
    api: ApiClient, stack: Stack
) -> None:
    with Receiver(always(200)) as healthy, Receiver(always(503)) as failing:
        healthy_id, _ = setup_endpoint(api, healthy.url)
        failing_id, _ = setup_endpoint(api, failing.url)
        event_id = post_event(api)
        stack.run_until(lambda: status_of(api, event_id, failing_id) == "failed", timeout=20)
        stack.drain()
        assert status_of(api, event_id, healthy_id) == "succeeded"
        assert len(healthy.requests) == 1
        assert len(failing.requests) == 3


def subscribe_queue_to_alerts(stack: Stack) -> str:
    topic_arn = stack.env("DlqHandlerFunction", "ALERTS_TOPIC_ARN")
    queue_url = stack.sqs.create_queue(QueueName="alerts-observer")["QueueUrl"]
    queue_arn = stack.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    stack.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


@pytest.fixture
def delayed_first_attempt(stack_parameters: dict[str, str]) -> None:
    stack_parameters["RetrySchedule"] = "2,1"


@pytest.mark.usefixtures("delayed_first_attempt")
def test_the_schedules_first_entry_delays_the_first_attempt(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        accepted = api.call("POST", "/v1/tenants/acme/events", {"type": "order.created", "data": {}}).body
        event_id, accepted_at = accepted["id"], clock.parse_iso(accepted["timestamp"])
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded")
        [request] = receiver.requests
        # No earlier than the schedule's first entry (2 s) after the product accepted the event.
        assert request.received_at >= accepted_at.timestamp() + 2
