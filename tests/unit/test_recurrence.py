"""Cron, rate and time zone parsing, conversion to EventBridge's form, next-run computation, and the
deterministic event id of a schedule's firing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hookline.core import ids, recurrence
from hookline.core.errors import InvalidRequestError

BERLIN = recurrence.parse_timezone("Europe/Berlin")
UTC_ZONE = recurrence.parse_timezone("UTC")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("given", "aws"),
    [
        ("0 9 * * MON-FRI", "cron(0 9 ? * MON,TUE,WED,THU,FRI *)"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)"),
        ("30 6 1 * *", "cron(30 6 1 * ? *)"),
        ("0 0 * * 0,7", "cron(0 0 ? * SUN *)"),
        ("0 12 * JAN-MAR 1-5", "cron(0 12 ? JAN-MAR MON,TUE,WED,THU,FRI *)"),
        ("cron(0/5 8-17 ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)"),
        ("0 9 1 * ? 2027", "cron(0 9 1 * ? 2027)"),
    ],
)
def test_cron_forms_convert_to_eventbridge(given: str, aws: str) -> None:
    assert recurrence.parse_cron(given).aws == aws


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("0 9 * *", "5 fields"),
        ("0 9 * * * * *", "5 fields"),
        ("60 * * * *", "minute '60' is outside 0-59"),
        ("0 24 * * *", "hour"),
        ("0 9 1 * MON", "both day-of-month and day-of-week"),
        ("0 9 * * MON *", "exactly one of day-of-month and day-of-week"),
        ("0 9 L * ?", "not supported"),
        ("0 9 ? * MON#2 *", "not supported"),
        ("0 9 5-1 * *", "ends before it starts"),
        ("0 9 * FOO *", "not a number or name"),
        ("0 9 */0 * *", "step outside 1-31"),
        ("*/61 * * * *", "step outside 1-60"),
    ],
)
def test_bad_crons_say_what_is_wrong(bad: str, words: str) -> None:
    with pytest.raises(InvalidRequestError, match=words.replace("(", r"\(")):
        recurrence.parse_cron(bad)


def test_rates_and_their_aws_form() -> None:
    assert recurrence.parse_rate("5 minutes") == recurrence.Rate(300, "rate(5 minutes)")
    assert recurrence.parse_rate("rate(1 hour)") == recurrence.Rate(3600, "rate(1 hour)")
    assert recurrence.parse_rate("1 minutes").aws == "rate(1 minute)"
    assert recurrence.parse_rate("2 day").aws == "rate(2 days)"
    for bad in ("0 minutes", "5 weeks", "minutes", "-1 hours", "1.5 hours"):
        with pytest.raises(InvalidRequestError, match="rate"):
            recurrence.parse_rate(bad)
    with pytest.raises(InvalidRequestError, match="exactly one"):
        recurrence.parse("0 9 * * *", "5 minutes")
    with pytest.raises(InvalidRequestError, match="exactly one"):
        recurrence.parse(None, None)


def test_time_zones_are_iana_names() -> None:
    assert recurrence.parse_timezone("America/New_York").key == "America/New_York"
    for bad in ("Mars/Olympus", "", "../etc/passwd", "/etc/localtime"):
        with pytest.raises(InvalidRequestError, match="timezone"):
            recurrence.parse_timezone(bad)


def test_a_weekday_cron_runs_next_on_monday_in_its_time_zone() -> None:
    cron = recurrence.parse_cron("0 9 * * MON-FRI")
    saturday = at(2026, 12, 5, 12)
    assert recurrence.next_run(cron, BERLIN, saturday, saturday) == at(2026, 12, 7, 8)  # 09:00 CET
    summer = at(2026, 7, 3, 7, 30)  # Friday 09:30 CEST: today's run has passed
    assert recurrence.next_run(cron, BERLIN, summer, summer) == at(2026, 7, 6, 7)


def test_a_local_time_that_daylight_saving_skips_does_not_fire() -> None:
    cron = recurrence.parse_cron("30 2 * * *")
    before = at(2026, 3, 28, 12)  # Berlin skips 02:00-03:00 on 29 March 2026
    assert recurrence.next_run(cron, BERLIN, before, before) == at(2026, 3, 30, 0, 30)


def test_rates_count_from_the_start_or_from_when_they_were_made() -> None:
    rate = recurrence.parse_rate("1 minute")
    made = at(2026, 12, 6, 10, 0, 0)
    assert recurrence.next_run(rate, UTC_ZONE, made, made) == at(2026, 12, 6, 10, 1)
    assert recurrence.next_run(rate, UTC_ZONE, at(2026, 12, 6, 10, 1, 30), made) == at(2026, 12, 6, 10, 2)
    start = at(2026, 12, 7, 0, 0, 0)
    assert recurrence.next_run(rate, UTC_ZONE, made, made, start=start) == start
    end = at(2026, 12, 6, 10, 2)
    assert recurrence.next_run(rate, UTC_ZONE, at(2026, 12, 6, 10, 1), made, end=end) == end
    assert recurrence.next_run(rate, UTC_ZONE, end, made, end=end) is None


def test_a_cron_that_never_matches_has_no_next_run() -> None:
    never = recurrence.parse_cron("0 0 31 2 ? *")
    now = at(2026, 1, 1)
    assert recurrence.next_run(never, UTC_ZONE, now, now) is None


def test_a_firing_has_one_event_id_per_schedule_and_time() -> None:
    first = ids.firing_event_id("sch_A", 1_796_551_200_000)
    assert first == ids.firing_event_id("sch_A", 1_796_551_200_000)
    assert ids.is_event_id(first)
    assert ids.event_id_unix_seconds(first) == 1_796_551_200
    assert first != ids.firing_event_id("sch_A", 1_796_551_260_000)
    assert first != ids.firing_event_id("sch_B", 1_796_551_200_000)


def test_a_delayed_event_id_sorts_at_its_delivery_time() -> None:
    assert ids.event_id_unix_seconds(ids.new_event_id_at(1_900_000_000.5)) == 1_900_000_000.5
