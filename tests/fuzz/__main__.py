"""``python -m tests.fuzz [--full]``: fuzz the API through the local stack (``make fuzz [ARGS=--full]``).

Named cases first (every input issue 7 lists), then hypothesis' structured, mutated and raw requests over
every route. Oracles: an answer, no 5xx, the error shape on every 4xx, no traceback or internal name,
known-bad input refused; then a healthy signed delivery, and every delivered body strict JSON. Exits 1 on
any finding.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.fuzz.run import FuzzRun, print_report

DEFAULT_CASES = 1_000
FULL_CASES = 10_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--full", action="store_true", help=f"{FULL_CASES:,} cases (default {DEFAULT_CASES:,})"
    )
    parser.add_argument("--cases", type=int, help="how many requests in all")
    parser.add_argument("--seed", type=int, default=1, help="hypothesis' seed")
    parser.add_argument("--log-dir", type=Path, default=Path(".aws-sam/fuzz"))
    args = parser.parse_args(argv)
    cases = args.cases or (FULL_CASES if args.full else DEFAULT_CASES)
    run = FuzzRun(cases, args.seed, args.log_dir)
    print(f"fuzz run {run.run_id}: {cases:,} cases, stack log {run.log_file}", flush=True)
    report = run.execute()
    print_report(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
