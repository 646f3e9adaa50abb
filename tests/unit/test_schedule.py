import random

import pytest

from hookline.core.schedule import MAX_VISIBILITY_SECONDS, RetrySchedule

DEFAULT = RetrySchedule.parse(RetrySchedule.DEFAULT)


def test_default_schedule_is_eight_attempts_over_about_28_hours() -> None:
    assert DEFAULT.delays == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert DEFAULT.max_attempts == 8
    assert 27 * 3600 < sum(DEFAULT.delays) < 29 * 3600


@pytest.mark.parametrize("attempt", range(1, 8))
def test_jitter_stays_within_twenty_percent(attempt: int) -> None:
    rng = random.Random(attempt)
    base = DEFAULT.base_delay_after(attempt)
    delays = [DEFAULT.delay_after(attempt, rng=rng) for _ in range(500)]
    assert all(round(base * 0.8) <= d <= round(base * 1.2) for d in delays)
    assert all(d <= MAX_VISIBILITY_SECONDS for d in delays)
    if base >= 300:
        assert len(set(delays)) > 10  # the jitter really spreads retries out


def test_the_last_attempt_has_no_successor() -> None:
    assert DEFAULT.has_attempt_after(7)
    assert not DEFAULT.has_attempt_after(8)
    with pytest.raises(ValueError, match="last"):
        DEFAULT.base_delay_after(8)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(1, 5), (5, 5), (120, 120), (36000, 36000), (999_999, 36000)],
)
def test_retry_after_is_clamped_to_the_schedule_bounds(retry_after: float, expected: int) -> None:
    assert DEFAULT.delay_after(1, retry_after_seconds=retry_after) == expected


def test_ten_hours_with_jitter_never_exceeds_the_sqs_visibility_ceiling() -> None:
    schedule = RetrySchedule.parse("0,43200")
    rng = random.Random(0)
    assert max(schedule.delay_after(1, rng=rng) for _ in range(200)) == MAX_VISIBILITY_SECONDS


@pytest.mark.parametrize("text", ["", "a,b", "0,-1", "0,50000", " , "])
def test_malformed_schedules_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        RetrySchedule.parse(text)


def test_short_schedule_for_local_runs() -> None:
    schedule = RetrySchedule.parse("0,1,2,3")
    assert schedule.max_attempts == 4
    assert schedule.min_delay == 1
    assert schedule.max_delay == 3
