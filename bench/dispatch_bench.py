"""Benchmarks 1 and 2: dispatch throughput against a bare ``requests.Session``, and Lambda-billed ms per
delivery against a receiver that answers in 100 ms.

Both drive the real functions in-process on template.yaml deployed into moto (``bench.lambda_stack``),
against receivers in a child process on 127.0.0.1 (``bench.receiver``), through stable seams only: events
are accepted by the ingest function through HTTP API requests (untimed), and the dispatch function is fed
the SQS records its event source would build from whatever the delivery queue holds, until every delivery
has arrived. Whatever dispatch does to get an event to its endpoints (today: a fan-out invocation, then
delivery invocations) is timed; receiving and deleting messages (the event source's work) is not.

Each figure has a baseline from the same run: a bare ``requests.Session`` posting bodies of the same size
to the same receiver from ``CONCURRENCY`` threads. Hookline and baseline runs alternate, so drift on a
shared machine hits both.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.dispatch_workload import CONCURRENCY, ENDPOINTS, BareSender, HttpClock, Workload
from bench.lambda_stack import Invocation, Stack
from bench.receiver import ReceiverProcess

RECEIVER_DELAY_S = 0.100
WARMUP_EVENTS = 5
ROUND_EVENTS = 10  # events per round of the billed benchmark: 100 deliveries
GOAL_RATIO = 0.9
GOAL_BILLED_MS = 15.0


# --- benchmark 1: throughput -----------------------------------------------------------------------------


@dataclass
class ThroughputRun:
    deliveries: int
    invocations: int
    hookline_s: float  # the dispatch handler's wall time, summed over the run's invocations
    delivering_s: float  # the same, over the invocations that delivered anything
    baseline_s: float
    baseline_batched_s: float  # the same posts with a barrier every 10
    aws_s: float
    aws_backend_s: float
    http_phase_s: float
    aws_calls: int

    @property
    def hookline_per_s(self) -> float:
        return self.deliveries / self.hookline_s

    @property
    def baseline_per_s(self) -> float:
        return self.deliveries / self.baseline_s

    @property
    def ratio(self) -> float:
        return self.hookline_per_s / self.baseline_per_s

    @property
    def delivering_ratio(self) -> float:
        """Counting only the invocations that delivered (the figure recorded before 2026-11-30, when
        prepared delivery jobs were fed to dispatch and fan-out was not timed)."""
        return self.deliveries / self.delivering_s / self.baseline_per_s

    @property
    def http_phase_ratio(self) -> float:
        """The concurrent HTTP phases alone (no AWS calls, no powertools) over the baseline."""
        return self.baseline_s / self.http_phase_s

    @property
    def batched_baseline_ratio(self) -> float:
        return self.baseline_s / self.baseline_batched_s

    def per_invocation_ms(self) -> dict[str, float]:
        def ms(seconds: float) -> float:
            return seconds * 1000 / self.invocations

        return {
            "handler": ms(self.hookline_s),
            "aws_calls": self.aws_calls / self.invocations,
            "aws": ms(self.aws_s),
            "aws_moto_backend": ms(self.aws_backend_s),
            "aws_client_side": ms(self.aws_s - self.aws_backend_s),
            "http_phase": ms(self.http_phase_s),
            "other": ms(self.hookline_s - self.aws_s - self.http_phase_s),
        }


@dataclass
class ThroughputResult:
    runs: list[ThroughputRun]
    connections_opened: int  # new ones, by hookline, during the timed runs (the receiver counts them)
    cold_first_invocation_ms: float

    @property
    def median_run(self) -> ThroughputRun:
        return sorted(self.runs, key=lambda run: run.ratio)[len(self.runs) // 2]

    @property
    def ratio(self) -> float:
        return statistics.median(run.ratio for run in self.runs)

    @property
    def delivering_ratio(self) -> float:
        return statistics.median(run.delivering_ratio for run in self.runs)

    @property
    def http_phase_ratio(self) -> float:
        return statistics.median(run.http_phase_ratio for run in self.runs)

    @property
    def batched_baseline_ratio(self) -> float:
        return statistics.median(run.batched_baseline_ratio for run in self.runs)

    @property
    def hookline_per_s(self) -> float:
        return statistics.median(run.hookline_per_s for run in self.runs)

    @property
    def baseline_per_s(self) -> float:
        return statistics.median(run.baseline_per_s for run in self.runs)

    def as_json(self) -> dict[str, Any]:
        return {
            "deliveries_per_run": self.runs[0].deliveries,
            "concurrency": CONCURRENCY,
            "hookline_deliveries_per_s": self.hookline_per_s,
            "baseline_deliveries_per_s": self.baseline_per_s,
            "ratio": self.ratio,
            "ratio_delivering_invocations": self.delivering_ratio,
            "goal_ratio": GOAL_RATIO,
            "http_phase_ratio": self.http_phase_ratio,
            "batched_baseline_ratio": self.batched_baseline_ratio,
            "per_invocation_ms_median_run": self.median_run.per_invocation_ms(),
            "connections_opened": self.connections_opened,
            "cold_first_invocation_ms": self.cold_first_invocation_ms,
            "runs": [
                asdict(run) | {"ratio": run.ratio, "hookline_per_s": run.hookline_per_s} for run in self.runs
            ],
        }


def _check_received(receiver: ReceiverProcess, signed: int, unsigned: int = 0) -> dict[str, int]:
    """Every webhook arrived, signed, and the baseline's posts too."""
    stats = receiver.stats()
    if stats["signed"] != signed or stats["posts"] != signed + unsigned:
        raise RuntimeError(f"the receiver saw {stats}; expected {signed} signed and {unsigned} other posts")
    return stats


