"""The local stack's SQS fair-queue rule (local_stack.fair_queue), and how it reads a moto queue
(local_stack._fair_sqs.fair_order), against the rule AWS documents (docs/fairness.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from local_stack._fair_sqs import fair_order, queue_state
from local_stack.fair_queue import FairQueue, FairQueueRule, GroupLoad

NOW = 10_000.0


@dataclass
class _Msg:
    """What fair_order reads of a moto Message."""

    id: str
    group_id: str | None
    sent_timestamp: int = int((NOW - 1) * 1000)
    visible_at: float = 0.0
    delayed_until: float = 0.0
    approximate_receive_count: int = 0
    receipt_handle: str | None = None


@dataclass
class _Queue:
    _messages: list[_Msg] = field(default_factory=list)


def _group(message: tuple[str, int]) -> str:
    return message[0]


def _candidates() -> list[tuple[str, int]]:
    return [("noisy", 1), ("noisy", 2), ("quiet", 3), ("noisy", 4), ("quiet", 5)]


def test_a_tenant_with_30_in_flight_and_over_10_percent_is_noisy_and_quiet_tenants_come_first() -> None:
    policy = FairQueue()
    loads = {"noisy": GroupLoad(in_flight=30, backlog=3), "quiet": GroupLoad(in_flight=1, backlog=2)}
    ordered = policy.order(_candidates(), _group, loads, NOW)
    assert ordered == [("quiet", 3), ("quiet", 5), ("noisy", 1), ("noisy", 2), ("noisy", 4)]
    assert policy.noisy == {"noisy"}


def test_29_in_flight_is_not_enough_and_arrival_order_is_kept() -> None:
    policy = FairQueue()
    loads = {"noisy": GroupLoad(in_flight=29, backlog=3), "quiet": GroupLoad(in_flight=0, backlog=2)}
    assert policy.order(_candidates(), _group, loads, NOW) == _candidates()
    assert policy.noisy == frozenset()


def test_30_in_flight_that_are_10_percent_or_less_of_the_queue_is_not_noisy() -> None:
    policy = FairQueue()
    loads = {f"tenant-{n}": GroupLoad(in_flight=30) for n in range(10)}  # each exactly 10%
    assert policy.detect(loads, NOW) == frozenset()
    loads["tenant-0"] = GroupLoad(in_flight=31)  # now 31 of 301: over 10%
    assert policy.detect(loads, NOW) == {"tenant-0"}


def test_more_than_10_percent_of_recent_processing_time_is_noisy_even_with_few_in_flight() -> None:
    policy = FairQueue()
    policy.processed("slow", 8.9, NOW - 1)
    policy.processed("quiet", 0.1, NOW - 1)
    policy.processed("other", 1.0, NOW - 1)  # 10% exactly: not over
    loads = {"slow": GroupLoad(in_flight=2, backlog=5), "quiet": GroupLoad(backlog=1)}
    assert policy.detect(loads, NOW) == {"slow"}
    assert policy.processing_shares(NOW)["slow"] > 0.88


def test_processing_time_counts_the_messages_that_finished_in_the_recent_window() -> None:
    policy = FairQueue(FairQueueRule(processing_window_seconds=60))
    policy.processed("slow", 90.0, NOW - 30)
    policy.processed("quiet", 10.0, NOW - 1)
    assert abs(policy.processing_shares(NOW)["slow"] - 0.9) < 1e-9
    policy.processed("quiet", 10.0, NOW + 45)
    assert policy.processing_shares(NOW + 45) == {"quiet": 1.0}  # the slow one finished 75 s ago
    assert policy.processing_shares(NOW + 500) == {}


def test_several_noisy_tenants_come_after_quiet_ones_fewest_in_flight_first() -> None:
    policy = FairQueue()
    loads = {
        "a": GroupLoad(in_flight=60, backlog=1),
        "b": GroupLoad(in_flight=40, backlog=1),
        "quiet": GroupLoad(in_flight=0, backlog=1),
    }
    candidates = [("a", 1), ("b", 2), ("quiet", 3)]
    assert policy.order(candidates, _group, loads, NOW) == [("quiet", 3), ("b", 2), ("a", 1)]


def test_noisy_messages_still_come_when_nothing_quieter_is_visible() -> None:
    policy = FairQueue()
    loads = {"noisy": GroupLoad(in_flight=50, backlog=2), "quiet": GroupLoad(in_flight=3)}
    candidates = [("noisy", 1), ("noisy", 2)]
    assert policy.order(candidates, _group, loads, NOW) == candidates


def test_a_noisy_tenant_stays_noisy_while_its_backlog_lasts_and_recovers_once_it_drains() -> None:
    policy = FairQueue()
    policy.detect({"t": GroupLoad(in_flight=40, backlog=100, last_sent=NOW)}, NOW)
    # Below every threshold now, but its backlog is not drained and it sent recently: still noisy.
    assert policy.detect({"t": GroupLoad(in_flight=0, backlog=100, last_sent=NOW)}, NOW + 10) == {"t"}
    assert policy.detect({"t": GroupLoad(in_flight=0, backlog=0, last_sent=NOW)}, NOW + 11) == frozenset()


def test_a_noisy_tenant_that_sent_nothing_for_5_minutes_is_quiet_again() -> None:
    policy = FairQueue()
    policy.detect({"t": GroupLoad(in_flight=40, backlog=100, last_sent=NOW)}, NOW)
    assert policy.detect({"t": GroupLoad(backlog=100, last_sent=NOW)}, NOW + 299) == {"t"}
    assert policy.detect({"t": GroupLoad(backlog=100, last_sent=NOW)}, NOW + 300) == frozenset()


def test_a_tenant_still_over_a_threshold_stays_noisy_after_its_backlog_drains() -> None:
    policy = FairQueue()
    policy.detect({"t": GroupLoad(in_flight=40, backlog=100, last_sent=NOW)}, NOW)
    assert policy.detect({"t": GroupLoad(in_flight=40, backlog=0, last_sent=NOW)}, NOW + 1) == {"t"}


def test_fair_order_reads_in_flight_and_backlog_per_group_from_the_queue() -> None:
    in_flight = [
        _Msg(f"n{i}", "noisy", visible_at=(NOW + 30) * 1000, approximate_receive_count=1) for i in range(35)
    ]
    waiting = [_Msg("n-wait-1", "noisy"), _Msg("q1", "quiet"), _Msg("n-wait-2", "noisy"), _Msg("q2", "quiet")]
    delayed = [_Msg("q-later", "quiet", delayed_until=(NOW + 60) * 1000)]
    queue = _Queue(in_flight + waiting + delayed)
    ordered = fair_order(queue, NOW)
    assert [m.id for m in ordered] == ["q1", "q2", "n-wait-1", "n-wait-2"]


def test_messages_without_a_group_are_each_a_tenant_of_their_own() -> None:
    in_flight = [
        _Msg(f"u{i}", None, visible_at=(NOW + 30) * 1000, approximate_receive_count=1) for i in range(40)
    ]
    waiting = [_Msg("a", None), _Msg("b", "g")]
    assert [m.id for m in fair_order(_Queue(in_flight + waiting), NOW)] == ["a", "b"]


def test_processing_time_runs_from_receive_to_delete_or_to_the_end_of_the_visibility_timeout() -> None:
    queue = _Queue()
    state = queue_state(queue)
    timed_out = _Msg("t", "hanging", receipt_handle="r-t", visible_at=(NOW + 15) * 1000)
    deleted = _Msg("d", "fast", receipt_handle="r-d")
    state.received(timed_out, NOW)
    state.received(deleted, NOW)
    state.finished("r-d", NOW + 0.5)  # a delete
    queue._messages = [timed_out]
    fair_order(queue, NOW + 20)  # the hanging one is visible again: its consumer gave up at NOW + 15
    shares = state.policy.processing_shares(NOW + 20)
    assert abs(shares["hanging"] - 15 / 15.5) < 1e-9
    assert state.by_receipt == {}
