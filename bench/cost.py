"""``python -m bench.cost``: what a million events cost, measured from real runs (issue 10).

Each scenario sends its events through the real handlers in-process, on template.yaml deployed into moto
(``bench.lambda_stack``), against receivers on 127.0.0.1: the ingest function through HTTP API events,
dispatch and the DLQ handler through their SQS event sources. Setup (a tenant, its endpoints) goes through
the API too, and is not counted. Every AWS call is seen by botocore hooks on ``hookline.aws.session()``,
sized and priced by ``bench.cost_model``; DynamoDB units come from the items actually read and written.

All scenarios run in this one process, so every function is one warm container throughout (its per-
container caches stay filled for their TTL, as on a busy fleet); each scenario's count starts right after
its setup and includes every cache refresh that happens during the run. Events are sent in rounds of
``ROUND`` and the queues drained after each, so batches are full, as under load. The retry schedule is
short (1 s) so that flaky30's retries come round at once: what a retry costs does not depend on its delay.
The final lines, one per scenario, are meant for scripts:

    cost: single: $8.34 per million events (EventBridge: $1.20)
"""

from __future__ import annotations

import argparse
import json
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
from bench import prices
from bench.cost_model import Usage
from bench.dynamodb_units import CapacityModel
from bench.lambda_stack import REGION, Stack, deployed_stack
from bench.receiver import ReceiverProcess

ROUND = 100  # events sent before the queues are drained
RETRY_SCHEDULE = "0,1,1,1,1,1,1,1"  # eight attempts, retries 1 s apart (the default's length)
LINES = ("API Gateway", "Lambda", "SQS", "DynamoDB writes", "DynamoDB reads", "SNS", "Secrets Manager")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    endpoints: int = 1
    idempotency_key: bool = False
    fail_first_fraction: float = 0.0
    batch: int = 0  # events per POST .../events/batch; 0: one POST .../events per event


SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario("single", "one event to one endpoint"),
        Scenario("idempotent", "one event to one endpoint, with an Idempotency-Key", idempotency_key=True),
        Scenario("fanout10", "one event to ten endpoints", endpoints=10),
        Scenario(
            "flaky30", "one event to one endpoint; 30% of deliveries fail once", fail_first_fraction=0.3
        ),
        Scenario("batch10", "POST .../events/batch with 10 events, one endpoint", batch=10),
    )
}


def event_data(number: int) -> dict[str, Any]:
    """A small, typical event (about 130 bytes of body)."""
    return {"order_id": f"ord_{number:08d}", "amount": 4200, "currency": "EUR", "customer": "cus_0123456789"}


@dataclass
class Outcome:
    scenario: Scenario
    architecture: dict[str, str]  # function -> Lambda architecture, from the template
    usage: Usage | None = None
    skipped: str | None = None
    seconds: float = 0.0
    body_bytes: int = 0


def _all_delivered(stack: Stack, receiver: ReceiverProcess, deliveries: int) -> bool:
    return receiver.stats()["delivered"] >= deliveries and stack.in_flight() == 0