def throughput(stack: Stack, deliveries: int, repeats: int) -> ThroughputResult:
    runs: list[ThroughputRun] = []
    connections = 0
    clock = HttpClock()
    events = max(1, deliveries // ENDPOINTS)
    with ReceiverProcess() as receiver, clock.installed():
        workload = Workload(stack, receiver)
        baseline = BareSender()
        try:
            # Warm containers on both sides: both keep their threads and connections between runs.
            warmup = workload.send(WARMUP_EVENTS)
            workload.deliver(len(warmup))
            baseline.run(warmup)
            sides = ["hookline", "baseline", "batched"]
            for repeat in range(repeats):
                receiver.reset()
                targets = workload.send(events)
                tracked: list[tuple[Invocation, int]] = []
                seconds: dict[str, float] = {}
                for side in sides[repeat % 3 :] + sides[: repeat % 3]:  # rotate who goes first
                    if side == "hookline":
                        posts_before = receiver.stats()["posts"]
                        tracked = workload.deliver(posts_before + len(targets), track=True)
                    elif side == "baseline":
                        seconds[side] = baseline.run(targets)
                    else:
                        seconds[side] = baseline.run_batches(targets)
                connections += _check_received(receiver, len(targets), 2 * len(targets))["connections"]
                made = [invocation for invocation, _ in tracked]
                runs.append(
                    ThroughputRun(
                        deliveries=len(targets),
                        invocations=len(made),
                        hookline_s=sum(inv.seconds for inv in made),
                        delivering_s=sum(inv.seconds for inv, posts in tracked if posts),
                        baseline_s=seconds["baseline"],
                        baseline_batched_s=seconds["batched"],
                        aws_s=sum(inv.aws_seconds for inv in made),
                        aws_backend_s=sum(inv.aws_backend_seconds for inv in made),
                        http_phase_s=sum(clock.during(inv) for inv in made),
                        aws_calls=sum(sum(inv.aws_calls.values()) for inv in made),
                    )
                )
        finally:
            baseline.close()
    return ThroughputResult(runs, connections, stack.first_invocation.get("DispatchFunction", 0.0) * 1000)


# --- benchmark 2: billed ms per delivery -----------------------------------------------------------------


def _billed(seconds: float) -> int:
    """Lambda bills whole milliseconds, rounded up."""
    return math.ceil(seconds * 1000)


@dataclass
class BilledRound:
    """``ROUND_EVENTS`` events, each to ``ENDPOINTS`` endpoints: every dispatch invocation it took."""

    invocations: list[tuple[Invocation, int]]  # with the deliveries each made
    baseline_s: float  # the same bodies, posted by the bare session
    http_phase_s: float

    @property
    def deliveries(self) -> int:
        return sum(posts for _, posts in self.invocations)

    @property
    def billed_ms(self) -> int:
        return sum(_billed(inv.seconds) for inv, _ in self.invocations)

    @property
    def billed_ms_without_moto(self) -> int:
        return sum(_billed(inv.seconds - inv.aws_backend_seconds) for inv, _ in self.invocations)


@dataclass
class BilledResult:
    rounds: list[BilledRound]
    receiver_delay_ms: float = RECEIVER_DELAY_S * 1000
    calls: Counter[str] = field(default_factory=Counter)

    def _median(self, values: list[float]) -> float:
        return statistics.median(values)

    @property
    def per_delivery_ms(self) -> float:
        """Every dispatch invocation's billed ms over the deliveries made: what a delivery costs."""
        return self._median([r.billed_ms / r.deliveries for r in self.rounds])

    @property
    def delivering_per_delivery_ms(self) -> float:
        """Billed ms over deliveries of the invocations that delivered anything (the figure recorded
        before 2026-11-30, when it was measured on prepared batches of 10 deliveries)."""
        return self._median(
            [_billed(inv.seconds) / posts for r in self.rounds for inv, posts in r.invocations if posts]
        )

    @property
    def baseline_per_delivery_ms(self) -> float:
        return self._median([_billed(r.baseline_s) / r.deliveries for r in self.rounds])

    @property
    def ratio(self) -> float:
        return self.per_delivery_ms / self.baseline_per_delivery_ms

    @property
    def floor_per_delivery_ms(self) -> float:
        return self.receiver_delay_ms / CONCURRENCY

    @property
    def per_delivery_without_moto_ms(self) -> float:
        """With moto's in-process serving taken out. Real AWS calls cost network time instead (single-digit
        ms each in-region), so this is a lower bound, not a forecast."""
        return self._median([r.billed_ms_without_moto / r.deliveries for r in self.rounds])

    @property
    def invocations_per_round(self) -> float:
        return self._median([float(len(r.invocations)) for r in self.rounds])

    @property
    def http_phase_per_delivery_ms(self) -> float:
        return self._median([r.http_phase_s * 1000 / r.deliveries for r in self.rounds])

    def calls_per_delivery(self) -> dict[str, float]:
        deliveries = sum(r.deliveries for r in self.rounds)
        return {name: count / deliveries for name, count in sorted(self.calls.items())}

    def as_json(self) -> dict[str, Any]:
        return {
            "events_per_round": ROUND_EVENTS,
            "endpoints": ENDPOINTS,
            "receiver_delay_ms": self.receiver_delay_ms,
            "billed_ms_per_delivery": self.per_delivery_ms,
            "billed_ms_per_delivery_delivering_invocations": self.delivering_per_delivery_ms,
            "goal_ms_per_delivery": GOAL_BILLED_MS,
            "baseline_billed_ms_per_delivery": self.baseline_per_delivery_ms,
            "ratio_to_baseline": self.ratio,
            "floor_ms_per_delivery": self.floor_per_delivery_ms,
            "billed_ms_per_delivery_without_moto": self.per_delivery_without_moto_ms,
            "dispatch_invocations_per_round": self.invocations_per_round,
            "http_phase_ms_per_delivery": self.http_phase_per_delivery_ms,
            "aws_calls_per_delivery": self.calls_per_delivery(),
            "rounds": [
                {
                    "billed_ms": r.billed_ms,
                    "deliveries": r.deliveries,
                    "baseline_billed_ms": _billed(r.baseline_s),
                    "invocations": [[_billed(inv.seconds), posts] for inv, posts in r.invocations],
                }
                for r in self.rounds
            ],
        }


def billed(stack: Stack, rounds: int) -> BilledResult:
    result = BilledResult([])
    clock = HttpClock()
    with ReceiverProcess(delay=RECEIVER_DELAY_S) as receiver, clock.installed():
        workload = Workload(stack, receiver)
        baseline = BareSender()
        try:
            warm = workload.send(ROUND_EVENTS)  # a warm container, connections open, on both sides
            workload.deliver(len(warm))
            baseline.run(warm)
            for index in range(rounds):
                targets = workload.send(ROUND_EVENTS)
                expected = receiver.stats()["posts"] + len(targets)
                if index % 2:
                    baseline_s = baseline.run(targets)
                    made = workload.deliver(expected + len(targets), track=True)
                else:
                    made = workload.deliver(expected, track=True)
                    baseline_s = baseline.run(targets)
                http = sum(clock.during(inv) for inv, _ in made)
                result.rounds.append(BilledRound(made, baseline_s, http))
                for invocation, _ in made:
                    result.calls.update(invocation.aws_calls)
        finally:
            baseline.close()
    failed = sum(len(inv.failed_ids) for r in result.rounds for inv, _ in r.invocations)
    if failed:
        raise RuntimeError(f"{failed} deliveries failed during the benchmark")
    return result


# --- context for benchmark 2: the failure path -----------------------------------------------------------


@dataclass
class FailurePathResult:
    """Event after event to the same 10 endpoints, which all answer HTTP 500 at once."""

    invocations: list[tuple[Invocation, int]]  # every dispatch invocation, with the posts it made

    def as_json(self) -> dict[str, Any]:
        return {
            "invocations": [
                {
                    "handler_ms": inv.seconds * 1000,
                    "posts": posts,
                    "aws_calls": sum(inv.aws_calls.values()),
                    "aws_calls_by_operation": dict(sorted(inv.aws_calls.items())),
                    "aws_ms": inv.aws_seconds * 1000,
                    "records_reported_failed": len(inv.failed_ids),
                }
                for inv, posts in self.invocations
            ]
        }


def failure_path(stack: Stack, events: int) -> FailurePathResult:
    """How dispatch's AWS calls grow when endpoints fail: health counters, then the circuit breaker
    opening (with alerts), then deferrals. Each event goes to the same 10 failing endpoints."""
    made: list[tuple[Invocation, int]] = []
    with ReceiverProcess(status=500) as receiver:
        workload = Workload(stack, receiver)
        for _ in range(events):
            workload.send(1)
            made += workload.deliver(None, track=True)  # deferred deliveries are not posted
    return FailurePathResult(made)
