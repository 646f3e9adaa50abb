"""Benchmarks 1 and 2: dispatch throughput against a bare ``requests.Session``, and Lambda-billed ms per
delivery for a batch of 10 against a receiver that answers in 100 ms.

Both run the real dispatch handler in-process on template.yaml deployed into moto (``bench.harness``),
against receivers in a child process on 127.0.0.1 (``bench.receiver``). Only the handler is timed:
seeding events, queueing and receiving jobs happen before the clock starts. Each figure has a baseline
from the same run: a bare ``requests.Session`` posting the same bodies to the same receiver from
``CONCURRENCY`` threads. Hookline and baseline runs alternate, so drift on a shared machine hits both.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import requests

from bench.harness import BenchStack, Invocation, Workload
from bench.receiver import ReceiverProcess

CONCURRENCY = 10  # the dispatch function's MaxConcurrentDeliveries default, and the baseline's threads
ENDPOINTS = 10
RECEIVER_DELAY_S = 0.100
WARMUP_BATCHES = 5
GOAL_RATIO = 0.9
GOAL_BILLED_MS = 15.0


# --- the baseline ----------------------------------------------------------------------------------------


class BareSender:
    """A bare ``requests.Session`` posting from ``CONCURRENCY`` threads: the HTTP transport's own cost."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.pool = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="baseline")

    def close(self) -> None:
        self.pool.shutdown()
        self.session.close()

    def _post(self, target: tuple[str, bytes]) -> int:
        url, body = target
        response = self.session.post(
            url, data=body, headers={"content-type": "application/json"}, timeout=5, allow_redirects=False
        )
        response.content  # noqa: B018 - read the (empty) body, as the sender reads its excerpt
        return response.status_code

    def run(self, targets: list[tuple[str, bytes]]) -> float:
        """Post every body, ``CONCURRENCY`` at a time; returns the wall seconds."""
        started = time.perf_counter()
        statuses = list(self.pool.map(self._post, targets))
        elapsed = time.perf_counter() - started
        if any(status != 200 for status in statuses):
            raise RuntimeError("the baseline got non-200 answers")
        return elapsed

    def run_batches(self, workload: Workload) -> float:
        """Post batch by batch, each waiting for its slowest request (as a dispatch batch does)."""
        return sum(self.run(batch.targets) for batch in workload.batches)


# --- benchmark 1: throughput -----------------------------------------------------------------------------


@dataclass
class ThroughputRun:
    deliveries: int
    batches: int
    hookline_s: float  # the handler's wall time, summed over the run's batches
    baseline_s: float
    baseline_batched_s: float  # the same posts with a barrier every batch
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
    def http_phase_ratio(self) -> float:
        """The concurrent HTTP phase alone (no AWS calls, no powertools) over the baseline."""
        return self.baseline_s / self.http_phase_s

    @property
    def batched_baseline_ratio(self) -> float:
        """The baseline held to batches of 10 over the free-running baseline: what the barrier costs."""
        return self.baseline_s / self.baseline_batched_s

    def per_batch_ms(self) -> dict[str, float]:
        def ms(seconds: float) -> float:
            return seconds * 1000 / self.batches

        return {
            "handler": ms(self.hookline_s),
            "aws_calls": self.aws_calls / self.batches,
            "aws": ms(self.aws_s),
            "aws_moto_backend": ms(self.aws_backend_s),
            "aws_client_side": ms(self.aws_s - self.aws_backend_s),
            "http_phase": ms(self.http_phase_s),
            "other": ms(self.hookline_s - self.aws_s - self.http_phase_s),
            "baseline_per_batch": ms(self.baseline_s),
            "baseline_batched_per_batch": ms(self.baseline_batched_s),
        }


@dataclass
class ThroughputResult:
    runs: list[ThroughputRun]
    connections_opened: int  # new ones, by hookline, during the timed runs (the receiver counts them)

    @property
    def median_run(self) -> ThroughputRun:
        return sorted(self.runs, key=lambda run: run.ratio)[len(self.runs) // 2]

    @property
    def ratio(self) -> float:
        return statistics.median(run.ratio for run in self.runs)

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
            "goal_ratio": GOAL_RATIO,
            "http_phase_ratio": self.http_phase_ratio,
            "batched_baseline_ratio": self.batched_baseline_ratio,
            "per_batch_ms_median_run": self.median_run.per_batch_ms(),
            "connections_opened": self.connections_opened,
            "runs": [
                asdict(run) | {"ratio": run.ratio, "hookline_per_s": run.hookline_per_s} for run in self.runs
            ],
        }


