"""EventBridge Scheduler, as Hookline uses it: one schedule per recurring Hookline schedule, and one-time
``at()`` schedules for events delayed beyond SQS's 15 minutes. Every schedule lives in the stack's schedule
group and targets the delivery queue, through a role that may only send to it; its input is a job.

Errors are translated here: a validation error is the caller's 400, anything else a ``DependencyError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from hookline.core.errors import DependencyError, InvalidRequestError, ScheduleNotFoundError
from hookline.core.jobs import Job, encode_job

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"  # Scheduler puts the firing's scheduled time here
# Scheduler retries a failed send to the queue; a day covers any SQS outage worth waiting out.
_RETRY_POLICY = {"MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 185}


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    name: str
    expression: str  # cron(...), rate(...) or at(...)
    timezone: str
    job: Job
    enabled: bool = True
    start: datetime | None = None
    end: datetime | None = None
    once: bool = False  # an at() schedule: deleted after it fires


class SchedulerGateway:
    def __init__(self, client: Any, group_name: str, role_arn: str, queue_arn: str) -> None:
        self._client = client
        self._group = group_name
        self._role_arn = role_arn
        self._queue_arn = queue_arn

    def create(self, spec: ScheduleSpec) -> None:
        try:
            with _scheduler_errors("create a schedule"):
                self._client.create_schedule(**self._arguments(spec))
        except ScheduleNotFoundError as exc:  # the group is missing: the stack is broken, not the request
            raise DependencyError(f"create a schedule: {exc}") from exc

    def update(self, spec: ScheduleSpec) -> None:
        """Replace it; one that is missing in AWS (deleted by hand, say) is made again."""
        try:
            with _scheduler_errors("update a schedule"):
                self._client.update_schedule(**self._arguments(spec))
        except ScheduleNotFoundError:
            self.create(spec)

    def delete(self, name: str) -> None:
        """Delete it; one that is already gone (fired and deleted, or never made) is fine."""
        try:
            with _scheduler_errors("delete a schedule"):
                self._client.delete_schedule(Name=name, GroupName=self._group)
        except ScheduleNotFoundError:
            return

    def _arguments(self, spec: ScheduleSpec) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "Name": spec.name,
            "GroupName": self._group,
            "ScheduleExpression": spec.expression,
            "ScheduleExpressionTimezone": spec.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED" if spec.enabled else "DISABLED",
            "Target": {
                "Arn": self._queue_arn,
                "RoleArn": self._role_arn,
                "Input": encode_job(spec.job),
                "RetryPolicy": dict(_RETRY_POLICY),
            },
        }
        if spec.once:
            arguments["ActionAfterCompletion"] = "DELETE"
        if spec.start is not None:
            arguments["StartDate"] = spec.start
        if spec.end is not None:
            arguments["EndDate"] = spec.end
        return arguments


def at_expression(when: datetime) -> str:
    """``at(yyyy-mm-ddThh:mm:ss)`` in UTC (Scheduler's one-time form)."""
    return f"at({when.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


@contextmanager
def _scheduler_errors(action: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if code == "ResourceNotFoundException":
            raise ScheduleNotFoundError(message) from exc
        if code == "ValidationException":
            raise InvalidRequestError(f"EventBridge Scheduler refused the schedule: {message}") from exc
        raise DependencyError(f"{action}: {code or 'AWS error'}") from exc
    except BotoCoreError as exc:
        raise DependencyError(f"{action}: {type(exc).__name__}") from exc
