"""Reconciling a chaos run: every (event, endpoint) pair must end delivered, or failed and reported.

Pure functions over what was observed, so the verdict is testable without a stack:
- ``delivered``: the receiver answered 2xx to at least one request with a valid signature;
- ``failed_reported``: never delivered, the API says ``failed``, and an SNS alert named the pair;
- ``stuck``: never delivered and the API still says ``pending`` or ``retrying`` at the deadline;
- ``lost``: never delivered, and neither stuck nor failed-and-reported (the API says it succeeded, or
  failed without an alert, or does not know the pair or the event);
- ``duplicates``: pairs delivered more than once; ``explained`` when a worker killed mid-invocation held
  a queue message for that event (and that endpoint, or for the whole event) and the pair was delivered
  again after that kill, since Lambda then re-delivers the message: at-least-once, not a bug;
- ``mismatches``: the API's status disagrees with the receiver (delivered but not ``succeeded``, or
  ``succeeded`` but never delivered);
- ``unexpected_events``: webhook-ids the receivers got that no accepted event had;
- ``out_of_order``: attempts of an ordered event that reached an endpoint before the previous event of its
  key had been answered 2xx there (or, for one that finally failed, before its last attempt).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TERMINAL = frozenset({"succeeded", "failed"})
IN_PROGRESS = frozenset({"pending", "retrying"})


@dataclass(frozen=True)
class Pair:
    event_id: str
    endpoint_id: str


@dataclass(frozen=True)
class Observed:
    pairs: list[Pair]
    api_status: Mapping[Pair, str | None]  # None: the API did not list the pair (or the event)
    deliveries: Mapping[tuple[str, str], int]  # (webhook-id, endpoint id) -> valid 2xx deliveries
    bad_signatures: int
    alerts: list[frozenset[str]]  # every string found in each alert
    crashed: list[tuple[float, str]]  # (when, body) of every queue message a killed invocation held
    endpoints_of_event: Mapping[str, frozenset[str]]
    received_webhook_ids: frozenset[str] = frozenset()
    received_data: Mapping[str, Any] = field(default_factory=dict)  # webhook-id -> the body's "data"
    last_delivered_at: Mapping[tuple[str, str], float] = field(default_factory=dict)
    # Ordered keys: each key's events in the order their 202s came; each attempt's arrival (time, webhook-id,
    # endpoint); when each pair's first 2xx was decided (before it was written).
    ordered_sequences: list[list[str]] = field(default_factory=list)
    arrivals: list[tuple[float, str, str]] = field(default_factory=list)
    first_answered_at: Mapping[tuple[str, str], float] = field(default_factory=dict)


@dataclass
class Verdict:
    pairs: int = 0
    delivered: int = 0
    failed_reported: int = 0
    lost: int = 0
    stuck: int = 0
    duplicates_explained: int = 0
    duplicates_unexplained: int = 0
    bad_signatures: int = 0
    mismatches: int = 0
    unexpected_events: int = 0
    ordered_attempts: int = 0
    out_of_order: int = 0
    order_gates: bool = True  # out-of-order attempts fail the run (not with ``--allow-out-of-order``)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.stuck
            or self.duplicates_unexplained
            or self.bad_signatures
            or self.mismatches
            or self.unexpected_events
            or (self.order_gates and self.out_of_order)
        )

    def note(self, kind: str, text: str, keep: int = 5) -> None:
        examples = self.examples.setdefault(kind, [])
        if len(examples) < keep:
            examples.append(text)

    def rows(self) -> list[tuple[str, int]]:
        return [
            ("pairs (event x endpoint)", self.pairs),
            ("delivered (valid signature)", self.delivered),
            ("failed and reported (API + SNS alert)", self.failed_reported),
            ("lost", self.lost),
            ("stuck (pending/retrying at the deadline)", self.stuck),
            ("duplicates explained by a kill", self.duplicates_explained),
            ("duplicates unexplained", self.duplicates_unexplained),
            ("bad signatures", self.bad_signatures),
            ("status mismatches API vs receivers", self.mismatches),
            ("unexpected events (never accepted)", self.unexpected_events),
            ("attempts of ordered events", self.ordered_attempts),
            ("out-of-order attempts (ordered keys)", self.out_of_order),
        ]


def alert_strings(document: Any) -> frozenset[str]:
    """Every string (keys and values) in a parsed alert, however it is laid out."""
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, Mapping):
            for key, value in node.items():
                found.add(str(key))
                stack.append(value)
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return frozenset(found)


def _explained(pair: Pair, observed: Observed) -> bool:
    """A kill explains a duplicate when the killed invocation held a message for this event (for this
    endpoint, or for the whole event) and the pair was delivered again after the kill."""
    endpoints = observed.endpoints_of_event.get(pair.event_id, frozenset())
    last = observed.last_delivered_at.get((pair.event_id, pair.endpoint_id), float("inf"))
    for killed_at, body in observed.crashed:
        if pair.event_id not in body or killed_at > last:
            continue
        named = {endpoint for endpoint in endpoints if endpoint in body}
        if not named or pair.endpoint_id in named:
            return True
    return False


def reconcile(observed: Observed, order_gates: bool = True) -> Verdict:
    verdict = Verdict(
        pairs=len(observed.pairs), bad_signatures=observed.bad_signatures, order_gates=order_gates
    )
    alert_index: dict[str, set[int]] = {}  # a string -> the alerts that hold it
    for number, strings in enumerate(observed.alerts):
        for text in strings:
            alert_index.setdefault(text, set()).add(number)
    known_events = {pair.event_id for pair in observed.pairs}
    for pair in observed.pairs:
        delivered = observed.deliveries.get((pair.event_id, pair.endpoint_id), 0)
        status = observed.api_status.get(pair)
        label = f"{pair.event_id} -> {pair.endpoint_id} (API: {status}, deliveries: {delivered})"
        if delivered:
            verdict.delivered += 1
            if status != "succeeded":
                verdict.mismatches += 1
                verdict.note("mismatches", label)
            if delivered > 1:
                if _explained(pair, observed):
                    verdict.duplicates_explained += 1
                else:
                    verdict.duplicates_unexplained += 1
                    verdict.note("duplicates_unexplained", label)
            continue
        alerted = bool(alert_index.get(pair.event_id, set()) & alert_index.get(pair.endpoint_id, set()))
        if status == "failed" and alerted:
            verdict.failed_reported += 1
        elif status in IN_PROGRESS:
            verdict.stuck += 1
            verdict.note("stuck", label)
        else:
            verdict.lost += 1
            why = "failed without an alert" if status == "failed" else f"API says {status}"
            verdict.note("lost", f"{label}: {why}")
            if status == "succeeded":
                verdict.mismatches += 1
                verdict.note("mismatches", label)
    check_order(observed, verdict)
    unexpected = observed.received_webhook_ids - known_events
    verdict.unexpected_events = len(unexpected)
    for webhook_id in sorted(unexpected)[:5]:
        verdict.note("unexpected_events", f"{webhook_id} (data {observed.received_data.get(webhook_id)})")
    return verdict


def check_order(observed: Observed, verdict: Verdict) -> None:
    """Per endpoint and key, every attempt of an event must come after the previous event of its key was
    answered 2xx at that endpoint, or, if it never was (it finally failed), after its last attempt."""
    by_pair: dict[tuple[str, str], list[float]] = {}
    for arrived, webhook_id, endpoint_id in observed.arrivals:
        by_pair.setdefault((webhook_id, endpoint_id), []).append(arrived)
    for sequence in observed.ordered_sequences:
        endpoints = observed.endpoints_of_event.get(sequence[0], frozenset()) if sequence else frozenset()
        for endpoint_id in endpoints:
            settled_at = float("-inf")  # when the key's events so far were all settled at this endpoint
            previous = ""
            for event_id in sequence:
                times = by_pair.get((event_id, endpoint_id), [])
                verdict.ordered_attempts += len(times)
                early = [t for t in times if t < settled_at]
                if early:
                    timeline = sorted(
                        (round(t, 3), e[-6:])
                        for (e, ep), ts in by_pair.items()
                        if ep == endpoint_id and e in (event_id, previous)
                        for t in ts
                    )
                    verdict.note("out_of_order_timeline", f"{endpoint_id}: {timeline}")
                    verdict.out_of_order += len(early)
                    verdict.note(
                        "out_of_order",
                        f"{event_id} -> {endpoint_id}: {len(early)} early, at {min(early):.3f}, "
                        f"before {previous} settled at {settled_at:.3f}",
                    )
                answered = observed.first_answered_at.get((event_id, endpoint_id))
                done = answered if answered is not None else max(times, default=settled_at)
                settled_at = max(settled_at, done)
                previous = event_id


def count_duplicates(deliveries: Mapping[tuple[str, str], int]) -> Counter[int]:
    """How many pairs were delivered n times, for n > 1 (for the report)."""
    return Counter(count for count in deliveries.values() if count > 1)