def _run_hookline(stack: BenchStack, workload: Workload) -> list[Invocation]:
    invocations = [stack.invoke(batch.event) for batch in workload.batches]
    failed = sum(invocation.failures for invocation in invocations)
    if failed:
        raise RuntimeError(f"{failed} deliveries failed during the benchmark")
    return invocations


def _check_received(receiver: ReceiverProcess, signed: int, unsigned: int = 0) -> dict[str, int]:
    """Every webhook arrived, signed, and the baseline's posts too."""
    stats = receiver.stats()
    if stats["signed"] != signed or stats["posts"] != signed + unsigned:
        raise RuntimeError(f"the receiver saw {stats}; expected {signed} signed and {unsigned} other posts")
    return stats


def throughput(stack: BenchStack, deliveries: int, repeats: int) -> ThroughputResult:
    runs: list[ThroughputRun] = []
    connections = 0
    with ReceiverProcess() as receiver:
        tenant = stack.create_endpoints(receiver.url, ENDPOINTS)
        baseline = BareSender()
        try:
            # Warm containers on both sides: both keep their threads and connections between runs.
            warmup = stack.prepare_deliveries(tenant, WARMUP_BATCHES * stack.batch_size)
            _run_hookline(stack, warmup)
            baseline.run(warmup.targets)
            sides = ["hookline", "baseline", "batched"]
            for repeat in range(repeats):
                workload = stack.prepare_deliveries(tenant, deliveries)
                invocations: list[Invocation] = []
                seconds: dict[str, float] = {}
                for side in sides[repeat % 3 :] + sides[: repeat % 3]:  # rotate who goes first
                    if side == "hookline":
                        receiver.reset()
                        invocations = _run_hookline(stack, workload)
                        connections += _check_received(receiver, workload.deliveries)["connections"]
                    elif side == "baseline":
                        seconds[side] = baseline.run(workload.targets)
                    else:
                        seconds[side] = baseline.run_batches(workload)
                runs.append(
                    ThroughputRun(
                        deliveries=workload.deliveries,
                        batches=len(invocations),
                        hookline_s=sum(inv.seconds for inv in invocations),
                        baseline_s=seconds["baseline"],
                        baseline_batched_s=seconds["batched"],
                        aws_s=sum(inv.aws_seconds for inv in invocations),
                        aws_backend_s=sum(inv.aws_backend_seconds for inv in invocations),
                        http_phase_s=sum(inv.http_phase_seconds for inv in invocations),
                        aws_calls=sum(sum(inv.aws_calls.values()) for inv in invocations),
                    )
                )
        finally:
            baseline.close()
    return ThroughputResult(runs, connections)


# --- benchmark 2: billed ms per delivery -----------------------------------------------------------------


def _billed(seconds: float) -> int:
    """Lambda bills whole milliseconds, rounded up."""
    return math.ceil(seconds * 1000)


