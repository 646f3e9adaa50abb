"""``python -m tests.chaos [--full]``: the chaos run (``make chaos``, ``make chaos ARGS=--full``).

N events x 3 endpoints per event (healthy; flaky: ~30% of first attempts fail with 500, 503 +
Retry-After, a reset connection or no answer, ~2% of events fail every attempt; slow) through the local
stack, beside a noisy tenant flooding a slow endpoint of its own with N / 2 events (in batches), with
dispatch workers SIGKILLed during the run and a share of the functions' AWS calls answered with
throttling errors and 500s. Every (event, endpoint) pair must end delivered with a valid signature,
or failed and reported (API and SNS alert). Exits 1 unless lost, stuck, unexplained duplicates, bad
signatures, status mismatches and unexpected events are all 0.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from tests.chaos.run import ChaosRun, RunConfig, print_report, write_report

DEFAULT = RunConfig()
FULL_EVENTS = 3_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--full", action="store_true", help=f"N = {FULL_EVENTS:,} events (default {DEFAULT.events})"
    )
    parser.add_argument("--events", type=int, help="N, the number of events")
    parser.add_argument("--tenants", type=int, default=DEFAULT.tenants)
    parser.add_argument(
        "--aws-faults", type=float, default=DEFAULT.aws_fault_rate, help="share of AWS calls faulted"
    )
    parser.add_argument(
        "--kill-interval", type=float, default=DEFAULT.kill_interval, help="seconds between kills"
    )
    parser.add_argument("--max-kills", type=int, help="at most this many SIGKILLs (default N / 25)")
    parser.add_argument("--send-rate", type=float, default=DEFAULT.send_rate, help="events per second")
    parser.add_argument("--retry-schedule", default=DEFAULT.retry_schedule)
    parser.add_argument("--rate-limit", type=int, default=DEFAULT.rate_limit, help="per endpoint (0: none)")
    parser.add_argument("--settle-timeout", type=float, help="seconds for every pair to settle")
    parser.add_argument("--seed", type=int, default=DEFAULT.seed)
    parser.add_argument(
        "--noisy-events",
        type=int,
        help="the noisy tenant's events to its slow endpoint (default N / 2; 0: none)",
    )
    parser.add_argument("--parameter-overrides", default="", help="more template parameters for the stack")
    parser.add_argument(
        "--allow-out-of-order",
        action="store_true",
        help="report out-of-order attempts of a key without failing the run (diagnosis)",
    )
    parser.add_argument(
        "--verbose-stack", action="store_true", help="every function's log lines in the stack log (diagnosis)"
    )
    parser.add_argument("--log-dir", type=Path, default=DEFAULT.log_dir)
    args = parser.parse_args(argv)
    events = args.events or (FULL_EVENTS if args.full else DEFAULT.events)
    scale = events / DEFAULT.events
    config = replace(
        DEFAULT,
        events=events,
        tenants=args.tenants,
        aws_fault_rate=args.aws_faults,
        kill_interval=args.kill_interval,
        max_kills=args.max_kills if args.max_kills is not None else max(1, events // 25),
        send_rate=args.send_rate if not args.full else max(args.send_rate, 15.0),
        retry_schedule=args.retry_schedule,
        rate_limit=args.rate_limit,
        settle_timeout=args.settle_timeout or DEFAULT.settle_timeout * max(1.0, scale / 2),
        seed=args.seed,
        noisy_events=args.noisy_events if args.noisy_events is not None else events // 2,
        extra_overrides=args.parameter_overrides,
        verbose_stack=args.verbose_stack,
        require_order=not args.allow_out_of_order,
        log_dir=args.log_dir,
    )
    run = ChaosRun(config)
    report = run.execute()
    print_report(report)
    path = config.log_dir / f"chaos-report-{run.run_id}.json"
    write_report(report, path)
    print(f"report: {path}")
    return 0 if report.verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
