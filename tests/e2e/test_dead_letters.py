"""A delivery that never succeeds: every attempt, then the dead-letter queue, then one SNS alert.

The alert is observed the way an operator would: an SQS queue subscribed to the stack's alerts topic
(on the moto server).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ATTEMPTS, Api, Target
from tests.receivers import Receiver, reply

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def alert_queue(target: Target) -> Iterator[tuple[Any, str]]:
    if not target.local:
        pytest.skip("observes alerts through the local moto server")
    sqs, sns = target.aws_client("sqs"), target.aws_client("sns")
    queue_url = sqs.create_queue(QueueName=f"e2e-alerts-{secrets.token_hex(4)}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    subscription = sns.subscribe(
        TopicArn=target.outputs["AlertsTopicArn"], Protocol="sqs", Endpoint=queue_arn
    )
    yield sqs, queue_url
    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    sqs.delete_queue(QueueUrl=queue_url)


def wait_for_alert(sqs: Any, queue_url: str, endpoint_id: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            envelope = json.loads(message["Body"])
            alert = json.loads(envelope["Message"])
            if alert.get("type") == "deliveries.dead_lettered" and alert.get("endpoint_id") == endpoint_id:
                return {"subject": envelope.get("Subject"), **alert}
    raise AssertionError(f"no dead-letter alert for {endpoint_id} within {timeout} s")


def test_a_delivery_that_always_fails_is_dead_lettered_and_alerted(
    local_target: Target, api: Api, tenant: str, alert_queue: tuple[Any, str]
) -> None:
    sqs, queue_url = alert_queue
    with Receiver(reply(500, b"down for maintenance")) as receiver:
        endpoint_id, _ = api.endpoint(tenant, receiver.url, description="always failing")
        event_id = api.send(tenant, "order.shipped", {"order_id": "ord_7"})["id"]

        settled = api.wait_settled(tenant, event_id, timeout=30)
        alert = wait_for_alert(sqs, queue_url, endpoint_id)

    [delivery] = settled["deliveries"]
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == ATTEMPTS
    assert delivery["last_status_code"] == 500
    assert len(receiver.requests) == ATTEMPTS
    assert alert["tenant_id"] == tenant
    assert endpoint_id in alert["subject"]
    [item] = alert["deliveries"]
    assert item["event_id"] == event_id
    assert item["event_type"] == "order.shipped"
    assert item["attempts"] == ATTEMPTS
    assert item["last_status_code"] == 500
    attempts = api.attempts(tenant, event_id)
    assert sorted(a["attempt"] for a in attempts) == list(range(1, ATTEMPTS + 1))
    assert {a["status_code"] for a in attempts} == {500}
