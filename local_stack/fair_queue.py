"""SQS fair queues, as AWS documents them, as a pure policy the local moto server applies on receive.

AWS (SQS developer guide, "How Amazon SQS fair queues work"): on a standard queue, messages that carry a
``MessageGroupId`` belong to that tenant (a message without one is a tenant of its own). A tenant is a
*noisy neighbour* when either

- its in-flight messages are more than 10% of the queue's in-flight messages and at least 30, or
- its share of the consumers' recent processing time is more than 10%.

While a tenant is noisy, a receive returns the quiet tenants' messages whenever any are available; noisy
messages are neither dropped nor throttled, and come when nothing quieter is visible. If several tenants
are noisy, the one with the fewest messages in flight comes first. A tenant stops being noisy once its
backlog has drained, or after it has sent nothing for 5 minutes. No order is implied.

Where AWS leaves a detail open, the choice here is written down in docs/fairness.md ("processing time" is
receive -> delete or visibility change or the visibility timeout's end; "recent" is the messages whose
processing ended in the last 60 s; "backlog" is the messages a receive could return now).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FairQueueRule:
    in_flight_share: float = 0.10  # "more than 10% of in-flight messages ..."
    in_flight_minimum: int = 30  # "... and at least 30 of its own"
    processing_share: float = 0.10  # "recent share of total consumer processing time exceeds 10%"
    processing_window_seconds: float = 60.0  # "recent": not documented by AWS (docs/fairness.md)
    quiet_after_seconds: float = 300.0  # "sent nothing for 5 consecutive minutes"


@dataclass(frozen=True, slots=True)
class GroupLoad:
    """One tenant's messages on the queue at one moment."""

    in_flight: int = 0  # received and not visible again yet (nor deleted)
    backlog: int = 0  # visible: what a receive could return now
    last_sent: float = 0.0  # the newest of its messages' send times (seconds)


class FairQueue:
    """The fairness state of one queue: recent processing spans and the tenants flagged noisy."""

    def __init__(self, rule: FairQueueRule | None = None) -> None:
        self.rule = rule or FairQueueRule()
        self._spans: deque[tuple[float, str, float]] = deque()  # (ended at, group, seconds), by end time
        self._totals: dict[str, float] = {}  # group -> seconds of its spans in the deque
        self._noisy: set[str] = set()

    @property
    def noisy(self) -> frozenset[str]:
        return frozenset(self._noisy)

    def processed(self, group: str, seconds: float, ended_at: float) -> None:
        """A message of ``group`` stopped being processed (deleted, hidden again, or timed out)."""
        seconds = max(0.0, seconds)
        self._spans.append((ended_at, group, seconds))
        self._totals[group] = self._totals.get(group, 0.0) + seconds

    def processing_shares(self, now: float) -> dict[str, float]:
        """Each group's share of the processing time of the messages that finished in the recent window
        (kept as running totals: a receive must not cost more the more messages were processed)."""
        start = now - self.rule.processing_window_seconds
        while self._spans and self._spans[0][0] <= start:
            _, group, seconds = self._spans.popleft()
            left = self._totals.get(group, 0.0) - seconds
            if left <= 1e-9:
                self._totals.pop(group, None)
            else:
                self._totals[group] = left
        if not self._spans:
            self._totals.clear()  # no rounding residue outlives the spans
        overall = sum(self._totals.values())
        if overall <= 0:
            return {}
        return {group: time / overall for group, time in self._totals.items()}

    def detect(self, loads: Mapping[str, GroupLoad], now: float) -> frozenset[str]:
        """Update and return the noisy groups, given every group's load now."""
        rule = self.rule
        total_in_flight = sum(load.in_flight for load in loads.values())
        by_concurrency = {
            group
            for group, load in loads.items()
            if load.in_flight >= rule.in_flight_minimum
            and load.in_flight > rule.in_flight_share * total_in_flight
        }
        by_time = {
            group for group, share in self.processing_shares(now).items() if share > rule.processing_share
        }
        detected = by_concurrency | by_time
        for group in list(self._noisy - detected):
            load = loads.get(group, GroupLoad())
            if load.backlog == 0 or now - load.last_sent >= rule.quiet_after_seconds:
                self._noisy.discard(group)
        self._noisy |= detected
        return frozenset(self._noisy)

    def order[T](
        self,
        candidates: Sequence[T],
        group_of: Callable[[T], str],
        loads: Mapping[str, GroupLoad],
        now: float,
    ) -> list[T]:
        """The receivable messages in the order a receive should take them: quiet tenants' first (in their
        existing order), then the noisy tenants', the one with the fewest in flight first."""
        noisy = self.detect(loads, now)
        if not noisy:
            return list(candidates)

        def rank(candidate: T) -> tuple[int, int]:
            group = group_of(candidate)
            if group not in noisy:
                return (0, 0)
            return (1, loads.get(group, GroupLoad()).in_flight)

        return sorted(candidates, key=rank)
