"""The local stack's EventBridge Scheduler (moto stores schedules, ``LocalScheduler`` fires them), driven by
an injected wall clock: rate, cron in a time zone, start and end, disable, one-time ``at()``, the payload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_stack.scheduler import LocalScheduler

GROUP = "hookline-schedules"
INPUT = json.dumps(
    {
        "kind": "fire",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "attempt": "<aws.scheduler.attempt-number>",
    }
)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def at(self, moment: datetime) -> None:
        self.now = moment.timestamp()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        scheduler, sqs = boto3.client("scheduler"), boto3.client("sqs")
        scheduler.create_schedule_group(Name=GROUP)
        url = sqs.create_queue(QueueName="deliveries")["QueueUrl"]
        yield scheduler, sqs, url


def _create(scheduler: Any, name: str, expression: str, **extra: Any) -> None:
    scheduler.create_schedule(
        Name=name,
        GroupName=GROUP,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:sqs:us-east-1:123456789012:deliveries",
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": INPUT,
        },
        **extra,
    )


def _sent(sqs: Any, url: str) -> list[str]:
    times = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            body = json.loads(message["Body"])
            assert body["attempt"] == "1"
            times.append(body["scheduled_time"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return sorted(times)


def _player(scheduler: Any, sqs: Any, clock: Clock, scale: float = 1.0) -> LocalScheduler:
    errors: list[str] = []

    def fail(text: str) -> None:
        errors.append(text)
        raise AssertionError(text)

    return LocalScheduler(
        scheduler, sqs, on_fire=lambda _: None, on_error=fail, time_scale=scale, wall_clock=clock
    )


def test_a_rate_fires_once_per_interval_and_not_while_disabled(aws: tuple[Any, Any, str]) -> None:
    scheduler, sqs, url = aws
    clock = Clock(datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC))
    _create(scheduler, "sch_rate", "rate(1 minute)")
    player = _player(scheduler, sqs, clock)
    assert player.tick() == 0  # first seen: firings count from now
    clock.at(datetime(2026, 12, 6, 10, 3, 30, tzinfo=UTC))
    assert player.tick() == 3
    assert _sent(sqs, url) == ["2026-12-06T10:01:00Z", "2026-12-06T10:02:00Z", "2026-12-06T10:03:00Z"]
    schedule = scheduler.get_schedule(Name="sch_rate", GroupName=GROUP)
    keep = ("Name", "GroupName", "ScheduleExpression", "FlexibleTimeWindow", "Target")
    scheduler.update_schedule(**{k: schedule[k] for k in keep}, State="DISABLED")
    clock.at(datetime(2026, 12, 6, 10, 10, 0, tzinfo=UTC))
    assert player.tick() == 0
    scheduler.update_schedule(**{k: schedule[k] for k in keep}, State="ENABLED")
    assert player.tick() == 0  # enabled again: no catching up on what it missed
    clock.at(datetime(2026, 12, 6, 10, 11, 0, tzinfo=UTC))
    assert player.tick() == 1


def test_a_cron_fires_at_its_local_time_between_start_and_end(aws: tuple[Any, Any, str]) -> None:
    scheduler, sqs, url = aws
    clock = Clock(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))  # a Saturday
    _create(
        scheduler,
        "sch_cron",
        "cron(0 9 ? * MON-FRI *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        EndDate=datetime(2026, 12, 8, 12, 0, tzinfo=UTC),
    )
    player = _player(scheduler, sqs, clock)
    player.tick()
    for day in (6, 7, 8, 9):  # Sunday, Monday, Tuesday, then past the end
        clock.at(datetime(2026, 12, day, 12, 0, tzinfo=UTC))
        player.tick()
    assert _sent(sqs, url) == ["2026-12-07T08:00:00Z", "2026-12-08T08:00:00Z"]


def test_a_one_time_schedule_fires_at_its_time_and_deletes_itself(aws: tuple[Any, Any, str]) -> None:
    scheduler, sqs, url = aws
    clock = Clock(datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC))
    _create(scheduler, "evt_once", "at(2026-12-06T10:20:00)", ActionAfterCompletion="DELETE")
    player = _player(scheduler, sqs, clock, scale=1000.0)  # the scale never makes an at() early
    clock.at(datetime(2026, 12, 6, 10, 19, 59, tzinfo=UTC))
    assert player.tick() == 0
    clock.at(datetime(2026, 12, 6, 10, 20, 0, tzinfo=UTC))
    assert player.tick() == 1
    assert _sent(sqs, url) == ["2026-12-06T10:20:00Z"]
    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []


def test_the_time_scale_runs_recurring_schedules_faster(aws: tuple[Any, Any, str]) -> None:
    scheduler, sqs, url = aws
    clock = Clock(datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC))
    _create(scheduler, "sch_fast", "rate(1 minute)")
    player = _player(scheduler, sqs, clock, scale=30.0)
    player.tick()
    clock.at(datetime(2026, 12, 6, 10, 0, 4, tzinfo=UTC))  # 4 s of wall time: 2 minutes of schedule time
    assert player.tick() == 2
    assert _sent(sqs, url) == ["2026-12-06T10:01:00Z", "2026-12-06T10:02:00Z"]
