"""``python -m local_stack``: the whole of Hookline on this machine, in the foreground."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from local_stack.logs import LogRenderer
from local_stack.moto_server import LOOPBACK
from local_stack.stack import (
    DEFAULT_API_PORT,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MOTO_PORT,
    ENV_JSON_NAME,
    STATE_FILE_NAME,
    LocalStack,
    StackError,
    StackOptions,
)

ENV_PREFIX = "HOOKLINE_"

DESCRIPTION = """\
Run Hookline locally with no AWS account and no Docker: moto's server plays AWS, template.yaml is
deployed into it, an HTTP server plays API Gateway (HTTP API, payload 2.0) in front of the ingest
function, and pollers play Lambda's SQS event source mappings for dispatch and dlq_handler. Each
function runs in its own worker processes with only its template environment.

Every option can also be set with an environment variable (shown in brackets); a flag wins.
"""

EPILOG = """\
examples:
  python -m local_stack
  python -m local_stack --api-key devkey --parameter-overrides "RetrySchedule=0,1,2"
  python -m local_stack --port 8080 --moto-port 0 --block-private-targets
  python -m local_stack --host 172.17.0.1 --env-json --no-pollers     # for `sam local invoke`
  make dev ARGS="--parameter-overrides 'RetrySchedule=0,2,5 LogLevel=DEBUG' --verbose"

