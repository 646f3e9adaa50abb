"""The committed SQS fixtures (events/dispatch_batch.json, events/dlq_batch.json) through the handlers."""

from __future__ import annotations

import copy
import json
from typing import Any

from standardwebhooks.webhooks import Webhook

from hookline.core.models import Delivery, DeliveryStatus, Event, EventRecord, FanoutState
from hookline.storage.dead_letter_store import DeadLetterStore
from tests.integration.lambda_harness import Stack, load_event
from tests.integration.seed import Seeder
from tests.receivers import Receiver

TENANT, EVENT_ID, ENDPOINT_ID = "acme", "evt_01JDEXAMP1E000000000000000", "ep_01JDEXAMP1E000000000000000"


def subscribe_queue_to_alerts(stack: Stack) -> str:
    topic_arn = stack.env("DlqHandlerFunction", "ALERTS_TOPIC_ARN")
    queue_url = stack.sqs.create_queue(QueueName="alerts-observer")["QueueUrl"]
    attributes = stack.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    stack.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=attributes["Attributes"]["QueueArn"])
    return queue_url


def seed_endpoint(stack: Stack, url: str) -> tuple[Seeder, str]:
    """The tenant and endpoint the fixtures name, written through the stores."""
    seeder = Seeder(stack)
    seeder.tenant(TENANT)
    endpoint = seeder.endpoint(TENANT, url, endpoint_id=ENDPOINT_ID)
    return seeder, endpoint.current_secret


def test_the_dispatch_fixture_delivers_the_event_once(stack: Stack) -> None:
    with Receiver() as receiver:
        seeder, secret = seed_endpoint(stack, receiver.url)
        batch = load_event("dispatch_batch.json")
        assert stack.functions["DispatchFunction"].invoke(batch) == {"batchItemFailures": []}
        # The event job delivered it; the deliver job named a pair whose event was not recorded yet (no
        # event is handed to a deliver job before its record exists), so it was dropped, not sent.
        [request] = receiver.requests
        assert request.headers["webhook-id"] == EVENT_ID
        Webhook(secret).verify(request.body, request.headers)
        record = seeder.record(TENANT, EVENT_ID)
        assert record is not None
        assert record.fanout is FanoutState.DONE
        assert record.deliveries[ENDPOINT_ID].status is DeliveryStatus.SUCCEEDED
        assert stack.receive(stack.delivery_queue_url) == []


def test_a_job_repeated_in_one_batch_makes_one_attempt(stack: Stack) -> None:
    with Receiver() as receiver:
        seed_endpoint(stack, receiver.url)
        batch: dict[str, Any] = load_event("dispatch_batch.json")
        event_record = batch["Records"][1]
        duplicate = copy.deepcopy(event_record)
        duplicate["messageId"] = "4f6b2c1e-0d1a-4c5e-9b7a-00000000dup1"
        batch["Records"] = [event_record, duplicate]
        assert stack.functions["DispatchFunction"].invoke(batch) == {"batchItemFailures": []}
        assert len(receiver.requests) == 1


def seed_exhausted_delivery(seeder: Seeder) -> None:
    """The record the DLQ fixture's deliver job refers to, its delivery out of attempts."""
    body = json.dumps({"type": "order.created", "timestamp": "2026-11-27T08:00:00.000Z", "data": {}})
    record = EventRecord(
        Event(TENANT, EVENT_ID, "order.created", "2026-11-27T08:00:00.000Z", body),
        FanoutState.DONE,
        (ENDPOINT_ID,),
        {ENDPOINT_ID: Delivery(ENDPOINT_ID, DeliveryStatus.RETRYING, attempts=3, last_error="HTTP 500")},
    )
    assert seeder.log.create(record, 2_000_000_000)


def test_the_dlq_fixture_marks_failed_keeps_the_dead_letter_and_alerts(stack: Stack) -> None:
    alerts = subscribe_queue_to_alerts(stack)
    seeder, _ = seed_endpoint(stack, "https://example.com/webhooks/acme")
    seed_exhausted_delivery(seeder)
    response = stack.functions["DlqHandlerFunction"].invoke(load_event("dlq_batch.json"))
    assert response == {"batchItemFailures": []}
    [alert] = [json.loads(json.loads(m["Body"])["Message"]) for m in stack.receive(alerts)]
    assert alert["type"] == "deliveries.dead_lettered"
    assert (alert["tenant_id"], alert["endpoint_id"]) == (TENANT, ENDPOINT_ID)
    assert alert["deliveries"][0]["event_id"] == EVENT_ID
    assert alert["deliveries"][0]["event_type"] == "order.created"
    assert alert["deliveries"][0]["attempts"] == 3
    record = seeder.record(TENANT, EVENT_ID)
    assert record is not None
    assert record.deliveries[ENDPOINT_ID].status is DeliveryStatus.FAILED
    letters, _ = DeadLetterStore(seeder.table).page(10, None)
    assert [(letter.kind, letter.event_id) for letter in letters] == [("deliver", EVENT_ID)]
    failures, _ = seeder.log.failures_since(TENANT, ENDPOINT_ID, "2000", 10, None)
    assert [entry.event_id for entry in failures] == [EVENT_ID]


def test_a_dead_letter_is_kept_on_the_dlq_when_alerting_fails(stack: Stack) -> None:
    seeder, _ = seed_endpoint(stack, "https://example.com/webhooks/acme")
    seed_exhausted_delivery(seeder)
    stack.sns.delete_topic(TopicArn=stack.env("DlqHandlerFunction", "ALERTS_TOPIC_ARN"))
    event = load_event("dlq_batch.json")
    response = stack.functions["DlqHandlerFunction"].invoke(event)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