class Runner:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._number = 0

    def _event(self) -> dict[str, Any]:
        self._number += 1
        return {"type": "order.created", "data": event_data(self._number)}

    def _send(self, scenario: Scenario, tenant: str, count: int) -> None:
        if scenario.batch:
            for start in range(0, count, scenario.batch):
                events = [self._event() for _ in range(min(scenario.batch, count - start))]
                response = self.stack.api("POST", f"/v1/tenants/{tenant}/events/batch", {"events": events})
                statuses = [item.get("status") for item in (response.body or {}).get("data", [])]
                if response.status != 207 or statuses != [202] * len(events):
                    raise RuntimeError(f"batch ingest answered {response.status}: {response.body}")
            return
        for _ in range(count):
            headers = {"Idempotency-Key": f"bench-{time.time_ns()}"} if scenario.idempotency_key else None
            response = self.stack.api("POST", f"/v1/tenants/{tenant}/events", self._event(), headers)
            if response.status != 202:
                raise RuntimeError(f"ingest answered {response.status}: {response.body}")

    def _batch_route_missing(self, tenant: str) -> str | None:
        probe = self.stack.api("POST", f"/v1/tenants/{tenant}/events/batch", {"events": [self._event()]})
        if probe.status in (404, 405):
            return (
                f"POST /v1/tenants/{{t}}/events/batch answers {probe.status}: batch ingest is not built yet"
            )
        return None

    def run(self, scenario: Scenario, events: int) -> Outcome:
        stack, meter = self.stack, self.stack.meter
        architecture = {name: function.architecture for name, function in stack.functions.items()}
        outcome = Outcome(scenario, architecture, body_bytes=len(json.dumps(self._event()).encode()))
        with ReceiverProcess(fail_first_fraction=scenario.fail_first_fraction) as receiver:
            urls = [f"{receiver.url}/hook/{index}" for index in range(scenario.endpoints)]
            tenant, _ = stack.create_tenant(urls, prefix=scenario.name)
            if scenario.batch and (reason := self._batch_route_missing(tenant)):
                outcome.skipped = reason
                return outcome
            stack.drain(lambda: stack.in_flight() == 0)  # whatever setup queued is not this scenario's
            receiver.reset()
            meter.reset()
            first_invocation = len(stack.invocations)
            started = time.perf_counter()
            sent = 0
            while sent < events:
                count = min(ROUND, events - sent)
                self._send(scenario, tenant, count)
                sent += count
                stack.drain(partial(_all_delivered, stack, receiver, sent * scenario.endpoints))
            outcome.seconds = time.perf_counter() - started
            stats = receiver.stats()
        usage = Usage(events)
        functions = stack.functions
        usage.add_invocations(
            stack.invocations[first_invocation:], {name: f.memory_mb for name, f in functions.items()}
        )
        usage.add_calls(meter.calls)
        usage.delivery_attempts = stats["posts"]
        usage.deliveries = stats["delivered"]
        usage.published_event_chunks = events  # every event here is far below 64 KB
        outcome.usage = usage
        return outcome


# --- the report ------------------------------------------------------------------------------------------


def _money(value: float) -> str:
    return f"{value:.2f}"


def price_lines() -> list[str]:
    lines = [f"Prices: us-east-1, on-demand, Lambda arm64; looked up {prices.LOOKED_UP} (bench/prices.py)"]
    for service, entries in prices.TABLE.items():
        for price in entries:
            lines.append(
                f"  {service:<21} ${price.per_million():>9.4f} per million {price.unit}"
                f"\n  {'':<21} {price.source}; read in {price.read_in}"
            )
    return lines


