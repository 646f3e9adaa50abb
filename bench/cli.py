"""``python -m bench``: run the dispatch and cold-start benchmarks, print a table, write JSON.

    .venv/bin/python -m bench                  # every benchmark (about a minute)
    .venv/bin/python -m bench --quick          # fewer deliveries and samples (about 20 s)
    .venv/bin/python -m bench --what-if        # also candidate fixes, monkeypatched (about 70 s)
    .venv/bin/python -m bench --only billed --batches 20

1. dispatch throughput, as a ratio to a bare ``requests.Session`` (bench.dispatch_bench);
2. Lambda-billed ms per delivery for a batch of 10 against a 100 ms receiver, and (2b) the AWS calls a
   batch makes when its endpoints fail;
3. each handler's import time in a fresh process next to ``import boto3`` (bench.coldstart).

Every figure is compared with a baseline measured in the same run. The figures also go to
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

# bench.harness prepares the process (sys.path, powertools' environment) before anything imports hookline.
from bench import coldstart, dispatch_bench, what_if
from bench.coldstart import BASELINE, GOAL_MARGIN_MS, ImportTimes
from bench.dispatch_bench import (
    CONCURRENCY,
    GOAL_BILLED_MS,
    GOAL_RATIO,
    BilledResult,
    FailurePathResult,
    ThroughputResult,
)
from bench.harness import BenchStack, deployed_stack
from bench.receiver import ReceiverProcess

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "bench" / "results" / "latest.json"
BENCHMARKS = ("throughput", "billed", "failures", "coldstart")


@dataclass(frozen=True)
class Settings:
    only: tuple[str, ...]
    deliveries: int
    repeats: int
    batches: int
    failure_batches: int
    import_repeats: int
    intercept_requests: bool
    what_if: bool
    output: Path | None


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer deliveries, runs and samples")
    parser.add_argument(
        "--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--deliveries", type=int, help="deliveries per throughput run (default 400)")
    parser.add_argument("--repeats", type=int, help="throughput runs; the median is reported (default 3)")
    parser.add_argument("--batches", type=int, help="timed batches of 10 for billed ms (default 8)")
    parser.add_argument(
        "--failure-batches",
        type=int,
        help="batches against failing endpoints (default 7: the breaker opens at 5)",
    )
    parser.add_argument("--import-repeats", type=int, help="fresh processes per module (default 5)")
    parser.add_argument(
        "--moto-intercepts-requests",
        action="store_true",
        help="keep moto's `responses` patch on requests' transport (off by default: Lambda has none)",
    )
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="also measure candidate fixes, monkeypatched in the bench process (see bench/what_if.py)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON")
    parser.add_argument("--no-output", action="store_true", help="print only; write no JSON")
    args = parser.parse_args(argv)
    quick = args.quick
    settings = Settings(
        only=tuple(args.only or BENCHMARKS),
        deliveries=args.deliveries or (150 if quick else 400),
        repeats=args.repeats or (2 if quick else 3),
        batches=args.batches or (4 if quick else 8),
        failure_batches=args.failure_batches or 7,
        import_repeats=args.import_repeats or (3 if quick else 5),
        intercept_requests=args.moto_intercepts_requests,
        what_if=args.what_if,
        output=None if args.no_output else args.output,
    )
    counts = (settings.deliveries, settings.repeats, settings.batches, settings.failure_batches)
    if min(*counts, settings.import_repeats) < 1:
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


def _throughput_rows(table: Table, result: ThroughputResult, *, title: bool = True) -> None:
    run = result.median_run
    batch = run.per_batch_ms()
    if title:
        table.section(
            f"1. Dispatch throughput: {run.deliveries} deliveries x {len(result.runs)} runs in batches "
            "of 10; receiver answers 200 at once; median of runs"
        )
    table.row("hookline: dispatch handler", f"{result.hookline_per_s:,.0f} /s")
    table.row(f"baseline: bare requests.Session, {CONCURRENCY} threads", f"{result.baseline_per_s:,.0f} /s")
    table.row(
        "ratio hookline / baseline",
        f"{result.ratio:.2f}",
        f">= {GOAL_RATIO}",
        _verdict(result.ratio >= GOAL_RATIO),
    )
    table.row("  HTTP phase alone / baseline", f"{result.http_phase_ratio:.2f}")
    table.row("  baseline held to batches of 10 / baseline", f"{result.batched_baseline_ratio:.2f}")
    table.row("  per batch of 10 (median run): handler", f"{batch['handler']:.1f} ms")
    table.row(f"    AWS calls ({batch['aws_calls']:g})", f"{batch['aws']:.1f} ms")
    table.row("      of which moto serving them in-process", f"{batch['aws_moto_backend']:.1f} ms")
    table.row("      of which botocore (serialize, sign, parse)", f"{batch['aws_client_side']:.1f} ms")
    table.row("    concurrent HTTP phase (sign + send 10)", f"{batch['http_phase']:.1f} ms")
    table.row("    the rest (parse, plan, settle, log, powertools)", f"{batch['other']:.1f} ms")
    table.row("  baseline: same 10 deliveries", f"{batch['baseline_per_batch']:.1f} ms")
    table.row("  baseline, held to batches of 10", f"{batch['baseline_batched_per_batch']:.1f} ms")
    table.row("  new TCP connections hookline opened while timed", f"{result.connections_opened}")


def _billed_rows(table: Table, result: BilledResult, *, title: bool = True) -> None:
    if title:
        table.section(
            f"2. Lambda-billed ms per delivery: batch of {result.batch_size}, receiver answers in "
            f"{result.receiver_delay_ms:.0f} ms; median of {len(result.invocations)} warm batches"
        )
    table.row(
        "hookline: billed ms per delivery",
        f"{result.per_delivery_ms:.1f} ms",
        f"<= {GOAL_BILLED_MS:g} ms",
        _verdict(result.per_delivery_ms <= GOAL_BILLED_MS),
    )
    table.row(
        f"baseline: bare requests.Session, {CONCURRENCY} threads", f"{result.baseline_per_delivery_ms:.1f} ms"
    )
    table.row("ratio hookline / baseline (lower is better)", f"{result.ratio:.2f}")
    table.row(
        f"  floor ({result.receiver_delay_ms:.0f} ms / {result.batch_size})",
        f"{result.floor_per_delivery_ms:.1f} ms",
    )
    table.row("  handler wall time per batch", f"{result.handler_ms:.1f} ms")
    table.row("    concurrent HTTP phase", f"{result.http_phase_ms:.1f} ms")
    table.row(f"    AWS calls ({result.aws_calls:g})", f"{result.aws_ms:.1f} ms")
    table.row("      of which moto serving them in-process", f"{result.aws_backend_ms:.1f} ms")
    calls = ", ".join(f"{name} x{count:g}" for name, count in result.calls_per_batch().items())
    table.note(f"      ({calls})")
    table.row(
        "  billed ms per delivery without moto's share", f"{result.per_delivery_without_moto_ms:.1f} ms"
    )
    table.row("  first batch of a new container (whole batch)", f"{result.cold_first_invocation_ms:.0f} ms")


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


def _what_if_rows(
    table: Table,
    per_request: dict[str, float],
    throughput: ThroughputResult | None,
    billed: BilledResult | None,
) -> None:
    table.section("What-if: AttemptDeadline on one shared watchdog thread (monkeypatched in this process)")
    bare = per_request["bare_requests_session"]
    table.row("one thread, sequential POSTs: bare requests.Session", f"{bare:.0f} us")
    for name, label in (
        ("webhook_sender", "  WebhookSender.send, as it is"),
        ("webhook_sender_shared_watchdog", "  WebhookSender.send, shared watchdog"),
    ):
        table.row(label, f"{per_request[name]:.0f} us", f"x{per_request[name] / bare:.2f} bare")
    if throughput is not None:
        _throughput_rows(table, throughput, title=False)
    if billed is not None:
        _billed_rows(table, billed, title=False)


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
            "deliveries": settings.deliveries,
            "repeats": settings.repeats,
            "batches": settings.batches,
            "failure_batches": settings.failure_batches,
            "import_repeats": settings.import_repeats,
            "moto_intercepts_requests": settings.intercept_requests,
            "what_if": settings.what_if,
        },
    }


@dataclass
class DispatchFigures:
    throughput: ThroughputResult | None = None
    billed: BilledResult | None = None
    failures: FailurePathResult | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "throughput": self.throughput.as_json() if self.throughput else None,
            "billed": self.billed.as_json() if self.billed else None,
            "failure_path": self.failures.as_json() if self.failures else None,
        }


def _dispatch_figures(stack: BenchStack, settings: Settings, label: str = "") -> DispatchFigures:
    figures = DispatchFigures()
    if "throughput" in settings.only:
        _progress(f"{label}throughput")
        figures.throughput = dispatch_bench.throughput(stack, settings.deliveries, settings.repeats)
    if "billed" in settings.only:
        _progress(f"{label}billed ms")
        figures.billed = dispatch_bench.billed(stack, settings.batches)
    return figures


def _failure_rows(table: Table, result: FailurePathResult) -> None:
    table.section(
        f"2b. Failure path: {len(result.invocations)} batches in a row, each one delivery to each of the "
        "same 10 endpoints, all answering 500"
    )
    for number, invocation in enumerate(result.invocations, 1):
        calls = ", ".join(
            f"{name.split(':')[1]} {count}" for name, count in sorted(invocation.aws_calls.items())
        )
        count, aws_ms = sum(invocation.aws_calls.values()), invocation.aws_seconds * 1000
        table.row(
            f"batch {number}: {count} AWS calls, {aws_ms:.0f} ms",
            f"{invocation.seconds * 1000:.0f} ms",
            f"({calls})",
        )
    table.note(
        "  (value: the handler's wall time; AWS calls are sequential, each a network round trip on AWS)"
    )


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

    patched: DispatchFigures | None = None
    per_request: dict[str, float] = {}
    with deployed_stack(intercept_requests=settings.intercept_requests) as stack:
        figures = _dispatch_figures(stack, settings)
        if settings.what_if:
            _progress("what-if, shared watchdog: sequential sender")
            with ReceiverProcess() as receiver:
                per_request = what_if.sender_per_request(receiver.url + "/hook")
            with what_if.shared_watchdog():
                patched = _dispatch_figures(stack, settings, "what-if, shared watchdog: ")
        if "failures" in settings.only:  # last: it leaves retries and deferrals in the queue
            _progress("failure path")
            figures.failures = dispatch_bench.failure_path(stack, settings.failure_batches)
        function_envs = {name: dict(spec.environment) for name, spec in stack.deployed.functions.items()}
    results |= {key: value for key, value in figures.as_json().items() if value is not None}
    if figures.throughput:
        _throughput_rows(table, figures.throughput)
    if figures.billed:
        _billed_rows(table, figures.billed)
    if figures.failures:
        _failure_rows(table, figures.failures)

    if "coldstart" in settings.only:
        _progress("cold start")
        imports = coldstart.import_times(function_envs, settings.import_repeats, what_if=settings.what_if)
        results["coldstart"] = imports.as_json()
        _coldstart_rows(table, imports)

    if patched is not None:
        results["what_if_shared_watchdog"] = patched.as_json() | {"sender_us_per_request": per_request}
        _what_if_rows(table, per_request, patched.throughput, patched.billed)
    _progress("done")
    if settings.intercept_requests:
        table.lines += [
            "",
            "moto's `responses` patch was left on requests' transport (--moto-intercepts-requests)",
        ]

    elapsed = time.perf_counter() - started
    meta["elapsed_s"] = elapsed
    table.lines += ["", f"({elapsed:.0f} s)"]
    print(table.render())
    if settings.output is not None:
        settings.output.parent.mkdir(parents=True, exist_ok=True)
        settings.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(f"figures written to {_shown(settings.output)}")
    return 0


_STARTED = time.perf_counter()


def _progress(what: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:5.0f} s] {what} ...", file=sys.stderr, flush=True)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