Stop it with Ctrl-C (or SIGTERM): workers, pollers, the API server and moto all stop.
"""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name, default)


def _env_flag(name: str) -> bool:
    return (_env(name, "") or "").strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{ENV_PREFIX}{name} must be an integer, got {raw!r}") from None


def _fault_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return rate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port",
        type=int,
        default=_env_int("PORT", DEFAULT_API_PORT),
        help=f"port of the local API (on --host); 0 picks a free one [{ENV_PREFIX}PORT, default %(default)s]",
    )
    parser.add_argument(
        "--moto-port",
        type=int,
        default=_env_int("MOTO_PORT", DEFAULT_MOTO_PORT),
        help=f"port of moto's server (the AWS endpoint, on --host); 0 picks a free one "
        f"[{ENV_PREFIX}MOTO_PORT, default %(default)s]",
    )
    parser.add_argument(
        "--host",
        default=_env("HOST", LOOPBACK) or LOOPBACK,
        help="IPv4 address moto and the local API listen on; for `sam local`, one that containers can "
        "reach, such as the Docker bridge's gateway (172.17.0.1) or 0.0.0.0 "
        f"[{ENV_PREFIX}HOST, default %(default)s]",
    )
    parser.add_argument(
        "--env-json",
        nargs="?",
        const=ENV_JSON_NAME,
        default=_env("ENV_JSON"),
        metavar="PATH",
        help="write `sam local --env-vars` file: every function's deployed environment, with "
        f"AWS_ENDPOINT_URL as a container reaches moto (removed on stop) [{ENV_PREFIX}ENV_JSON; "
        f"the flag alone: {ENV_JSON_NAME} next to the template]",
    )
    parser.add_argument(
        "--container-host",
        default=_env("CONTAINER_HOST"),
        help="the address containers reach this machine by, in env.json's AWS_ENDPOINT_URL (e.g. "
        f"host.docker.internal) [{ENV_PREFIX}CONTAINER_HOST, default: --host]",
    )
    parser.add_argument(
        "--no-pollers",
        action="store_true",
        default=_env_flag("NO_POLLERS"),
        help="do not play the SQS event sources: messages stay on the queues, for `sam local invoke` "
        f"or your own consumer [{ENV_PREFIX}NO_POLLERS=1]",
    )
    parser.add_argument(
        "--no-fair-queues",
        action="store_true",
        default=_env_flag("NO_FAIR_QUEUES"),
        help="do not play SQS fair queues (receives then serve every tenant in arrival order, as moto does); "
        f"to measure what fairness changes, see docs/fairness.md [{ENV_PREFIX}NO_FAIR_QUEUES=1]",
    )
    parser.add_argument(
        "--no-iam",
        action="store_true",
        default=_env_flag("NO_IAM"),
        help="do not enforce IAM: every function may call anything, as under plain moto (for debugging; "
        f'see docs/local-development.md, "IAM enforcement") [{ENV_PREFIX}NO_IAM=1]',
    )
    parser.add_argument(
        "--api-key",
        default=_env("API_KEY"),
        help=f"use this admin API key (stored in the template's secret); otherwise the key the template "
        f"generates is printed [{ENV_PREFIX}API_KEY]",
    )
    parser.add_argument(
        "--parameter-overrides",
        default=_env("PARAMETER_OVERRIDES", ""),
        metavar="'Key=Value ...'",
        help="template parameters, as `sam deploy --parameter-overrides` takes them, e.g. "
        f'"RetrySchedule=0,1,2 MaxPayloadBytes=65536" [{ENV_PREFIX}PARAMETER_OVERRIDES]. Local defaults: '
        "AllowHttp=true AllowedPrivateCidrs=127.0.0.0/8,::1/128 (loopback receivers allowed)",
    )
    parser.add_argument(
        "--block-private-targets",
        action="store_true",
        default=_env_flag("BLOCK_PRIVATE_TARGETS"),
        help="refuse loopback and private targets as a deployed stack does (AllowedPrivateCidrs=''; "
        f"http:// stays allowed) [{ENV_PREFIX}BLOCK_PRIVATE_TARGETS=1]",
    )
    parser.add_argument(
        "--template",
        type=Path,
        default=Path(_env("TEMPLATE", "template.yaml") or "template.yaml"),
        help=f"the SAM template to run [{ENV_PREFIX}TEMPLATE, default %(default)s]",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=_env("STATE_FILE"),
        help="where to write the running stack's URLs, API key, outputs and resources as JSON (removed on "
        f"stop) [{ENV_PREFIX}STATE_FILE, default {STATE_FILE_NAME} next to the template]",
    )
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=_env_int("MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY),
        help="most worker processes per function (an event source's MaximumConcurrency is capped by it) "
        f"[{ENV_PREFIX}MAX_CONCURRENCY, default %(default)s]",
    )
    parser.add_argument(
        "--stack-name",
        default=_env("STACK_NAME", "hookline"),
        help=f"CloudFormation stack name inside moto [{ENV_PREFIX}STACK_NAME, default %(default)s]",
    )
    chaos = parser.add_argument_group("chaos runs (local only)")
    chaos.add_argument(
        "--inject-aws-faults",
        type=_fault_rate,
        default=_env("INJECT_AWS_FAULTS") or None,  # argparse converts a string default with `type`
        metavar="RATE",
        help="answer this share (0..1) of the functions' AWS calls with throttling errors and 500s, as each "
        "service sends them; the deployment and the pollers are never faulted "
        f"[{ENV_PREFIX}INJECT_AWS_FAULTS]",
    )
    chaos.add_argument(
        "--aws-fault-seed",
        type=int,
        default=_env("AWS_FAULT_SEED") or None,
        help=f"seed of the fault injector's random choices [{ENV_PREFIX}AWS_FAULT_SEED]",
    )
    chaos.add_argument(
        "--crashed-batch-visibility",
        type=int,
        default=_env("CRASHED_BATCH_VISIBILITY") or None,
        metavar="SECONDS",
        help="when a worker dies mid-invocation, show its records again after SECONDS instead of the "
        f"queue's visibility timeout [{ENV_PREFIX}CRASHED_BATCH_VISIBILITY]",
    )
    chaos.add_argument(
        "--control-port",
        type=int,
        default=_env_int("CONTROL_PORT", 0),
        help="port of the control server (GET /workers, GET /crashes); 0 picks a free one "
        f"[{ENV_PREFIX}CONTROL_PORT, default %(default)s]",
    )
    parser.add_argument(
        "--schedule-time-scale",
        type=float,
        default=float(_env("SCHEDULE_TIME_SCALE") or 1.0),
        metavar="FACTOR",
        help="local only: recurring schedules' clock runs FACTOR times faster than the wall clock (tests "
        f"see a rate(1 minute) schedule fire every few seconds) [{ENV_PREFIX}SCHEDULE_TIME_SCALE, default 1]",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        default=_env_flag("VERBOSE"),
        help=f"show every log line of every function (and moto's) [{ENV_PREFIX}VERBOSE=1]",
    )
    output.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        default=_env_flag("QUIET"),
        help=f"show only the start-up summary, alerts and errors [{ENV_PREFIX}QUIET=1]",
    )
    return parser


def options_from_args(args: argparse.Namespace) -> StackOptions:
    from local_stack.cloudformation import parse_parameter_overrides

    try:
        overrides = parse_parameter_overrides(args.parameter_overrides or "")
    except ValueError as exc:
        raise StackError(f"--parameter-overrides: {exc}") from exc
    template = Path(args.template)
    state_file = Path(args.state_file) if args.state_file else template.resolve().parent / STATE_FILE_NAME
    env_json = None
    if args.env_json:
        env_json = Path(args.env_json)
        if args.env_json == ENV_JSON_NAME:
            env_json = template.resolve().parent / ENV_JSON_NAME
    return StackOptions(
        template=template,
        port=args.port,
        moto_port=args.moto_port,
        api_key=args.api_key or None,
        parameter_overrides=overrides,
        block_private_targets=bool(args.block_private_targets),
        max_concurrency=args.max_concurrency,
        state_file=state_file,
        stack_name=args.stack_name,
        host=args.host,
        pollers=not args.no_pollers,
        enforce_iam=not args.no_iam,
        env_json=env_json,
        container_host=args.container_host or None,
        fair_queues=not args.no_fair_queues,
        aws_fault_rate=args.inject_aws_faults,
        aws_fault_seed=args.aws_fault_seed,
        crashed_batch_visibility_seconds=args.crashed_batch_visibility,
        control_port=args.control_port,
        schedule_time_scale=args.schedule_time_scale,
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = LogRenderer(verbose=args.verbose, quiet=args.quiet)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Until the stack is up, Ctrl-C, SIGTERM or SIGHUP interrupts start-up (which cleans up after itself).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        options = options_from_args(args)
        log.info(f"starting moto and deploying {options.template} ...")
        stack = LocalStack(options, log)
        stack.start()
    except StackError as exc:
        log.emit(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        log.emit("interrupted during start-up; stopped.")
        return 130
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)
    log.emit(stack.banner())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("stopping ...")
        stack.stop()
        log.info("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