def scenario_lines(outcome: Outcome) -> list[str]:
    scenario, usage = outcome.scenario, outcome.usage
    title = f"{scenario.name}: {scenario.description}"
    if usage is None:
        return [title, f"  SKIPPED: {outcome.skipped}"]
    per_event = 1 / usage.events
    lines = [
        title,
        f"  {usage.events} events ({outcome.body_bytes} B request body each), {usage.deliveries} deliveries, "
        f"{usage.delivery_attempts} attempts, {outcome.seconds:.0f} s",
        f"  {'per event':<52} {'requests':>9} {'billed':>8} {'WU':>6} {'RU':>6} {'moto RCC':>8}",
        f"  {'API Gateway HTTP API request':<52} {usage.api_requests * per_event:>9.3f}",
    ]
    for name, runs in sorted(usage.functions.items()):
        lines.append(
            f"  {'Lambda ' + name + ' invocation':<52} {runs.invocations * per_event:>9.3f}"
            f"   {runs.billed_ms / runs.invocations:.1f} ms billed each at {runs.memory_mb} MB "
            f"({runs.billed_ms_with_moto / runs.invocations:.1f} ms with moto's serving), "
            f"{runs.log_bytes / runs.invocations:.0f} B of logs"
        )
    for (caller, name), row in sorted(usage.operations.items(), key=lambda item: (item[0][1], item[0][0])):
        label = f"{name} ({caller})"
        requests = f"  {label:<52} {row.calls * per_event:>9.3f}"
        if name.startswith("dynamodb:"):
            moto = f"{row.moto_units * per_event:>8.2f}" if row.moto_answered else f"{'-':>8}"
            writes, reads = row.units.all_writes * per_event, row.units.read * per_event
            lines.append(f"{requests} {'':>8} {writes:>6.2f} {reads:>6.2f} {moto}")
        else:
            lines.append(f"{requests} {row.billed_requests * per_event:>8.3f}")
    units = usage.dynamodb_units()
    lines.append(
        f"  DynamoDB per event: {units.all_writes * per_event:.2f} write units "
        f"({units.index_write * per_event:.2f} of them index writes), {units.read * per_event:.2f} read units"
    )
    lines.append(
        f"  Logs the functions print: {usage.log_bytes() * per_event:.0f} B per event, "
        f"${_money(usage.logs_per_million())} per million events in CloudWatch Logs (not in the total)"
    )
    if usage.unpriced:
        lines.append(f"  NOT PRICED: {dict(usage.unpriced)}")
    dollars = usage.per_million_events(outcome.architecture)
    lines.append(
        "  $ per million events: "
        + ", ".join(f"{line} {_money(value)}" for line, value in dollars.items())
        + f"; total {_money(sum(dollars.values()))}"
    )
    lines.append(
        f"  EventBridge API destinations for the same traffic: ${_money(usage.eventbridge_per_million())} "
        f"({usage.published_event_chunks * per_event:.2f} events + {usage.delivery_attempts * per_event:.2f} "
        "invocations per event)"
    )
    return lines


def summary_lines(outcomes: list[Outcome]) -> list[str]:
    header = (
        f"  {'scenario':<11}" + "".join(f"{line:>16}" for line in LINES) + f"{'total':>9}{'EventBridge':>13}"
    )
    lines = ["$ per million events, by service", header]
    for outcome in outcomes:
        if outcome.usage is None:
            lines.append(f"  {outcome.scenario.name:<11} skipped: {outcome.skipped}")
            continue
        dollars = outcome.usage.per_million_events(outcome.architecture)
        lines.append(
            f"  {outcome.scenario.name:<11}"
            + "".join(f"{_money(dollars[line]):>16}" for line in LINES)
            + f"{_money(sum(dollars.values())):>9}{_money(outcome.usage.eventbridge_per_million()):>13}"
        )
    return lines


