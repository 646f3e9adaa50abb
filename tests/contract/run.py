"""``make contract``: schemathesis against a fresh local stack, as the admin key, a tenant key and nobody.

    python -m tests.contract.run             # the short run that CI makes too (a fixed seed)
    python -m tests.contract.run --full      # the long run: many more cases, a new seed each time
    python -m tests.contract.run --pass admin -- --include-path-regex events   # more schemathesis options

Each pass's config, full output and JSON report are kept in the work directory (``--work-dir``).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

from tests.contract.harness import FULL, PASSES, SHORT, PassResult, contract_stack, run_pass


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so the stack is stopped on the way out, as on Ctrl-C


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python -m tests.contract.run", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the long run: many more cases, a new seed")
    parser.add_argument(
        "--pass",
        action="append",
        dest="only",
        choices=[each.name for each in PASSES],
        help="run only this pass (repeatable)",
    )
    parser.add_argument("--work-dir", type=Path, help="keep configs, outputs and reports here")
    parser.add_argument("extra", nargs="*", help="more schemathesis options, after --")
    args = parser.parse_args(argv)
    budget = FULL if args.full else SHORT
    passes = [each for each in PASSES if not args.only or each.name in args.only]
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="hookline-contract-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    print(f"work directory: {work_dir}", flush=True)
    results: list[PassResult] = []
    with contract_stack(work_dir) as seed:
        print(f"local stack at {seed.api_url}, receiver at {seed.receiver_url}", flush=True)
        for each in passes:
            result = run_pass(seed, each, budget, work_dir, tuple(args.extra))
            print("$ " + shlex.join(result.command), flush=True)
            if result.exit_code != 0:
                print(result.output, flush=True)
            print(result.summary(), flush=True)
            results.append(result)
    failed = [result.name for result in results if result.exit_code != 0]
    verdict = f"FAILED: {', '.join(failed)}" if failed else "no failures"
    print(f"total: {sum(result.cases for result in results)} cases in {len(results)} passes; {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
