"""The local stack's moto server (``local_stack/_moto_runner.py``) over real HTTP, without the rest of
the stack: SQS stays correct under concurrency, and injected faults look to botocore as AWS's do.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local_stack.aws_faults import CONTROL_PATH, FAULTS
from local_stack.logs import LogRenderer
from local_stack.moto_server import MotoServer

# A backlog makes moto's unlocked rebuild of a queue's message list slow enough for the others to
# interleave: without the runner's SQS lock this loses messages in every run (25 of 6,000 measured).
BACKLOG = 3_000
SENDERS = 2
MESSAGES_PER_SENDER = 1_500
RECEIVERS = 6


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer("127.0.0.1", 0, LogRenderer(verbose=False, quiet=True), fault_rate=0.0, fault_seed=7)
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _client(service: str, endpoint_url: str, **config: Any) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint_url, config=Config(max_pool_connections=20, **config)
    )


def test_concurrent_send_receive_and_delete_lose_nothing_and_redeliver_nothing(moto: MotoServer) -> None:
    sqs = _client("sqs", moto.url)
    queue_url = sqs.create_queue(QueueName="concurrency", Attributes={"VisibilityTimeout": "120"})["QueueUrl"]
    total = BACKLOG + SENDERS * MESSAGES_PER_SENDER
    for start in range(0, BACKLOG, 10):
        entries = [{"Id": str(index), "MessageBody": f"backlog-{start + index}"} for index in range(10)]
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    received: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []
    done = threading.Event()

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)
                done.set()

        return run

    def send(sender: int) -> None:
        for start in range(0, MESSAGES_PER_SENDER, 10):
            entries = [{"Id": str(index), "MessageBody": f"{sender}-{start + index}"} for index in range(10)]
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            assert not response.get("Failed"), response["Failed"]

    def receive_and_delete() -> None:
        while not done.is_set():
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            )
            if not messages:
                continue
            with lock:
                received.update(message["Body"] for message in messages)
                if sum(received.values()) >= total:
                    done.set()
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            response = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
            assert not response.get("Failed"), response["Failed"]

    threads = [threading.Thread(target=guarded(lambda n=n: send(n))) for n in range(SENDERS)]
    threads += [threading.Thread(target=guarded(receive_and_delete)) for _ in range(RECEIVERS)]
    for thread in threads:
        thread.start()
    finished = done.wait(timeout=120)
    done.set()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert finished, f"only {sum(received.values())} of {total} messages arrived"
    sent = {f"{sender}-{n}" for sender in range(SENDERS) for n in range(MESSAGES_PER_SENDER)}
    sent |= {f"backlog-{n}" for n in range(BACKLOG)}
    assert set(received) == sent
    assert [body for body, count in received.items() if count > 1] == []
    # Nothing comes back either: the queue is empty (its counts are exact in moto).
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def _set_fault_rate(moto: MotoServer, rate: float) -> dict[str, Any]:
    request = urllib.request.Request(
        moto.url + CONTROL_PATH, data=json.dumps({"rate": rate}).encode(), method="PUT"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


def test_injected_faults_are_the_errors_botocore_expects_from_each_service(moto: MotoServer) -> None:
    clean_sqs = _client("sqs", moto.url)
    queue_url = clean_sqs.create_queue(QueueName="faults")["QueueUrl"]
    topic_arn = _client("sns", moto.url).create_topic(Name="faults")["TopicArn"]
    _client("dynamodb", moto.url).create_table(
        TableName="faults",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    faulty = moto.function_url
    assert faulty != moto.url
    calls: dict[str, Callable[[Any], Any]] = {
        "dynamodb": lambda client: client.get_item(TableName="faults", Key={"pk": {"S": "x"}}),
        "sqs": lambda client: client.send_message(QueueUrl=queue_url, MessageBody="x"),
        "sns": lambda client: client.publish(TopicArn=topic_arn, Message="x"),
        "secretsmanager": lambda client: client.list_secrets(),
    }
    _set_fault_rate(moto, 1.0)
    try:
        for service, call in calls.items():
            client = _client(service, faulty, retries={"total_max_attempts": 1})
            seen: set[tuple[str, int]] = set()
            for _ in range(40):
                with pytest.raises(ClientError) as raised:
                    call(client)
                error = raised.value.response
                seen.add((error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]))
            assert seen == {(fault.code, fault.status) for fault in FAULTS[service]}, service
        # The clean port is never faulted, and nothing a fault answered reached moto.
        assert (
            clean_sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            == "0"
        )
    finally:
        stats = _set_fault_rate(moto, 0.0)
    assert stats["injected"] == 4 * 40


def test_botocore_retries_ride_out_a_share_of_faults(moto: MotoServer) -> None:
    queue_url = _client("sqs", moto.url).create_queue(QueueName="retried")["QueueUrl"]
    sqs = _client("sqs", moto.function_url, retries={"mode": "standard", "max_attempts": 10})
    before = _set_fault_rate(moto, 0.3)
    try:
        for number in range(30):
            sqs.send_message(QueueUrl=queue_url, MessageBody=str(number))
    finally:
        after = _set_fault_rate(moto, 0.0)
    assert after["injected"] > before["injected"]
    deadline = time.monotonic() + 10
    bodies: set[str] = set()
    while len(bodies) < 30 and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        bodies.update(message["Body"] for message in messages)
    assert bodies == {str(number) for number in range(30)}


def test_a_standard_queue_serves_quiet_message_groups_before_a_noisy_one(moto: MotoServer) -> None:
    """SQS fair queues, as the runner plays them (docs/fairness.md): a group with 30+ messages in flight
    and over 10% of them is noisy, and receives return the other groups' messages first."""
    sqs = _client("sqs", moto.url)
    queue_url = sqs.create_queue(QueueName="fair", Attributes={"VisibilityTimeout": "120"})["QueueUrl"]

    def send(group: str, count: int) -> None:
        for start in range(0, count, 10):
            entries = [
                {"Id": str(n), "MessageBody": f"{group}-{start + n}", "MessageGroupId": group}
                for n in range(min(10, count - start))
            ]
            assert not sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")

    def receive() -> list[dict[str, Any]]:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"]
        )
        return list(response.get("Messages", []))

    send("noisy", 60)
    in_flight = [message for _ in range(4) for message in receive()]
    assert len(in_flight) == 40
    send("quiet", 2)
    first = receive()
    assert [m["Attributes"]["MessageGroupId"] for m in first[:2]] == ["quiet", "quiet"]
    assert [m["Body"] for m in first[:2]] == ["quiet-0", "quiet-1"]
    assert {m["Attributes"]["MessageGroupId"] for m in first[2:]} == {"noisy"}  # nothing held back


def test_a_fifo_group_whose_messages_come_back_together_is_served_in_order(moto: MotoServer) -> None:
    """A crashed consumer's batch held two messages of one group; when their visibility runs out, the
    group's first message comes first (moto alone handed out the second: the first's scan found the
    group still held by the second, then the second's scan found it free)."""
    sqs = _client("sqs", moto.url)
    queue_url = sqs.create_queue(
        QueueName="order.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    for body in ("first", "second"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageGroupId="key")

    def receive(visibility: int) -> list[str]:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=visibility
        )
        return [m["Body"] for m in response.get("Messages", [])]

    assert receive(1) == ["first", "second"]  # the consumer dies holding both
    deadline = time.monotonic() + 10
    again: list[str] = []
    while not again and time.monotonic() < deadline:  # until their visibility has run out
        again = receive(30)
    assert again[:1] == ["first"]