def final_lines(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for outcome in outcomes:
        if outcome.usage is None:
            lines.append(f"cost: {outcome.scenario.name}: skipped ({outcome.skipped})")
            continue
        total = sum(outcome.usage.per_million_events(outcome.architecture).values())
        lines.append(
            f"cost: {outcome.scenario.name}: ${total:.2f} per million events "
            f"(EventBridge: ${outcome.usage.eventbridge_per_million():.2f})"
        )
    return lines


def as_json(outcomes: list[Outcome]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for outcome in outcomes:
        usage = outcome.usage
        if usage is None:
            result[outcome.scenario.name] = {"skipped": outcome.skipped}
            continue
        dollars = usage.per_million_events(outcome.architecture)
        units = usage.dynamodb_units()
        result[outcome.scenario.name] = {
            "events": usage.events,
            "deliveries": usage.deliveries,
            "delivery_attempts": usage.delivery_attempts,
            "usd_per_million_events": dollars | {"total": sum(dollars.values())},
            "eventbridge_usd_per_million_events": usage.eventbridge_per_million(),
            "per_event": {
                "dynamodb_write_units": units.all_writes / usage.events,
                "dynamodb_index_write_units": units.index_write / usage.events,
                "dynamodb_read_units": units.read / usage.events,
                "requests": {
                    f"{name} ({function})": row.calls / usage.events
                    for (function, name), row in sorted(usage.operations.items())
                },
                "invocations": {name: f.invocations / usage.events for name, f in usage.functions.items()},
                "billed_ms": {name: f.billed_ms / usage.events for name, f in usage.functions.items()},
            },
        }
    return result


# --- main -------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="events per scenario (default 300; fanout10 150)")
    parser.add_argument("--quick", action="store_true", help="100 events per scenario (fanout10 50)")
    parser.add_argument(
        "--scenario", action="append", choices=list(SCENARIOS), help="run only this scenario (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)  # one scenario, in a child
    args = parser.parse_args(argv)
    if args.events is not None and args.events < 1:
        parser.error("--events must be positive")
    return args


def default_events(scenario: Scenario, quick: bool) -> int:
    if quick:
        return 50 if scenario.endpoints > 1 else 100
    return 150 if scenario.endpoints > 1 else 300


def run_scenario(scenario: Scenario, events: int) -> Outcome:
    """One scenario on a fresh deployment in this process (moto's transactions copy every table they
    touch, so a table left full by an earlier scenario would slow the next one down)."""
    with deployed_stack({"RetrySchedule": RETRY_SCHEDULE}) as stack:
        model = CapacityModel(boto3.session.Session(region_name=REGION).client("dynamodb"))
        stack.meter.observers.append(model)
        stack.meter.backend.keep_intervals = True  # billed time is told without moto's serving
        return Runner(stack).run(scenario, events)


def _in_child(scenario: Scenario, events: int) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="hookline-cost-") as tmp:
        result = Path(tmp) / "outcome.pickle"
        command = [sys.executable, "-m", "bench.cost", "--scenario", scenario.name, "--events", str(events)]
        subprocess.run([*command, "--child-output", str(result)], check=True)  # noqa: S603 - ourselves
        with result.open("rb") as file:
            outcome: Outcome = pickle.load(file)  # noqa: S301 - written by our own child process
    return outcome


def report(outcomes: list[Outcome]) -> str:
    lines = [
        "Cost model: real handlers in-process on template.yaml in moto, every AWS call metered; "
        "each scenario in a fresh process (see python -m bench.cost --help)",
        *price_lines(),
        "",
        "Columns, per event: requests = API calls (retries included); billed = SQS requests per",
        "64 KB chunk, or SNS publishes; WU / RU = DynamoDB write (index writes included) and read units",
        "by AWS's size rules; moto RCC = moto's answer to ReturnConsumedCapacity (fixed placeholders in",
        "moto 5.2.5: a cross-check). Lambda's billed ms leave out moto's in-process serving of AWS calls.",
    ]
    for outcome in outcomes:
        lines += ["", *scenario_lines(outcome)]
    lines += ["", *summary_lines(outcomes), "", *final_lines(outcomes)]
    return "\n".join(lines)


def measure(
    names: Sequence[str] | None = None, *, events: int | None = None, quick: bool = False
) -> list[Outcome]:
    """Run the scenarios, each in a child process of its own."""
    outcomes = []
    for name in names or SCENARIOS:
        scenario = SCENARIOS[name]
        print(f"[cost] {scenario.name} ...", file=sys.stderr, flush=True)
        outcomes.append(_in_child(scenario, events or default_events(scenario, quick)))
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_output is not None:
        [name] = args.scenario
        outcome = run_scenario(SCENARIOS[name], args.events)
        with args.child_output.open("wb") as file:
            pickle.dump(outcome, file)
        return 0
    outcomes = measure(args.scenario, events=args.events, quick=args.quick)
    print(report(outcomes))
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(outcomes), indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    # Through the importable module, so that what a child pickles names bench.cost, not __main__.
    from bench.cost import main as cost_main

    raise SystemExit(cost_main())
