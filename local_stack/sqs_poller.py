"""Lambda's SQS event source mapping, played locally.

One ``SqsEventSource`` per SQS event in the template. It runs ``concurrency`` poller threads (the
mapping's ``ScalingConfig.MaximumConcurrency``, capped by the function's local worker pool); each
long-polls the queue, gathers a batch (``BatchSize``, ``MaximumBatchingWindowInSeconds``), builds the
exact event Lambda sends, invokes the function and then deletes what succeeded:

- with ``ReportBatchItemFailures``: every record not named in ``batchItemFailures`` (an invalid response
  counts as the whole batch failing, as on Lambda);
- without it: the whole batch when the invocation succeeded;
- after a function error or timeout: nothing.

It never moves a message to a dead-letter queue: records that were not deleted come back when their
visibility timeout ends, and the queue's ``RedrivePolicy`` (which moto applies on receive) moves them to
the DLQ after ``maxReceiveCount`` receives.

An invocation whose worker died (killed, crashed or timed out) is reported to ``on_crash`` with its
records. Only if ``crashed_batch_visibility_seconds`` is set (a local-only knob for chaos runs) does the
poller then change those records' visibility, so they come back after that many seconds instead of the
queue's visibility timeout (6 minutes for the delivery queue): a shortcut in time, not in behaviour.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from local_stack.runtime import Invocation, PoolClosed

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# Long-poll wait: short so that stopping is prompt, long enough not to spin.
WAIT_TIME_SECONDS = 1
_SQS_BATCH_LIMIT = 10
# How Lambda's runtime reports an invocation whose worker died or was killed for outliving its timeout.
CRASH_ERROR_TYPES = frozenset({"Runtime.ExitError", "Sandbox.Timedout"})
# Attributes Lambda copies from ReceiveMessage into a record's "attributes".
_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "DeadLetterQueueSourceArn",
)

Invoke = Callable[[dict[str, Any]], Invocation]
Report = Callable[[str], None]
OnCrash = Callable[[str, list[dict[str, Any]], Invocation], None]


@dataclass(frozen=True, slots=True)
class EventSourceConfig:
    label: str  # for logs, e.g. "DispatchFunction/Deliveries"
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool
    concurrency: int
    region: str
    crashed_batch_visibility_seconds: int | None = None


def lambda_record(message: MessageTypeDef, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, from one ReceiveMessage result."""
    received = message.get("Attributes", {})
    attributes = {name: received[name] for name in _RECORD_ATTRIBUTES if name in received}
    message_attributes: dict[str, Any] = {}
    for name, value in message.get("MessageAttributes", {}).items():
        entry: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType", "String"),
        }
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        message_attributes[name] = entry
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update({"eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region})
    return record


def failed_message_ids(invocation: Invocation, batch_ids: list[str], report_failures: bool) -> set[str]:
    """The records of a batch that go back to the queue, as Lambda decides it."""
    everything = set(batch_ids)
    if not invocation.ok:
        return everything
    if not report_failures:
        return set()
    payload = invocation.payload
    if payload is None or payload in ({}, ""):
        return set()
    if not isinstance(payload, dict):
        return everything
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        # An empty, missing or unknown identifier makes Lambda treat the whole batch as failed.
        if not isinstance(identifier, str) or identifier not in everything:
            return everything
        failed.add(identifier)
    return failed


class SqsEventSource:
    def __init__(
        self,
        config: EventSourceConfig,
        client: SQSClient,
        invoke: Invoke,
        report: Report,
        on_crash: OnCrash | None = None,
        crash_client: SQSClient | None = None,
        await_capacity: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self._await_capacity = await_capacity  # blocks until the function could run a batch now
        self._client = client
        # Re-showing a crashed batch early is the local stack's chaos knob, not Lambda's: under IAM
        # enforcement the function's role need not allow it, so the stack may call it with its own keys.
        self._crash_client = crash_client or client
        self._invoke = invoke
        self._report = report
        self._on_crash = on_crash
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(max(1, self.config.concurrency)):
            thread = threading.Thread(
                target=self._run, name=f"poller-{self.config.label}-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._await_capacity is not None:
                    self._await_capacity()
                batch = self._gather()
                if batch:
                    self._process(batch)
            except PoolClosed:
                return
            except (BotoCoreError, ClientError) as exc:
                if self._stop.is_set():
                    return
                self._report(f"{self.config.label}: SQS error: {exc}")
                self._stop.wait(1.0)

    def _receive(self, count: int, wait_seconds: int) -> list[MessageTypeDef]:
        response = self._client.receive_message(
            QueueUrl=self.config.queue_url,
            MaxNumberOfMessages=min(count, _SQS_BATCH_LIMIT),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _gather(self) -> list[MessageTypeDef]:
        """Long-poll until something arrives, then fill the batch until it is full or the window ends."""
        batch = self._receive(self.config.batch_size, WAIT_TIME_SECONDS)
        if not batch:
            return batch
        window_ends = time.monotonic() + self.config.batching_window_seconds
        while len(batch) < self.config.batch_size and not self._stop.is_set():
            remaining = window_ends - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(self.config.batch_size - len(batch), 1 if remaining >= 1 else 0)
            batch.extend(more)
            if not more and remaining < 1:
                self._stop.wait(min(0.05, remaining))
        return batch

    def _process(self, batch: list[MessageTypeDef]) -> None:
        records = [lambda_record(message, self.config.queue_arn, self.config.region) for message in batch]
        invocation = self._invoke({"Records": records})
        ids = [record["messageId"] for record in records]
        failed = failed_message_ids(invocation, ids, self.config.report_batch_item_failures)
        if not invocation.ok:
            error = invocation.error or {}
            self._report(
                f"{self.config.label}: invocation failed ({error.get('errorType')}: "
                f"{error.get('errorMessage')}); {len(ids)} record(s) return to the queue"
            )
        if invocation.error_type in CRASH_ERROR_TYPES:
            self._crashed(records, invocation)
        to_delete = [record["receiptHandle"] for record in records if record["messageId"] not in failed]
        self._delete(to_delete)

    def _crashed(self, records: list[dict[str, Any]], invocation: Invocation) -> None:
        if self._on_crash is not None:
            self._on_crash(self.config.label, records, invocation)
        seconds = self.config.crashed_batch_visibility_seconds
        if seconds is None:
            return
        for start in range(0, len(records), _SQS_BATCH_LIMIT):
            entries: list[Any] = [
                {"Id": str(index), "ReceiptHandle": record["receiptHandle"], "VisibilityTimeout": seconds}
                for index, record in enumerate(records[start : start + _SQS_BATCH_LIMIT])
            ]
            try:
                response = self._crash_client.change_message_visibility_batch(
                    QueueUrl=self.config.queue_url, Entries=entries
                )
            except (BotoCoreError, ClientError) as exc:
                self._report(f"{self.config.label}: could not shorten a crashed batch's visibility: {exc}")
                continue
            for failure in response.get("Failed", []):
                # The function may have deleted or moved the record itself before it died.
                self._report(f"{self.config.label}: crashed record not re-shown: {failure.get('Message')}")

    def _delete(self, receipt_handles: list[str]) -> None:
        for start in range(0, len(receipt_handles), _SQS_BATCH_LIMIT):
            chunk = receipt_handles[start : start + _SQS_BATCH_LIMIT]
            entries: list[Any] = [
                {"Id": str(index), "ReceiptHandle": handle} for index, handle in enumerate(chunk)
            ]
            with contextlib.suppress(BotoCoreError, ClientError):
                response = self._client.delete_message_batch(QueueUrl=self.config.queue_url, Entries=entries)
                for failure in response.get("Failed", []):
                    self._report(f"{self.config.label}: delete failed: {failure.get('Message')}")
