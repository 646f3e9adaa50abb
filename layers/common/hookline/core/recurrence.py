"""Recurring schedules' expressions: parsing a ``cron`` or ``rate``, converting it to EventBridge Scheduler's
form, and computing firing times in a time zone. Pure: no clock of its own, no AWS.

Accepted ``cron`` forms (decided for Hookline, see docs/schedules.md):

- **5 fields, Unix style** (what the contract shows): ``minute hour day-of-month month day-of-week``, with
  ``*``, numbers, names (``JAN``-``DEC``, ``SUN``-``SAT``), ranges ``a-b``, steps ``*/n`` and ``a-b/n``, and
  lists. Day-of-week 0-7 (0 and 7 are Sunday). Converted to EventBridge's six fields (``?`` in the day field
  that is ``*``, year ``*``, days of the week by name).
- **6 fields, EventBridge style** (``cron(...)`` optional): ``minute hour day-of-month month day-of-week
  year``, day-of-week 1-7 (1 is Sunday), exactly one of the two day fields ``?``. Passed to AWS as given.

Not accepted (400): ``L``, ``W`` and ``#`` (EventBridge has them; Hookline cannot compute their next run yet),
and restricting both day-of-month and day-of-week (EventBridge cannot; Unix cron would OR them).

``rate``: ``"5 minutes"`` or ``"rate(5 minutes)"``; units minute, hour, day (singular or plural).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from hookline.core.errors import InvalidRequestError

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # index = Unix day of week (0 = Sunday)
SEARCH_YEARS = 5
MAX_RATE_SECONDS = 366 * 86_400  # a cron that matches nothing within this many years has no next run
_RATE = re.compile(r"^(?:rate\()?\s*(\d{1,6})\s+(minutes?|hours?|days?)\s*\)?$")
_RATE_UNITS = {"minute": 60, "hour": 3_600, "day": 86_400}
_ITEM = re.compile(r"^(\*|[A-Z0-9]+(?:-[A-Z0-9]+)?)(?:/(\d+))?$")


@dataclass(frozen=True, slots=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # days of the month; None: any
    months: frozenset[int]
    weekdays: frozenset[int] | None  # 0 = Sunday; None: any
    years: frozenset[int] | None  # None: any
    aws: str  # the EventBridge Scheduler expression

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        if self.days is not None and day.day not in self.days:
            return False
        return self.weekdays is None or (day.isoweekday() % 7) in self.weekdays


@dataclass(frozen=True, slots=True)
class Rate:
    seconds: int
    aws: str


Recurrence = Cron | Rate


@cache
def _zone_names() -> frozenset[str]:
    # The IANA names (the tzdata package guarantees them on Lambda), not the host's local aliases.
    return (frozenset(available_timezones()) | {"UTC"}) - {"localtime", "posixrules", "Factory"}


def parse_timezone(name: str) -> ZoneInfo:
    try:
        if name not in _zone_names():
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequestError(
            f"timezone: {name[:64]!r} is not an IANA time zone name (like Europe/Berlin or UTC)"
        ) from None


def parse_rate(text: str) -> Rate:
    matched = _RATE.match(text.strip())
    if matched is None or int(matched.group(1)) < 1:
        raise InvalidRequestError(
            f"rate: {text[:64]!r} is not a rate; use a whole number and minutes, hours or days, "
            "like '5 minutes'"
        )
    value, unit = int(matched.group(1)), matched.group(2).rstrip("s")
    if value * _RATE_UNITS[unit] > MAX_RATE_SECONDS:
        raise InvalidRequestError(f"rate: {text[:80]!r} is longer than a year; use a cron expression")
    return Rate(value * _RATE_UNITS[unit], f"rate({value} {unit}{'' if value == 1 else 's'})")


def parse_cron(text: str) -> Cron:
    """A 5-field (Unix) or 6-field (EventBridge) cron expression; InvalidRequestError naming the problem."""
    body = text.strip()
    wrapped = body.startswith("cron(") and body.endswith(")")
    fields = body[5:-1].split() if wrapped else body.split()
    if len(fields) == 5 and not wrapped:
        return _unix_cron(text, fields)
    if len(fields) == 6:
        return _eventbridge_cron(text, fields)
    raise InvalidRequestError(
        f"cron: {text[:80]!r} needs 5 fields "
        "(minute hour day-of-month month day-of-week, like '0 9 * * MON-FRI') "
        "or EventBridge's 6 (minute hour day-of-month month day-of-week year)"
    )


def _unix_cron(text: str, fields: list[str]) -> Cron:
    minute, hour, dom, month, dow = (f.upper() for f in fields)
    minutes = _field(text, "minute", minute, 0, 59)
    hours = _field(text, "hour", hour, 0, 23)
    months = _field(text, "month", month, 1, 12, MONTHS, 1)
    days = None if dom == "*" else _field(text, "day-of-month", dom, 1, 31)
    weekdays = (
        None if dow == "*" else frozenset(d % 7 for d in _field(text, "day-of-week", dow, 0, 7, WEEKDAYS))
    )
    if days is not None and weekdays is not None:
        raise InvalidRequestError(
            f"cron: {text[:80]!r} restricts both day-of-month and day-of-week; "
            "EventBridge Scheduler allows only one"
        )
    aws_dom = "?" if days is None and weekdays is not None else dom
    aws_dow = "?" if weekdays is None else ",".join(WEEKDAYS[d] for d in sorted(weekdays))
    fields_aws = (
        _aws_step(minute, 0),
        _aws_step(hour, 0),
        _aws_step(aws_dom, 1),
        _aws_step(month, 1),
        aws_dow,
    )
    aws = f"cron({' '.join(fields_aws)} *)"
    return Cron(minutes, hours, days, months, weekdays, None, aws)


def _aws_step(spec: str, low: int) -> str:
    """EventBridge writes a step from the start of the range as ``0/5``, not ``*/5``."""
    return ",".join(f"{low}/{item[2:]}" if item.startswith("*/") else item for item in spec.split(","))


def _eventbridge_cron(text: str, fields: list[str]) -> Cron:
    minute, hour, dom, month, dow, year = (f.upper() for f in fields)
    if (dom == "?") == (dow == "?"):
        raise InvalidRequestError(
            f"cron: {text[:80]!r}: exactly one of day-of-month and day-of-week must be '?' "
            "in EventBridge's form"
        )
    days = None if dom in {"?", "*"} else _field(text, "day-of-month", dom, 1, 31)
    weekdays = (
        None
        if dow in {"?", "*"}
        else frozenset((d - 1) % 7 for d in _field(text, "day-of-week", dow, 1, 7, WEEKDAYS, 1))
    )
    years = None if year == "*" else _field(text, "year", year, 1970, 2199)
    return Cron(
        _field(text, "minute", minute, 0, 59),
        _field(text, "hour", hour, 0, 23),
        days,
        _field(text, "month", month, 1, 12, MONTHS, 1),
        weekdays,
        years,
        f"cron({' '.join(fields)})",
    )


def _field(
    text: str, name: str, spec: str, low: int, high: int, names: tuple[str, ...] = (), first: int = 0
) -> frozenset[int]:
    def bad(why: str) -> InvalidRequestError:
        return InvalidRequestError(f"cron: {text[:80]!r}: {name} {spec!r} {why}")

    def number(token: str) -> int:
        if token in names:
            return names.index(token) + first
        if not token.isdigit():
            raise bad(f"has {token!r}, which is not a number or name (L, W and # are not supported)")
        value = int(token)
        if not low <= value <= high:
            raise bad(f"is outside {low}-{high}")
        return value

    values: set[int] = set()
    for item in spec.split(","):
        matched = _ITEM.match(item)
        if matched is None:
            raise bad("is not a value, range, step or list (L, W and # are not supported)")
        base, step_text = matched.group(1), matched.group(2)
        step = int(step_text) if step_text else 1
        if not 1 <= step <= high - low + 1:
            raise bad(f"has a step outside 1-{high - low + 1}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start, end = (number(part) for part in base.split("-"))
            if start > end:
                raise bad("has a range that ends before it starts")
        else:
            start = number(base)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse(cron: str | None, rate: str | None) -> Recurrence:
    if (cron is None) == (rate is None):
        raise InvalidRequestError("give exactly one of 'cron' and 'rate'")
    return parse_cron(cron) if cron is not None else parse_rate(rate or "")


# --- firing times -------------------------------------------------------------------------------------


def next_run(
    recurrence: Recurrence,
    zone: ZoneInfo,
    after: datetime,
    anchor: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> datetime | None:
    """The first firing strictly after ``after`` (UTC), within [start, end]; None when there is none.

    A rate fires at ``start`` (or ``anchor``, the time the schedule was made, when there is no start) plus
    whole multiples of its interval (with a start, the start itself is the first firing)."""
    if start is not None and start > after:
        after = start - timedelta(microseconds=1)
    if isinstance(recurrence, Rate):
        origin = start or anchor
        interval = recurrence.seconds
        elapsed = (after - origin).total_seconds()
        steps = 0 if elapsed < 0 else int(elapsed // interval) + 1
        if start is None:
            steps = max(steps, 1)
        candidate: datetime | None = origin + timedelta(seconds=steps * interval)
    else:
        candidate = _next_cron(recurrence, zone, after)
    if candidate is None or (end is not None and candidate > end):
        return None
    return candidate


def _next_cron(cron: Cron, zone: ZoneInfo, after: datetime) -> datetime | None:
    local_day = after.astimezone(zone).date()
    for offset in range(SEARCH_YEARS * 366 + 1):
        day = local_day + timedelta(days=offset)
        if not cron.matches_day(day):
            continue
        for hour in sorted(cron.hours):
            for minute in sorted(cron.minutes):
                local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                instant = local.astimezone(UTC)
                if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
                    continue  # a local time that a daylight-saving jump skips: no firing
                if instant > after:
                    return instant
    return None