@dataclass
class BilledResult:
    invocations: list[Invocation]
    baseline_s: list[float]  # the same batches' bodies, posted by the bare session
    batch_size: int
    cold_first_invocation_ms: float
    receiver_delay_ms: float = RECEIVER_DELAY_S * 1000

    @property
    def per_delivery_ms(self) -> float:
        return statistics.median(_billed(inv.seconds) / self.batch_size for inv in self.invocations)

    @property
    def baseline_per_delivery_ms(self) -> float:
        return statistics.median(_billed(seconds) / self.batch_size for seconds in self.baseline_s)

    @property
    def ratio(self) -> float:
        """Hookline's billed ms over the baseline's: 1.0 would mean no overhead beyond the HTTP itself."""
        return self.per_delivery_ms / self.baseline_per_delivery_ms

    @property
    def floor_per_delivery_ms(self) -> float:
        return self.receiver_delay_ms / self.batch_size

    def _median_ms(self, seconds: list[float]) -> float:
        return statistics.median(value * 1000 for value in seconds)

    @property
    def handler_ms(self) -> float:
        return self._median_ms([inv.seconds for inv in self.invocations])

    @property
    def http_phase_ms(self) -> float:
        return self._median_ms([inv.http_phase_seconds for inv in self.invocations])

    @property
    def aws_ms(self) -> float:
        return self._median_ms([inv.aws_seconds for inv in self.invocations])

    @property
    def aws_backend_ms(self) -> float:
        return self._median_ms([inv.aws_backend_seconds for inv in self.invocations])

    @property
    def aws_calls(self) -> float:
        return statistics.median(sum(inv.aws_calls.values()) for inv in self.invocations)

    @property
    def per_delivery_without_moto_ms(self) -> float:
        """Billed ms per delivery with moto's share of the AWS calls taken out. Real AWS calls cost
        network time instead (single-digit ms each in-region), so this is a lower bound, not a forecast."""
        return statistics.median(
            _billed(inv.seconds - inv.aws_backend_seconds) / self.batch_size for inv in self.invocations
        )

    def calls_per_batch(self) -> dict[str, float]:
        total: Counter[str] = Counter()
        for invocation in self.invocations:
            total.update(invocation.aws_calls)
        return {name: count / len(self.invocations) for name, count in sorted(total.items())}

    def as_json(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "receiver_delay_ms": self.receiver_delay_ms,
            "billed_ms_per_delivery": self.per_delivery_ms,
            "goal_ms_per_delivery": GOAL_BILLED_MS,
            "baseline_billed_ms_per_delivery": self.baseline_per_delivery_ms,
            "ratio_to_baseline": self.ratio,
            "floor_ms_per_delivery": self.floor_per_delivery_ms,
            "billed_ms_per_batch": [_billed(inv.seconds) for inv in self.invocations],
            "baseline_billed_ms_per_batch": [_billed(seconds) for seconds in self.baseline_s],
            "handler_ms": self.handler_ms,
            "http_phase_ms": self.http_phase_ms,
            "aws_calls_per_batch": self.aws_calls,
            "aws_calls_by_operation": self.calls_per_batch(),
            "aws_ms_per_batch": self.aws_ms,
            "aws_moto_backend_ms_per_batch": self.aws_backend_ms,
            "billed_ms_per_delivery_without_moto": self.per_delivery_without_moto_ms,
            "cold_first_invocation_ms": self.cold_first_invocation_ms,
        }


def billed(stack: BenchStack, batches: int) -> BilledResult:
    with ReceiverProcess(delay=RECEIVER_DELAY_S) as receiver:
        tenant = stack.create_endpoints(receiver.url, stack.batch_size)
        workload = stack.prepare_deliveries(tenant, (batches + 2) * stack.batch_size)
        cold, warm, *timed = workload.batches
        baseline = BareSender()
        try:
            # The first batch of a new container builds its clients and pools and opens its connections.
            cold_ms = stack.invoke_cold(cold.event) * 1000
            stack.invoke(warm.event)
            baseline.run(warm.targets)
            invocations: list[Invocation] = []
            baseline_s: list[float] = []
            for index, batch in enumerate(timed):
                if index % 2:
                    baseline_s.append(baseline.run(batch.targets))
                    invocations.append(stack.invoke(batch.event))
                else:
                    invocations.append(stack.invoke(batch.event))
                    baseline_s.append(baseline.run(batch.targets))
        finally:
            baseline.close()
        failed = sum(invocation.failures for invocation in invocations)
        if failed:
            raise RuntimeError(f"{failed} deliveries failed during the benchmark")
        _check_received(receiver, workload.deliveries, workload.deliveries - len(cold.targets))
    return BilledResult(invocations, baseline_s, stack.batch_size, cold_ms)


# --- context for benchmark 2: the failure path -----------------------------------------------------------


@dataclass
class FailurePathResult:
    """Batch after batch of one delivery to each of 10 endpoints that all answer HTTP 500 at once."""

    invocations: list[Invocation]

    def as_json(self) -> dict[str, Any]:
        return {
            "batches": [
                {
                    "handler_ms": inv.seconds * 1000,
                    "aws_calls": sum(inv.aws_calls.values()),
                    "aws_calls_by_operation": dict(sorted(inv.aws_calls.items())),
                    "aws_ms": inv.aws_seconds * 1000,
                    "records_reported_failed": inv.failures,
                }
                for inv in self.invocations
            ]
        }


def failure_path(stack: BenchStack, batches: int) -> FailurePathResult:
    """How a batch's AWS calls grow when its endpoints fail: health counters, then the circuit breaker
    opening (with alerts), then deferrals. Each batch is one new event fanned out to the same 10 endpoints."""
    invocations: list[Invocation] = []
    with ReceiverProcess(status=500) as receiver:
        tenant = stack.create_endpoints(receiver.url, stack.batch_size)
        for _ in range(batches):
            [batch] = stack.prepare_deliveries(tenant, stack.batch_size).batches
            invocations.append(stack.invoke(batch.event))
    return FailurePathResult(invocations)
