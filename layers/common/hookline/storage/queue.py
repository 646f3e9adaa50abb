"""SQS: the delivery queue and the DLQ, as Hookline uses them.

Batch calls report per entry: what could not be sent (after a few tries) comes back as a value, so one
refused entry never decides the fate of another. Whole-call failures raise ``DependencyError``.

Every message carries ``MessageGroupId`` = the tenant it works for (``hookline.core.jobs.message_group``).
On a standard queue that makes it an SQS fair queue: while one tenant holds a disproportionate share of
the consumers, receives return the other tenants' messages first (docs/fairness.md). Order is not implied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hookline.core.errors import DependencyError
from hookline.core.jobs import DeliverJob, EventJob, Job, body_group, encode_job, is_ordered, message_group
from hookline.core.ordering import delivery_group, fanout_group
from hookline.storage.table import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_BATCH_LIMIT = 10
MAX_DELAY_SECONDS = 900  # SQS's ceiling for DelaySeconds
MAX_VISIBILITY_SECONDS = 43_200  # and for a visibility timeout
_TRIES = 3


class JobQueue:
    def __init__(self, queue_url: str, client: SQSClient) -> None:
        self.url = queue_url
        self._client = client
        self._tries = _TRIES

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        self._send(encode_job(job), message_group(job), delay_seconds)

    def _send(self, body: str, group: str, delay_seconds: int) -> None:
        with aws_errors("send job"):
            self._client.send_message(
                QueueUrl=self.url, MessageBody=body, DelaySeconds=_delay(delay_seconds), MessageGroupId=group
            )

    def send_batch(self, jobs: Sequence[tuple[Job, int]]) -> list[int]:
        """Send (job, delay) pairs, ten per call. Returns the indexes of jobs that could not be sent."""
        return self._send_grouped([(encode_job(job), message_group(job), delay) for job, delay in jobs])

    def send_bodies(self, bodies: Sequence[tuple[str, int]]) -> list[int]:
        return self._send_grouped([(body, body_group(body), delay) for body, delay in bodies])

    def _send_grouped(self, messages: Sequence[tuple[str, str, int]]) -> list[int]:
        failed: list[int] = []
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = {
                str(index): {
                    "Id": str(index),
                    "MessageBody": body,
                    "DelaySeconds": _delay(delay),
                    "MessageGroupId": group,
                }
                for index, (body, group, delay) in enumerate(messages[start : start + SQS_BATCH_LIMIT], start)
            }
            failed.extend(int(entry) for entry in self._batch("send jobs", "send_message_batch", chunk))
        return failed

    def change_visibility(self, receipts: Sequence[tuple[str, int]]) -> list[int]:
        """Hide each received message (by receipt handle) for its number of seconds. Returns the indexes of
        messages whose visibility could not be changed."""
        failed: list[int] = []
        for start in range(0, len(receipts), SQS_BATCH_LIMIT):
            chunk = {
                str(index): {
                    "Id": str(index),
                    "ReceiptHandle": receipt,
                    "VisibilityTimeout": max(0, min(MAX_VISIBILITY_SECONDS, seconds)),
                }
                for index, (receipt, seconds) in enumerate(receipts[start : start + SQS_BATCH_LIMIT], start)
            }
            failed.extend(
                int(entry) for entry in self._batch("reschedule", "change_message_visibility_batch", chunk)
            )
        return failed

    def _batch(self, action: str, operation: str, entries: dict[str, dict[str, Any]]) -> list[str]:
        """Call a batch operation, retrying refused entries; the ids still refused after that."""
        pending = dict(entries)
        for _ in range(self._tries):
            try:
                with aws_errors(action):
                    response = getattr(self._client, operation)(
                        QueueUrl=self.url, Entries=list(pending.values())
                    )
            except DependencyError:
                continue
            refused = {entry["Id"] for entry in response.get("Failed", [])}
            pending = {entry_id: entry for entry_id, entry in pending.items() if entry_id in refused}
            if not pending:
                return []
        return list(pending)


class OrderedJobQueue(JobQueue):
    """The FIFO queue of ordered jobs. Each job goes to its group (``hookline.core.ordering``) with a
    deduplication id, so a repeated send within SQS's five-minute window is dropped. FIFO queues take no
    per-message delay: a job that must wait is kept in flight instead (a visibility timeout).

    An entry refused within a batch call is not sent again: a second try would land behind later entries of
    its group and break their order. It is reported as not sent, like any refused entry."""

    def __init__(self, queue_url: str, client: SQSClient) -> None:
        super().__init__(queue_url, client)
        self._tries = 1

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        group, deduplication = ordered_message_ids(job)
        with aws_errors("send ordered job"):
            self._client.send_message(
                QueueUrl=self.url,
                MessageBody=encode_job(job),
                MessageGroupId=group,
                MessageDeduplicationId=deduplication,
            )

    def send_batch(self, jobs: Sequence[tuple[Job, int]]) -> list[int]:
        failed: list[int] = []
        for start in range(0, len(jobs), SQS_BATCH_LIMIT):
            chunk: dict[str, dict[str, Any]] = {}
            for index, (job, _) in enumerate(jobs[start : start + SQS_BATCH_LIMIT], start):
                group, deduplication = ordered_message_ids(job)
                chunk[str(index)] = {
                    "Id": str(index),
                    "MessageBody": encode_job(job),
                    "MessageGroupId": group,
                    "MessageDeduplicationId": deduplication,
                }
            refused = self._batch("send ordered jobs", "send_message_batch", chunk)
            failed.extend(int(entry) for entry in refused)
        return failed


def ordered_message_ids(job: Job) -> tuple[str, str]:
    """(MessageGroupId, MessageDeduplicationId) of a job on the ordered queue."""
    if isinstance(job, EventJob) and job.ordering_key is not None:
        return fanout_group(job.tenant_id, job.ordering_key), job.event_id
    if isinstance(job, DeliverJob) and job.ordering_key is not None:
        group = delivery_group(job.tenant_id, job.endpoint_id, job.ordering_key)
        return group, f"{job.event_id}.{job.endpoint_id}"
    raise DependencyError(f"{type(job).__name__} without an ordering key has no place on the ordered queue")


class DeliveryQueues:
    """The delivery queue and the ordered queue behind one port: each job goes where it belongs."""

    def __init__(self, unordered: JobQueue, ordered: OrderedJobQueue) -> None:
        self.unordered = unordered
        self.ordered = ordered

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        (self.ordered if is_ordered(job) else self.unordered).send(job, delay_seconds)

    def send_batch(self, jobs: Sequence[tuple[Job, int]]) -> list[int]:
        ordered = [i for i, (job, _) in enumerate(jobs) if is_ordered(job)]
        unordered = [i for i, (job, _) in enumerate(jobs) if not is_ordered(job)]
        failed: list[int] = []
        if unordered:
            failed += [unordered[i] for i in self.unordered.send_batch([jobs[i] for i in unordered])]
        if ordered:
            failed += [ordered[i] for i in self.ordered.send_batch([jobs[i] for i in ordered])]
        return sorted(failed)

    def send_bodies(self, bodies: Sequence[tuple[str, int]]) -> list[int]:
        return self.unordered.send_bodies(bodies)

    def change_visibility(self, receipts: Sequence[tuple[str, int]]) -> list[int]:
        return self.unordered.change_visibility(receipts)


def _delay(seconds: int) -> int:
    return max(0, min(MAX_DELAY_SECONDS, int(seconds)))
