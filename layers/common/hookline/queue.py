"""The delivery queue's messages, and the few SQS calls Hookline makes.

Two kinds of job travel on the delivery queue, both as JSON:

- ``fanout``: one per ingested event. Dispatch matches it against the tenant's endpoints and sends one
  ``deliver`` job per match, so ingest's cost never grows with the number of endpoints.
- ``recover`` and ``redrive``: operator requests that may touch many deliveries, done a page per job
  with a continuation job for the rest, so the API answers at once.
- ``deliver``: one (event, endpoint) pair. Its attempt number is ``prior_attempts`` plus SQS's
  ``ApproximateReceiveCount``; a failed attempt hides the message for the next delay of the retry
  schedule, so the queue is the scheduler. ``resend`` marks an operator's explicit resend, which delivers
  even if the pair already succeeded.

The DLQ receives the same bodies, by redrive.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from hookline.errors import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_SQS_BATCH_LIMIT = 10


@dataclass(frozen=True, slots=True)
class FanoutJob:
    tenant_id: str
    event_id: str


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    tenant_id: str
    event_id: str
    endpoint_id: str
    prior_attempts: int = 0
    resend: bool = False


@dataclass(frozen=True, slots=True)
class RecoverJob:
    """Resend every delivery to one endpoint that ended failed since ``since``, a page at a time."""

    tenant_id: str
    endpoint_id: str
    since: str
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class RedriveJob:
    """Move dead-lettered deliveries back for another full round, a page at a time. It needs no cursor:
    each page it moves is deleted, so the next job starts from the beginning again."""


Job = FanoutJob | DeliveryJob | RecoverJob | RedriveJob


def encode_job(job: Job) -> str:
    if isinstance(job, FanoutJob):
        return json.dumps({"kind": "fanout", "tenant_id": job.tenant_id, "event_id": job.event_id})
    if isinstance(job, RecoverJob):
        return json.dumps(
            {
                "kind": "recover",
                "tenant_id": job.tenant_id,
                "endpoint_id": job.endpoint_id,
                "since": job.since,
                "cursor": job.cursor,
            }
        )
    if isinstance(job, RedriveJob):
        return json.dumps({"kind": "redrive"})
    return json.dumps(
        {
            "kind": "deliver",
            "tenant_id": job.tenant_id,
            "event_id": job.event_id,
            "endpoint_id": job.endpoint_id,
            "prior_attempts": job.prior_attempts,
            "resend": job.resend,
        }
    )


def decode_job(body: str) -> Job:
    """Parse a queue message body. Raises ValueError for anything that is not one of our jobs."""
    payload: Any = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("job body is not a JSON object")
    kind = payload.get("kind")
    cursor = payload.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ValueError("cursor must be a string")
    if kind == "redrive":
        return RedriveJob()
    if kind == "recover":
        fields = [payload.get(name) for name in ("tenant_id", "endpoint_id", "since")]
        if not all(isinstance(value, str) for value in fields):
            raise ValueError("recover job needs tenant_id, endpoint_id and since")
        return RecoverJob(str(fields[0]), str(fields[1]), str(fields[2]), cursor)
    tenant_id, event_id = payload.get("tenant_id"), payload.get("event_id")
    if not isinstance(tenant_id, str) or not isinstance(event_id, str):
        raise ValueError("job needs tenant_id and event_id")
    if kind == "fanout":
        return FanoutJob(tenant_id, event_id)
    if kind == "deliver":
        endpoint_id = payload.get("endpoint_id")
        prior_attempts = payload.get("prior_attempts", 0)
        if not isinstance(endpoint_id, str) or not isinstance(prior_attempts, int) or prior_attempts < 0:
            raise ValueError("deliver job needs endpoint_id and a non-negative prior_attempts")
        return DeliveryJob(
            tenant_id, event_id, endpoint_id, prior_attempts, bool(payload.get("resend", False))
        )
    raise ValueError(f"unknown job kind {kind!r}")


def _translate(action: str, exc: Exception) -> DependencyError:
    if isinstance(exc, ClientError):
        return DependencyError(f"{action}: {exc.response.get('Error', {}).get('Code', 'AWS error')}")
    return DependencyError(f"{action}: {exc}")


class JobQueue:
    def __init__(self, queue_url: str, client: SQSClient) -> None:
        self.url = queue_url
        self._client = client

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        try:
            self._client.send_message(
                QueueUrl=self.url, MessageBody=encode_job(job), DelaySeconds=delay_seconds
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate("send job", exc) from exc

    def send_many(self, jobs: Sequence[Job], delay_seconds: int = 0) -> None:
        self.send_delayed([(job, delay_seconds) for job in jobs])

    def send_delayed(self, jobs: Sequence[tuple[Job, int]]) -> None:
        """Send (job, delay) pairs in batches of ten; entries SQS refuses are retried, and a persistent
        refusal raises."""
        for start in range(0, len(jobs), _SQS_BATCH_LIMIT):
            entries: list[Any] = [
                {"Id": str(index), "MessageBody": encode_job(job), "DelaySeconds": delay}
                for index, (job, delay) in enumerate(jobs[start : start + _SQS_BATCH_LIMIT])
            ]
            for _ in range(3):
                try:
                    response = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)
                except (ClientError, BotoCoreError) as exc:
                    raise _translate("send jobs", exc) from exc
                failed_ids = {failure["Id"] for failure in response.get("Failed", [])}
                entries = [entry for entry in entries if entry["Id"] in failed_ids]
                if not entries:
                    break
            else:
                raise DependencyError(f"send jobs: SQS refused {len(entries)} entries")

    def reschedule(self, visibility_by_receipt: Sequence[tuple[str, int]]) -> None:
        """Hide received messages for the given seconds: how a retry waits for its next attempt."""
        for start in range(0, len(visibility_by_receipt), _SQS_BATCH_LIMIT):
            chunk = visibility_by_receipt[start : start + _SQS_BATCH_LIMIT]
            entries: list[Any] = [
                {"Id": str(index), "ReceiptHandle": receipt, "VisibilityTimeout": seconds}
                for index, (receipt, seconds) in enumerate(chunk)
            ]
            try:
                response = self._client.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise _translate("reschedule", exc) from exc
            if response.get("Failed"):
                raise DependencyError(f"reschedule: SQS refused {len(response['Failed'])} entries")
