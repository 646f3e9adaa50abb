"""``python -m bench``: run the benchmarks, print a table, write JSON.

    .venv/bin/python -m bench                  # every benchmark (a few minutes)
    .venv/bin/python -m bench --quick          # fewer deliveries, samples and events
    .venv/bin/python -m bench --only cost      # the cost model alone (bench/cost.py)
    .venv/bin/python -m bench --only billed --rounds 10

1. dispatch throughput, as a ratio to a bare ``requests.Session`` (bench.dispatch_bench);
2. Lambda-billed ms per delivery against a 100 ms receiver, and (2b) the AWS calls dispatch makes when
   its endpoints fail;
3. each handler's import time in a fresh process next to ``import boto3`` (bench.coldstart);
4. the cost model: $ per million events by service, per scenario, beside EventBridge API destinations
   (bench.cost). Its last lines, one per scenario, end the output;
5. noisy neighbours: a quiet tenant's p50/p95 to delivery through the local stack (from before its POST and
   from its 202), alone and beside a flood, a slow, a hanging and a failing endpoint of another tenant,
   and beside nothing but CPU-bound processes (the control), one ``noisy: ...`` line per scenario
   (bench.noisy_bench). ``--no-fair-queues`` runs it without the local SQS fair queues.

Every timing is compared with a baseline measured in the same run. The figures also go to
bench/results/latest.json. The local stack has its own benchmark: ``python -m bench.local_stack_bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

# bench._lambda_env prepares the process (sys.path, powertools' environment) before hookline is imported.
import bench._lambda_env  # noqa: F401
from bench import coldstart, cost, dispatch_bench, noisy_bench
from bench.coldstart import BASELINE, GOAL_MARGIN_MS, ImportTimes
from bench.dispatch_bench import (
    GOAL_BILLED_MS,
    GOAL_RATIO,
    ROUND_EVENTS,
    BilledResult,
    FailurePathResult,
    ThroughputResult,
)
from bench.dispatch_workload import CONCURRENCY, ENDPOINTS
from bench.lambda_stack import Stack, deployed_stack

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "bench" / "results" / "latest.json"
BENCHMARKS = ("throughput", "billed", "failures", "coldstart", "cost", "noisy")
ON_THE_STACK = ("throughput", "billed", "failures", "coldstart")  # what needs the deployed stack here


@dataclass(frozen=True)
class Settings:
    only: tuple[str, ...]
    quick: bool
    deliveries: int
    repeats: int
    rounds: int
    failure_events: int
    import_repeats: int
    cost_events: int | None
    intercept_requests: bool
    fair_queues: bool
    output: Path | None


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer deliveries, runs and samples")
    parser.add_argument(
        "--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--deliveries", type=int, help="deliveries per throughput run (default 400)")
    parser.add_argument("--repeats", type=int, help="throughput runs; the median is reported (default 3)")
    parser.add_argument(
        "--rounds",
        type=int,
        help=f"timed rounds of {ROUND_EVENTS} events to {ENDPOINTS} endpoints for billed ms (default 6)",
    )
    parser.add_argument(
        "--failure-events",
        type=int,
        help="events sent to failing endpoints (default 7: the breaker opens at 5)",
    )
    parser.add_argument("--import-repeats", type=int, help="fresh processes per module (default 5)")
    parser.add_argument(
        "--cost-events", type=int, help="events per cost scenario (default 300, fanout10 150; quick 100/50)"
    )
    parser.add_argument(
        "--moto-intercepts-requests",
        action="store_true",
        help="keep moto's `responses` patch on requests' transport (off by default: Lambda has none)",
    )
    parser.add_argument(
        "--no-fair-queues",
        action="store_true",
        help="noisy: the local stack plays no SQS fair queues (to see what they change)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON")
    parser.add_argument("--no-output", action="store_true", help="print only; write no JSON")
    args = parser.parse_args(argv)
    quick = args.quick
    settings = Settings(
        only=tuple(args.only or BENCHMARKS),
        quick=quick,
        deliveries=args.deliveries or (150 if quick else 400),
        repeats=args.repeats or (2 if quick else 3),
        rounds=args.rounds or (3 if quick else 6),
        failure_events=args.failure_events or 7,
        import_repeats=args.import_repeats or (3 if quick else 5),
        cost_events=args.cost_events,
        intercept_requests=args.moto_intercepts_requests,
        fair_queues=not args.no_fair_queues,
        output=None if args.no_output else args.output,
    )
    counts = (settings.deliveries, settings.repeats, settings.rounds, settings.failure_events)
    if min(*counts, settings.import_repeats, settings.cost_events or 1) < 1:
        parser.error("counts must be positive")
    return settings


# --- the table -----------------------------------------------------------------------------------------


class Table:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def section(self, title: str) -> None:
        self.lines += ["", title, "-" * len(title)]

    def row(self, label: str, value: str, goal: str = "", verdict: str = "") -> None:
        self.lines.append(f"  {label:<50} {value:>10}  {goal:<14} {verdict}".rstrip())

    def note(self, text: str) -> None:
        self.lines.append(f"  {text}")

    def render(self) -> str:
        return "\n".join(self.lines)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _throughput_rows(table: Table, result: ThroughputResult) -> None:
    run = result.median_run
    per = run.per_invocation_ms()
    table.section(
        f"1. Dispatch throughput: {run.deliveries} deliveries ({ENDPOINTS} endpoints per event) x "
        f"{len(result.runs)} runs; receiver answers 200 at once; median of runs"
    )
    table.row("hookline: dispatch handler (all its invocations)", f"{result.hookline_per_s:,.0f} /s")
    table.row(f"baseline: bare requests.Session, {CONCURRENCY} threads", f"{result.baseline_per_s:,.0f} /s")
    table.row(
        "ratio hookline / baseline",
        f"{result.ratio:.2f}",
        f">= {GOAL_RATIO}",
        _verdict(result.ratio >= GOAL_RATIO),
    )
    table.row("  only the invocations that delivered / baseline", f"{result.delivering_ratio:.2f}")
    table.row("  HTTP phases alone / baseline", f"{result.http_phase_ratio:.2f}")
    table.row("  baseline held to groups of 10 / baseline", f"{result.batched_baseline_ratio:.2f}")
    table.row(f"  dispatch invocations (median run: {run.invocations}), each", f"{per['handler']:.1f} ms")
    table.row(f"    AWS calls ({per['aws_calls']:.1f})", f"{per['aws']:.1f} ms")
    table.row("      of which moto serving them in-process", f"{per['aws_moto_backend']:.1f} ms")
    table.row("      of which botocore (serialize, sign, parse)", f"{per['aws_client_side']:.1f} ms")
    table.row("    HTTP requests in flight", f"{per['http_phase']:.1f} ms")
    table.row("    the rest (parse, plan, settle, log, powertools)", f"{per['other']:.1f} ms")
    table.row("  new TCP connections hookline opened while timed", f"{result.connections_opened}")
    table.row(
        "  first dispatch invocation in this process (cold)", f"{result.cold_first_invocation_ms:.0f} ms"
    )


def _billed_rows(table: Table, result: BilledResult) -> None:
    table.section(
        f"2. Lambda-billed ms per delivery: rounds of {ROUND_EVENTS} events x {ENDPOINTS} endpoints, "
        f"receiver answers in {result.receiver_delay_ms:.0f} ms; median of {len(result.rounds)} warm rounds"
    )
    table.row(
        "hookline: billed ms per delivery, every invocation",
        f"{result.per_delivery_ms:.1f} ms",
        f"<= {GOAL_BILLED_MS:g} ms",
        _verdict(result.per_delivery_ms <= GOAL_BILLED_MS),
    )
    table.row("  only the invocations that delivered", f"{result.delivering_per_delivery_ms:.1f} ms")
    table.row(
        f"baseline: bare requests.Session, {CONCURRENCY} threads", f"{result.baseline_per_delivery_ms:.1f} ms"
    )
    table.row("ratio hookline / baseline (lower is better)", f"{result.ratio:.2f}")
    table.row(
        f"  floor ({result.receiver_delay_ms:.0f} ms / {CONCURRENCY} at a time)",
        f"{result.floor_per_delivery_ms:.1f} ms",
    )
    table.row("  dispatch invocations per round", f"{result.invocations_per_round:g}")
    table.row("  HTTP requests in flight, per delivery", f"{result.http_phase_per_delivery_ms:.1f} ms")
    calls = ", ".join(f"{name} {count:.2f}" for name, count in result.calls_per_delivery().items())
    table.note(f"  AWS calls per delivery: {calls}")
    table.row(
        "  billed ms per delivery without moto's share", f"{result.per_delivery_without_moto_ms:.1f} ms"
    )


def _failure_rows(table: Table, result: FailurePathResult) -> None:
    table.section(
        "2b. Failure path: one event after another to the same 10 endpoints, all answering 500; "
        "every dispatch invocation"
    )
    for number, (invocation, posts) in enumerate(result.invocations, 1):
        calls = ", ".join(
            f"{name.split(':')[1]} {count}" for name, count in sorted(invocation.aws_calls.items())
        )
        count, aws_ms = sum(invocation.aws_calls.values()), invocation.aws_seconds * 1000
        table.row(
            f"invocation {number}: {posts} posts, {count} AWS calls, {aws_ms:.0f} ms",
            f"{invocation.seconds * 1000:.0f} ms",
            f"({calls})",
        )
    table.note(
        "  (value: the handler's wall time; AWS calls are sequential, each a network round trip on AWS)"
    )


def _coldstart_rows(table: Table, result: ImportTimes) -> None:
    repeats = len(result.samples_ms[BASELINE])
    table.section(f"3. Cold start: import time in a fresh process; median of {repeats}")
    for row in result.rows:
        if row.label == BASELINE:
            table.row(f"{BASELINE} (baseline)", f"{result.median(BASELINE):.0f} ms")
            continue
        over = result.over_boto3(row.label)
        verdict = (
            f"{_verdict(over <= GOAL_MARGIN_MS)} (goal +{GOAL_MARGIN_MS:.0f})"
            if row.is_handler_import
            else ""
        )
        table.row(row.label, f"{result.median(row.label):.0f} ms", f"{over:+.0f} vs boto3", verdict)


# --- main ----------------------------------------------------------------------------------------------


def _meta(settings: Settings) -> dict[str, Any]:
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": {name: version(name) for name in ("boto3", "moto", "requests", "aws-lambda-powertools")},
        "settings": {
            "only": list(settings.only),
            "quick": settings.quick,
            "deliveries": settings.deliveries,
            "repeats": settings.repeats,
            "rounds": settings.rounds,
            "failure_events": settings.failure_events,
            "import_repeats": settings.import_repeats,
            "cost_events": settings.cost_events,
            "moto_intercepts_requests": settings.intercept_requests,
            "fair_queues": settings.fair_queues,
        },
    }


def _on_the_stack(stack: Stack, settings: Settings, table: Table, results: dict[str, Any]) -> None:
    if "throughput" in settings.only:
        _progress("throughput")
        throughput = dispatch_bench.throughput(stack, settings.deliveries, settings.repeats)
        results["throughput"] = throughput.as_json()
        _throughput_rows(table, throughput)
    if "billed" in settings.only:
        _progress("billed ms")
        billed = dispatch_bench.billed(stack, settings.rounds)
        results["billed"] = billed.as_json()
        _billed_rows(table, billed)
    if "failures" in settings.only:  # last: it leaves retries and deferrals in the queue
        _progress("failure path")
        failures = dispatch_bench.failure_path(stack, settings.failure_events)
        results["failure_path"] = failures.as_json()
        _failure_rows(table, failures)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    started = time.perf_counter()
    meta = _meta(settings)
    results: dict[str, Any] = {"meta": meta}
    table = Table()
    table.lines.append(
        f"Hookline bench: Python {meta['python']}, {meta['cpus']} CPUs, moto {meta['versions']['moto']} "
        "in-process, receivers in a child process on 127.0.0.1"
    )
    if any(name in settings.only for name in ON_THE_STACK):
        with deployed_stack(intercept_requests=settings.intercept_requests, keep_calls=False) as stack:
            _on_the_stack(stack, settings, table, results)
            function_envs = {name: dict(spec.environment) for name, spec in stack.deployed.functions.items()}
        if "coldstart" in settings.only:
            _progress("cold start")
            imports = coldstart.import_times(function_envs, settings.import_repeats)
            results["coldstart"] = imports.as_json()
            _coldstart_rows(table, imports)
    if settings.intercept_requests:
        table.lines += [
            "",
            "moto's `responses` patch was left on requests' transport (--moto-intercepts-requests)",
        ]
    if "noisy" in settings.only:
        _progress("noisy neighbours")
        noisy = noisy_bench.measure(quick=settings.quick, fair_queues=settings.fair_queues)
        results["noisy"] = noisy_bench.as_json(noisy)
        fairness = "with" if settings.fair_queues else "WITHOUT"
        table.section(
            f"5. Noisy neighbours: a quiet tenant's 202 -> delivery through the local stack, {fairness} "
            "its SQS fair queues (goal: ratio <= 2)"
        )
        table.lines += noisy_bench.report(noisy).splitlines()
    cost_report = ""
    if "cost" in settings.only:
        outcomes = cost.measure(events=settings.cost_events, quick=settings.quick)
        results["cost"] = cost.as_json(outcomes)
        cost_report = cost.report(outcomes)
    _progress("done")

    elapsed = time.perf_counter() - started
    meta["elapsed_s"] = elapsed
    table.lines += ["", f"({elapsed:.0f} s)"]
    if cost_report:  # last, so that the output ends with the cost lines scripts read
        table.lines += ["", "4. " + cost_report]
    print(table.render())
    if settings.output is not None:
        settings.output.parent.mkdir(parents=True, exist_ok=True)
        settings.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(f"figures written to {_shown(settings.output)}", file=sys.stderr)
    return 0


_STARTED = time.perf_counter()


def _progress(what: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:5.0f} s] {what} ...", file=sys.stderr, flush=True)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
