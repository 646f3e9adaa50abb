"""EventBridge Scheduler, played locally: moto stores schedules but fires nothing, so this thread does.

Each tick it reads every schedule that moto holds (``ListSchedules`` + ``GetSchedule``, as any Scheduler
client would) and sends each firing that came due since the last tick to the schedule's target queue, with
the payload AWS would send: the target's ``Input``, its context attributes filled in
(``<aws.scheduler.scheduled-time>``, ``<aws.scheduler.schedule-arn>``, ``<aws.scheduler.execution-id>``,
``<aws.scheduler.attempt-number>``). What is honoured, as on AWS:

- ``cron(...)`` in its ``ScheduleExpressionTimezone``, ``rate(...)``, and one-time ``at(...)``;
- ``StartDate`` and ``EndDate``; ``State`` (a disabled schedule fires nothing, and picks up from the time it
  is enabled again, without catching up); ``ActionAfterCompletion: DELETE`` (an ``at()`` schedule is
  deleted once it fired).

Firing times are computed here on their own (a minute-by-minute match of the cron fields, multiples of
a rate), not with Hookline's ``core.recurrence``: this plays AWS, so it is an independent check of the
``next_run_at`` that the API computes.

A schedule is first seen (or seen again after a change) at a tick; its firings count from then, and a rate
schedule's first firing is one interval later. Only SQS targets are played (Hookline's only kind).

``time_scale`` (local only, ``--schedule-time-scale``) runs recurring schedules' clock that many times
faster than the wall clock, from the moment the scheduler starts, so a test sees a ``rate(1 minute)``
schedule fire every few seconds; the scheduled times it sends are on that faster clock. One-time ``at()``
schedules always use the wall clock, so a delayed event is never early.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_RATE_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@dataclass
class _Seen:
    version: Any  # LastModificationDate: a change starts the schedule's count again
    since: datetime  # firings after this (on the schedule clock) are owed
    anchor: datetime  # a rate's origin when it has no StartDate


class LocalScheduler:
    def __init__(
        self,
        scheduler: Any,
        sqs: Any,
        on_fire: Callable[[str], None],
        on_error: Callable[[str], None],
        time_scale: float = 1.0,
        tick_seconds: float = 1.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._scheduler = scheduler
        self._sqs = sqs
        self._on_fire = on_fire
        self._on_error = on_error
        self._scale = time_scale
        self._tick = tick_seconds
        self._wall = wall_clock
        self._started = wall_clock()
        self._seen: dict[tuple[str, str], _Seen] = {}
        self._details: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
        self._queue_urls: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def schedule_clock(self, wall: float | None = None) -> float:
        """Now on the recurring schedules' clock (the wall clock unless ``time_scale`` is set)."""
        now = self._wall() if wall is None else wall
        return self._started + (now - self._started) * self._scale

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - a bad tick must not stop the scheduler
                self._on_error(f"local scheduler: {type(exc).__name__}: {exc}")

    # --- one tick -------------------------------------------------------------------------------------

    def tick(self) -> int:
        """Send every firing that is due; returns how many were sent."""
        wall = self._wall()
        clock_now = datetime.fromtimestamp(self.schedule_clock(wall), tz=UTC)
        sent = 0
        present: set[tuple[str, str]] = set()
        for summary in self._summaries():
            name, group = summary["Name"], summary.get("GroupName") or "default"
            present.add((group, name))
            schedule = self._detail(summary, (group, name))
            sent += self._due(schedule, (group, name), clock_now, datetime.fromtimestamp(wall, tz=UTC))
        for gone in set(self._seen) - present:
            del self._seen[gone]
        for gone in set(self._details) - present:
            del self._details[gone]
        return sent

    def _detail(self, summary: dict[str, Any], key: tuple[str, str]) -> dict[str, Any]:
        """GetSchedule, again only when the summary says the schedule changed (one call per change, not per
        tick, however many schedules wait)."""
        version = (summary.get("LastModificationDate"), summary.get("State"))
        cached = self._details.get(key)
        if cached is None or cached[0] != version:
            cached = self._details[key] = (
                version,
                self._scheduler.get_schedule(Name=key[1], GroupName=key[0]),
            )
        return cached[1]

    def _summaries(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._scheduler.list_schedules(**({"NextToken": token} if token else {}))
            found.extend(page.get("Schedules", []))
            token = page.get("NextToken")
            if not token:
                return found

    def _due(
        self, schedule: dict[str, Any], key: tuple[str, str], clock_now: datetime, wall: datetime
    ) -> int:
        seen = self._seen.get(key)
        version = schedule.get("LastModificationDate")
        if seen is None or seen.version != version:
            seen = self._seen[key] = _Seen(version, clock_now, clock_now)
        if schedule.get("State", "ENABLED") != "ENABLED":
            seen.since = clock_now  # no catching up once it is enabled again
            return 0
        expression = str(schedule["ScheduleExpression"])
        at = _AT.match(expression)
        if at is not None:
            return self._one_time(schedule, key, at.group(1), wall)
        start, end = _utc(schedule.get("StartDate")), _utc(schedule.get("EndDate"))
        try:
            due = _firings(
                expression,
                ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC"),
                seen.since,
                clock_now,
                start or seen.anchor,
                start is None,
            )
        except ValueError as exc:
            self._on_error(f"local scheduler: {key[1]}: cannot play {expression!r}: {exc}")
            return 0
        due = [t for t in due if (start is None or t >= start) and (end is None or t <= end)]
        seen.since = clock_now
        for scheduled in due:
            self._send(schedule, scheduled)
        return len(due)

    def _one_time(self, schedule: dict[str, Any], key: tuple[str, str], at_text: str, wall: datetime) -> int:
        zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
        when = datetime.fromisoformat(at_text).replace(tzinfo=zone).astimezone(UTC)
        if when > wall:
            return 0
        self._send(schedule, when)
        if schedule.get("ActionAfterCompletion") == "DELETE":
            self._scheduler.delete_schedule(Name=key[1], GroupName=key[0])
        else:
            self._scheduler.update_schedule(**_disabled(schedule))
        self._seen.pop(key, None)
        return 1

    def _send(self, schedule: dict[str, Any], scheduled: datetime) -> None:
        target = schedule["Target"]
        arn = str(target["Arn"])
        if not arn.startswith("arn:aws:sqs:"):
            self._on_error(f"local scheduler: {schedule['Name']}: only SQS targets are played, not {arn}")
            return
        body = (
            str(target.get("Input") or "")
            .replace("<aws.scheduler.scheduled-time>", scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"))
            .replace("<aws.scheduler.schedule-arn>", str(schedule.get("Arn", "")))
            .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
            .replace("<aws.scheduler.attempt-number>", "1")
        )
        self._sqs.send_message(QueueUrl=self._queue_url(arn), MessageBody=body)
        self._on_fire(f"schedule {schedule['Name']} fired (scheduled {scheduled.isoformat()})")

    def _queue_url(self, arn: str) -> str:
        if arn not in self._queue_urls:
            _, _, _, _, account, name = arn.split(":", 5)
            url = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            self._queue_urls[arn] = str(url)
        return self._queue_urls[arn]


def _firings(
    expression: str, zone: ZoneInfo, after: datetime, until: datetime, origin: datetime, skip_origin: bool
) -> list[datetime]:
    """Firing times in (after, until]: multiples of a rate from ``origin``, or every minute whose local time
    matches a cron expression's six fields."""
    rate = _RATE.match(expression)
    if rate is not None:
        step = timedelta(seconds=int(rate.group(1)) * _RATE_SECONDS[rate.group(2).rstrip("s")])
        found, moment = [], origin + (step if skip_origin else timedelta(0))
        while moment <= until:
            if moment > after:
                found.append(moment)
            moment += step
        return found
    if not (expression.startswith("cron(") and expression.endswith(")")):
        raise ValueError("not rate(), cron() or at()")
    fields = expression[5:-1].split()
    if len(fields) != 6:
        raise ValueError("a cron expression has six fields")
    minute, hour, dom, month, dow, year = fields
    found = []
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while moment <= until:
        local = moment.astimezone(zone)
        if (
            _matches(minute, local.minute, 0, 59)
            and _matches(hour, local.hour, 0, 23)
            and _matches(dom, local.day, 1, 31)
            and _matches(month, local.month, 1, 12, _MONTHS, 1)
            and _matches(dow, local.isoweekday() % 7 + 1, 1, 7, _DAYS, 1)
            and _matches(year, local.year, 1970, 2199)
        ):
            found.append(moment)
        moment += timedelta(minutes=1)
    return found


def _matches(
    field: str, value: int, low: int, high: int, names: list[str] | None = None, first: int = 0
) -> bool:
    def number(token: str) -> int:
        return names.index(token) + first if names and token in names else int(token)

    for part in field.upper().split(","):
        if part in {"*", "?"}:
            return True
        base, _, step = part.partition("/")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start, end = (number(x) for x in base.split("-"))
        else:
            start = number(base)
            end = high if step else start
        if start <= value <= end and (value - start) % int(step or 1) == 0:
            return True
    return False


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), tz=UTC)


def _disabled(schedule: dict[str, Any]) -> dict[str, Any]:
    """An at() schedule that stays after it fired (``ActionAfterCompletion: NONE``) is left disabled."""
    keep = (
        "Name",
        "GroupName",
        "ScheduleExpression",
        "ScheduleExpressionTimezone",
        "FlexibleTimeWindow",
        "Target",
    )
    return {name: schedule[name] for name in keep if schedule.get(name) is not None} | {"State": "DISABLED"}
