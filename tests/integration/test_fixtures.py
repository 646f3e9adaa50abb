"""The committed SQS fixtures (events/dispatch_batch.json, events/dlq_batch.json) through the handlers."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
from standardwebhooks.webhooks import Webhook

from hookline import clock
from hookline.models import Endpoint, EndpointSecret, Event
from hookline.signing import generate_secret
from hookline.store import Store
from tests.integration.lambda_harness import Stack, load_event
from tests.integration.test_delivery import always, subscribe_queue_to_alerts
from tests.receivers import Receiver

TENANT, EVENT_ID, ENDPOINT_ID = "acme", "evt_01JDEMO0000000000000000000", "ep_01JDEMO0000000000000000000"


def seed(stack: Stack, url: str) -> str:
    """The tenant, endpoint and event the fixtures name, written straight to the table."""
    store = Store(
        stack.env("DispatchFunction", "TABLE_NAME"), boto3.client("dynamodb", region_name="us-east-1")
    )
    now = clock.now_iso()
    store.upsert_tenant(TENANT, "Acme", now)
    secret = generate_secret()
    store.create_endpoint(
        Endpoint(TENANT, ENDPOINT_ID, url, (EndpointSecret(secret),), created_at=now, updated_at=now)
    )
    body = json.dumps({"type": "order.created", "timestamp": now, "data": {"order_id": "ord_1001"}})
    store.put_event(Event(TENANT, EVENT_ID, "order.created", now, body), clock.unix_now() + 3600)
    return secret


def test_the_dispatch_fixture_delivers_and_fans_out(stack: Stack) -> None:
    with Receiver(always(200)) as receiver:
        secret = seed(stack, receiver.url)
        response = stack.functions["DispatchFunction"].invoke(load_event("dispatch_batch.json"))
        assert response == {"batchItemFailures": []}
        [request] = receiver.requests
        assert request.headers["webhook-id"] == EVENT_ID
        Webhook(secret).verify(request.body, request.headers)
        # The fixture's fan-out record queued one deliver job for the one matching endpoint; the pair
        # already succeeded, so delivering it is skipped rather than repeated.
        [queued] = stack.receive(stack.delivery_queue_url)
        assert json.loads(queued["Body"])["endpoint_id"] == ENDPOINT_ID
        stack.sqs.change_message_visibility(
            QueueUrl=stack.delivery_queue_url, ReceiptHandle=queued["ReceiptHandle"], VisibilityTimeout=0
        )
        stack.drain()
        assert len(receiver.requests) == 1


def test_duplicate_jobs_in_one_batch_make_one_attempt(stack: Stack) -> None:
    with Receiver(always(200)) as receiver:
        seed(stack, receiver.url)
        batch: dict[str, Any] = load_event("dispatch_batch.json")
        duplicate = copy.deepcopy(batch["Records"][0])
        duplicate["messageId"] = "4f6b2c1e-0d1a-4c5e-9b7a-00000000dup1"
        batch["Records"] = [batch["Records"][0], duplicate]
        assert stack.functions["DispatchFunction"].invoke(batch) == {"batchItemFailures": []}
        assert len(receiver.requests) == 1


def test_the_dlq_fixture_marks_failed_keeps_the_dead_letter_and_alerts(stack: Stack) -> None:
    alerts = subscribe_queue_to_alerts(stack)
    seed(stack, "https://example.com/webhooks/acme")
    response = stack.functions["DlqHandlerFunction"].invoke(load_event("dlq_batch.json"))
    assert response == {"batchItemFailures": []}
    [alert] = [json.loads(json.loads(m["Body"])["Message"]) for m in stack.receive(alerts)]
    assert alert["type"] == "deliveries.dead_lettered"
    assert (alert["tenant_id"], alert["endpoint_id"]) == (TENANT, ENDPOINT_ID)
    assert alert["deliveries"][0]["event_id"] == EVENT_ID
    assert alert["deliveries"][0]["event_type"] == "order.created"
    store = Store(
        stack.env("DlqHandlerFunction", "TABLE_NAME"), boto3.client("dynamodb", region_name="us-east-1")
    )
    delivery = store.get_delivery(TENANT, EVENT_ID, ENDPOINT_ID)
    assert delivery is not None
    assert delivery.status.value == "failed"
    assert [r.event_id for r in store.list_dead_letters(10, None).items] == [EVENT_ID]


def test_a_dead_letter_is_kept_on_the_dlq_when_alerting_fails(stack: Stack) -> None:
    seed(stack, "https://example.com/webhooks/acme")
    stack.sns.delete_topic(TopicArn=stack.env("DlqHandlerFunction", "ALERTS_TOPIC_ARN"))
    event = load_event("dlq_batch.json")
    response = stack.functions["DlqHandlerFunction"].invoke(event)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
