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
from hookline.core.jobs import Job, body_group, encode_job, message_group
from hookline.storage.table import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_BATCH_LIMIT = 10
MAX_DELAY_SECONDS = 900  # SQS's ceiling for DelaySeconds
MAX_VISIBILITY_SECONDS = 43_200  # and for a visibility timeout
MAX_MESSAGE_BYTES = 262_144
_TRIES = 3


class JobQueue:
    def __init__(self, queue_url: str, client: SQSClient) -> None:
        self.url = queue_url
        self._client = client

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        self._send(encode_job(job), message_group(job), delay_seconds)

    def send_body(self, body: str, delay_seconds: int = 0) -> None:
        self._send(body, body_group(body), delay_seconds)

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
        for _ in range(_TRIES):
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


def _delay(seconds: int) -> int:
    return max(0, min(MAX_DELAY_SECONDS, int(seconds)))
