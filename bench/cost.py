"""``python -m bench.cost``: what a million events cost all-in, measured from real runs (issues 10 and 15).

Each scenario sends its events through the real handlers in-process, on template.yaml deployed into moto
(``bench.lambda_stack``) with the template's defaults (only loopback receivers are allowed on top),
against receivers on 127.0.0.1 that answer in ``RECEIVER_DELAY`` (100 ms): the ingest function through
HTTP API events, dispatch and the DLQ handler through their SQS event sources. Setup (tenants, endpoints)
goes through the API too, and is not counted. Every AWS call is seen by botocore hooks on
``hookline.aws.session()``, waits ``ROUND_TRIP_MS`` as an in-region round trip would, and is sized and
priced by ``bench.cost_model``; DynamoDB units come from the items actually read and written.

The terms a user meets:
- bodies are ``order.created`` events with line items (``bench.order_body``) of 1, 10 or 64 KiB;
- batches are what the event source finds at the template's default batching window (0 s): each API
  request is followed by polls until nothing is visible, so a single event is a batch of 1 and a batch
  ingest of 10 a batch of 10; retries come back after the template's own retry schedule (5 s first);
- all-in = requests + CloudWatch Logs (printed bytes, Lambda's platform lines, the access log; ingestion
  and storage for the log groups' retention) + DynamoDB storage and PITR backups until the items' TTL;
  egress and EventBridge API destinations for the same traffic are printed beside it.

All scenarios run in child processes, one each, so every function is one warm container throughout. The
final lines, one per scenario, are meant for scripts:

    cost: single-1k: $5.60 per million events all-in (requests $4.88 + logs $0.26 + storage $0.46; egress
    $0.14; EventBridge $1.20)
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import boto3

import bench._lambda_env  # noqa: F401 - the Lambda-like process setup, before hookline is imported
from bench.cost_model import Usage
from bench.cost_report import as_json, report
from bench.dynamodb_units import CapacityModel
from bench.lambda_stack import REGION, Stack, access_log_format, deployed_stack
from bench.order_body import KIB, order_event
from bench.receiver import ReceiverProcess
from bench.stored_items import snapshot, stored_since

__all__ = ["SCENARIOS", "Outcome", "Scenario", "as_json", "main", "measure", "report"]  # bench.cli uses these

RECEIVER_DELAY = 0.1  # seconds every receiver takes to answer
ROUND_TRIP_MS = 5.0  # a simulated in-region round trip per AWS call (DynamoDB, SQS: single-digit ms)
EVENTBRIDGE_CHUNK = 64 * KIB
ORDERING_KEYS = 50  # distinct keys the ordered scenario spreads its events over
FOREVER_MONTHS = 12.0  # how long an item without TTL is counted (it is kept for ever)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    body_bytes: int = KIB
    endpoints: int = 1  # per tenant
    tenants: int = 1
    fail_first_fraction: float = 0.0
    batch: int = 0  # events per POST .../events/batch; 0: one POST .../events per event
    ordered: bool = False  # every event carries an ordering_key


SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario("single-1k", "one 1 KiB event to one endpoint"),
        Scenario("single-10k", "one 10 KiB event to one endpoint", body_bytes=10 * KIB),
        Scenario("single-64k", "one 64 KiB event to one endpoint", body_bytes=64 * KIB),
        Scenario("fanout10-1k", "one 1 KiB event to ten endpoints", endpoints=10),
        Scenario("flaky30-1k", "one 1 KiB event; 30% of first attempts fail", fail_first_fraction=0.3),
        Scenario("batch10-1k", "POST .../events/batch with 10 events of 1 KiB, one endpoint", batch=10),
        Scenario("ordered-1k", f"one 1 KiB event with an ordering_key ({ORDERING_KEYS} keys)", ordered=True),
        Scenario("tenants100-1k", "one 1 KiB event, spread over 100 tenants of one endpoint", tenants=100),
    )
}


@dataclass
class Outcome:
    scenario: Scenario
    architecture: dict[str, str]  # function -> Lambda architecture, from the template
    usage: Usage | None = None
    skipped: str | None = None
    note: str | None = None  # a caveat printed with the scenario's figures
    seconds: float = 0.0
    body_bytes: int = 0


def _all_delivered(stack: Stack, receiver: ReceiverProcess, deliveries: int) -> bool:
    return receiver.stats()["delivered"] >= deliveries and stack.in_flight() == 0


def _table(stack: Stack) -> tuple[str, bool]:
    """The delivery log table's name and whether the template enables point-in-time recovery."""
    deployed = stack.deployed
    [logical_id] = [name for name, kind in deployed.resource_types.items() if kind == "AWS::DynamoDB::Table"]
    properties = deployed.template["Resources"][logical_id]["Properties"]
    pitr = (properties.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    return deployed.resources[logical_id], str(pitr).lower() == "true"


def _log_retention_days(stack: Stack) -> float:
    """The log groups' retention (the longest, if they differ)."""
    resources = stack.deployed.template["Resources"]
    days = [
        float(resource["Properties"]["RetentionInDays"])
        for resource in resources.values()
        if resource.get("Type") == "AWS::Logs::LogGroup"
        and "RetentionInDays" in resource.get("Properties", {})
    ]
    return max(days, default=FOREVER_MONTHS * 30)


class Runner:
    def __init__(self, stack: Stack, batch_fill: int = 1) -> None:
        self.stack = stack
        self._number = 0
        self.batch_fill = batch_fill  # API requests between the event source's polls

    def _event(self, scenario: Scenario) -> dict[str, Any]:
        self._number += 1
        event = order_event(scenario.body_bytes, self._number)
        if scenario.ordered:
            event["ordering_key"] = f"cus_{self._number % ORDERING_KEYS:04d}"
        return event

    def _send(self, scenario: Scenario, tenant: str) -> int:
        """One API request; the number of events it carried."""
        if scenario.batch:
            events = [self._event(scenario) for _ in range(scenario.batch)]
            response = self.stack.api("POST", f"/v1/tenants/{tenant}/events/batch", {"events": events})
            statuses = [item.get("status") for item in (response.body or {}).get("data", [])]
            if response.status != 207 or statuses != [202] * len(events):
                raise RuntimeError(f"batch ingest answered {response.status}: {response.body}")
            return len(events)
        response = self.stack.api("POST", f"/v1/tenants/{tenant}/events", self._event(scenario))
        if response.status != 202:
            raise RuntimeError(f"ingest answered {response.status}: {response.body}")
        return 1

    def run(self, scenario: Scenario, events: int) -> Outcome:
        stack, meter = self.stack, self.stack.meter
        architecture = {name: function.architecture for name, function in stack.functions.items()}
        outcome = Outcome(scenario, architecture, body_bytes=scenario.body_bytes)
        with ReceiverProcess(RECEIVER_DELAY, fail_first_fraction=scenario.fail_first_fraction) as receiver:
            tenants = []
            for number in range(scenario.tenants):
                urls = [f"{receiver.url}/hook/{number}/{index}" for index in range(scenario.endpoints)]
                tenants.append(stack.create_tenant(urls, prefix=scenario.name)[0])
            stack.drain(lambda: stack.in_flight() == 0)  # whatever setup queued is not this scenario's
            table, pitr = _table(stack)
            before = snapshot(stack.dynamodb, table)
            receiver.reset()
            meter.reset()
            first_invocation = len(stack.invocations)
            started = time.perf_counter()
            written_at = time.time()
            meter.round_trip_seconds = ROUND_TRIP_MS / 1000
            sent = requests = 0
            if self.batch_fill > 1:
                outcome.note = (
                    f"the event source polled after every {self.batch_fill} API requests "
                    "(a batching window filled by a high enough arrival rate), not after each"
                )
            while sent < events:
                sent += self._send(scenario, tenants[(sent // max(1, scenario.batch)) % len(tenants)])
                requests += 1
                if requests % self.batch_fill == 0 or sent >= events:
                    stack.drain(lambda: True)  # the event source takes what is visible (0 s window)
            deliveries = sent * scenario.endpoints
            stack.drain(partial(_all_delivered, stack, receiver, deliveries), timeout=180)
            meter.round_trip_seconds = 0.0
            outcome.seconds = time.perf_counter() - started
            stats = receiver.stats()
        usage = Usage(sent)
        usage.add_invocations(
            stack.invocations[first_invocation:], stack.functions, access_log_format(stack.deployed)
        )
        usage.add_calls(meter.calls)
        if scenario.ordered and not any(name.startswith("sqs-fifo:") for _, name in usage.operations):
            raise RuntimeError("ordered events did not travel on the ordered (FIFO) queue")
        usage.delivery_attempts = stats["posts"]
        usage.deliveries = stats["delivered"]
        usage.egress_bytes += stats["bytes"]
        usage.published_event_chunks = sent * math.ceil(scenario.body_bytes / EVENTBRIDGE_CHUNK)
        usage.log_retention_days = _log_retention_days(stack)
        usage.stored = stored_since(stack.dynamodb, table, before, written_at, FOREVER_MONTHS)
        usage.pitr = pitr
        outcome.usage = usage
        return outcome


# --- main -------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="events per scenario (default 200; fanout10 100)")
    parser.add_argument("--quick", action="store_true", help="60 events per scenario (fanout10 30)")
    parser.add_argument(
        "--scenario", action="append", choices=list(SCENARIOS), help="run only this scenario (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--batch-fill",
        type=int,
        default=1,
        help="API requests sent before each poll of the event sources (default 1: what the template's 0 s "
        "batching window finds at a low rate; 10: batches of 10, as a window filled by a high enough rate)",
    )
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)  # one scenario, in a child
    args = parser.parse_args(argv)
    if args.events is not None and args.events < 1:
        parser.error("--events must be positive")
    if not 1 <= args.batch_fill <= 10:
        parser.error("--batch-fill must be 1 to 10 (SQS hands out at most 10 messages per receive)")
    return args


def default_events(scenario: Scenario, quick: bool) -> int:
    many = scenario.endpoints > 1
    if quick:
        return 30 if many else 60
    return 100 if many else 200


def run_scenario(scenario: Scenario, events: int, batch_fill: int = 1) -> Outcome:
    """One scenario on a fresh deployment in this process (moto's transactions copy every table they
    touch, so a table left full by an earlier scenario would slow the next one down)."""
    with deployed_stack(template_defaults=True) as stack:
        model = CapacityModel(boto3.session.Session(region_name=REGION).client("dynamodb"))
        stack.meter.observers.append(model)
        stack.meter.backend.keep_intervals = True  # billed time is told without moto's serving
        return Runner(stack, batch_fill).run(scenario, events)


def _in_child(scenario: Scenario, events: int, batch_fill: int) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="hookline-cost-") as tmp:
        result = Path(tmp) / "outcome.pickle"
        command = [sys.executable, "-m", "bench.cost", "--scenario", scenario.name, "--events", str(events)]
        command += ["--batch-fill", str(batch_fill)]
        subprocess.run([*command, "--child-output", str(result)], check=True)  # noqa: S603 - ourselves
        with result.open("rb") as file:
            outcome: Outcome = pickle.load(file)  # noqa: S301 - written by our own child process
    return outcome


def measure(
    names: Sequence[str] | None = None,
    *,
    events: int | None = None,
    quick: bool = False,
    batch_fill: int = 1,
) -> list[Outcome]:
    """Run the scenarios, each in a child process of its own."""
    outcomes = []
    for name in names or SCENARIOS:
        scenario = SCENARIOS[name]
        print(f"[cost] {scenario.name} ...", file=sys.stderr, flush=True)
        outcomes.append(_in_child(scenario, events or default_events(scenario, quick), batch_fill))
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_output is not None:
        [name] = args.scenario
        outcome = run_scenario(SCENARIOS[name], args.events, args.batch_fill)
        with args.child_output.open("wb") as file:
            pickle.dump(outcome, file)
        return 0
    outcomes = measure(args.scenario, events=args.events, quick=args.quick, batch_fill=args.batch_fill)
    print(report(outcomes))
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(outcomes), indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    # Through the importable module, so that what a child pickles names bench.cost, not __main__.
    from bench.cost import main as cost_main

    raise SystemExit(cost_main())
