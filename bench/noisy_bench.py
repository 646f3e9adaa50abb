"""Noisy neighbours: a quiet tenant's time from 202 to delivery, alone and beside another tenant's load.

    .venv/bin/python -m bench --only noisy [--quick] [--no-fair-queues]
    .venv/bin/python -m bench.noisy_bench [--scenario slow] [--quiet-events 40] [--no-fair-queues]
    .venv/bin/python -m bench.noisy_bench --scenario slow --stack-log .aws-sam/noisy   # keep the stack's log

Each scenario runs on a fresh local stack with the template's defaults (the local stack's own defaults
aside: loopback receivers allowed), so nothing of one scenario reaches the next, and stops with it:

1. the quiet tenant alone: ``--quiet-events`` events sent one at a time, ``GAP_SECONDS`` apart (after a
   few warm-up events), each timed from just before its POST to its arrival at a receiver on 127.0.0.1;
2. a noisy tenant's load starts (events sent in batches of 100 from a background thread) to an endpoint
   of its own, a receiver in a child process: ``flood`` (thousands of events, answered at once), ``slow``
   (answered after 1 s), ``hanging`` (answered long after the delivery timeout), ``failing`` (500s);
3. once that receiver has seen ``started_after`` requests (the load is really under way), the quiet tenant
   sends the same number of events again.

A control scenario, ``cpu``, has no noisy tenant at all: as many processes as the machine has cores spin
while the quiet tenant is measured the second time. Whatever ratio it shows is what sharing this
machine's cores costs the local stack, with no other tenant for Hookline to isolate the quiet one from
(on AWS every function instance, DynamoDB and SQS have capacity of their own).

Each scenario prints ``noisy: <scenario>: quiet p50 X ms, p95 Y ms (alone p95 Z ms): ratio R; from the
202: p95 A ms (alone B ms): ratio S``, with R = p95 beside / p95 alone measured from just before the POST
(the stricter figure: it includes the API's own answer) and S the same from the client's receipt of the
202 (issue 14's words; a delivery that arrives before its 202 counts 0). Issue 14 asks for <= 2. A quiet
event not delivered within
``DELIVERY_DEADLINE_SECONDS`` of its POST counts as that long (and is reported). While the quiet tenant
is measured, the stack's dispatch workers are sampled (how many are busy) and the noisy receiver's
request count is read, to show where the time goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.exceptions import BotoCoreError, ClientError

from bench.local_stack_bench import API_KEY, WARM_UP_SECONDS, _percentile, _Recorder
from bench.receiver import ReceiverProcess
from cli.client import BatchEvent, HooklineClient
from local_stack.process import StackInfo, StackProcess
from local_stack.stack import DEFAULT_MAX_CONCURRENCY

GAP_SECONDS = 0.1  # between two quiet events
WARM_UP_EVENTS = 5
WARM_UP_ROUNDS = 5
DELIVERY_DEADLINE_SECONDS = 60.0
LOAD_START_DEADLINE_SECONDS = 120.0
HANG_SECONDS = 120.0  # far past the template's delivery timeout (15 s by default)
NOISY_BATCH = 100
DISPATCH_WORKERS = DEFAULT_MAX_CONCURRENCY  # the local stack's default pool per function


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    events: int  # the noisy tenant's
    delay: float  # its receiver's answer time
    status: int  # and answer
    started_after: int  # noisy requests seen before the quiet tenant is measured
    what: str
    cpu_spinners: int = 0  # the control: no noisy tenant, these many processes spinning instead


SCENARIOS = (
    Scenario("flood", 3_000, 0.0, 200, 200, "3,000 events to a fast endpoint"),
    Scenario("slow", 1_000, 1.0, 200, 40, "1,000 events to an endpoint answering 200 after 1 s"),
    Scenario("hanging", 1_000, HANG_SECONDS, 200, 10, "1,000 events to an endpoint that never answers"),
    # The breaker opens after 5 failures (BreakerFailureThreshold): few requests ever arrive after that.
    Scenario("failing", 1_000, 0.0, 500, 5, "1,000 events to an endpoint answering 500"),
    Scenario(
        "cpu",
        0,
        0.0,
        200,
        0,
        "control: no noisy tenant, one spinning process per core",
        cpu_spinners=os.cpu_count() or 2,
    ),
)
QUICK_EVENTS = {"flood": 1_500, "slow": 500, "hanging": 500, "failing": 500, "cpu": 0}


@dataclass
class QuietRun:
    latencies_ms: list[float]  # from just before the POST to the first arrival
    undelivered: int
    accepted_ms: list[float] = field(default_factory=list)  # from before the POST to its 202
    after_accepted_ms: list[float] = field(default_factory=list)  # from the 202 to the first arrival

    @property
    def p50(self) -> float:
        return _percentile(self.latencies_ms, 0.50)

    @property
    def p95(self) -> float:
        return _percentile(self.latencies_ms, 0.95)

    @property
    def after_accepted_p95(self) -> float:
        return _percentile(self.after_accepted_ms, 0.95)


@dataclass
class ScenarioResult:
    scenario: str
    what: str
    noisy_events: int
    alone_p50_ms: float
    alone_p95_ms: float
    beside_p50_ms: float
    beside_p95_ms: float
    beside_max_ms: float
    beside_accepted_p95_ms: float  # of which the API's answer (ingest), to tell it from dispatch's part
    ratio: float
    alone_after_202_p95_ms: float
    beside_after_202_p95_ms: float
    ratio_after_202: float
    undelivered: int
    noisy_requests_while_measured: int
    busy_dispatch_workers_mean: float
    runnable_tasks_mean: float  # on the whole machine while the quiet tenant was measured beside the load
    emulator_get_item_alone_p95_ms: float  # one DynamoDB GetItem on the stack's moto, alone
    emulator_get_item_p50_ms: float  # and beside the load
    emulator_get_item_p95_ms: float
    dispatch_workers: int
    load_started_in_s: float
    fair_queues: bool
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (
            f"noisy: {self.scenario}: quiet p50 {self.beside_p50_ms:.0f} ms, p95 {self.beside_p95_ms:.0f} ms "
            f"(alone p95 {self.alone_p95_ms:.0f} ms): ratio {self.ratio:.1f}; "
            f"from the 202: p95 {self.beside_after_202_p95_ms:.0f} ms "
            f"(alone {self.alone_after_202_p95_ms:.0f} ms): ratio {self.ratio_after_202:.1f}"
        )
        if self.undelivered:
            text += f" ({self.undelivered} not delivered within {DELIVERY_DEADLINE_SECONDS:.0f} s)"
        return text


def _measure_quiet(client: HooklineClient, tenant: str, recorder: _Recorder, events: int) -> QuietRun:
    """Send ``events`` one at a time, GAP_SECONDS apart, without waiting for each delivery."""
    sent: dict[str, tuple[float, float]] = {}  # event id -> (before the POST, the 202's receipt)
    accepted_ms: list[float] = []
    for _ in range(events):
        started = time.perf_counter()
        accepted = client.send_event(tenant, "quiet.ping", {"sent": time.time()})
        answered = time.perf_counter()
        accepted_ms.append((answered - started) * 1000)
        sent[str(accepted["id"])] = (started, answered)
        time.sleep(max(0.0, GAP_SECONDS - (time.perf_counter() - started)))  # pacing, not a wait
    last = max(started for started, _ in sent.values())
    recorder.wait_for(
        lambda: all(event_id in recorder.arrivals for event_id in sent),
        timeout=max(0.0, last + DELIVERY_DEADLINE_SECONDS - time.perf_counter()),
    )
    latencies: list[float] = []
    after_accepted: list[float] = []
    undelivered = 0
    for event_id, (started, answered) in sent.items():
        arrivals = recorder.arrivals.get(event_id)
        arrived = arrivals[0] if arrivals else started + DELIVERY_DEADLINE_SECONDS
        undelivered += 0 if arrivals else 1
        latencies.append((arrived - started) * 1000)
        after_accepted.append(max(0.0, arrived - answered) * 1000)
    return QuietRun(latencies, undelivered, accepted_ms, after_accepted)


class _NoisyLoad:
    """The noisy tenant's events, posted in batches from a background thread until done or stopped."""

    def __init__(self, client: HooklineClient, tenant: str, events: int) -> None:
        self._client, self._tenant, self._events = client, tenant, events
        self._stop = threading.Event()
        self.sent = 0
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="noisy-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while self.sent < self._events and not self._stop.is_set():
            size = min(NOISY_BATCH, self._events - self.sent)
            batch: list[BatchEvent] = [
                {"type": "noisy.ping", "data": {"n": self.sent + n}} for n in range(size)
            ]
            try:
                self._client.send_events(self._tenant, batch)
            except Exception as exc:  # noqa: BLE001 - reported with the result; the run goes on
                self.errors.append(str(exc))
                self._stop.wait(1.0)
                continue
            self.sent += size

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def _dispatch_workers(workers_url: str) -> list[dict[str, Any]]:
    answer = requests.get(workers_url, timeout=5).json()
    return list(answer.get("functions", {}).get("dispatch", []))


def _warm_every_worker(client: HooklineClient, recorder: _Recorder, control_url: str, workers: int) -> None:
    """Start every dispatch worker the stack will use (each starts cold, on demand): a batch of events
    to a tenant of its own, as often as it takes, so that cold starts stay out of the quiet tenant's
    baseline (they would flatter the ratio)."""
    tenant = f"warm-{uuid.uuid4().hex[:8]}"
    client.put_tenant(tenant, tenant)
    client.create_endpoint(tenant, recorder.url)
    for _ in range(WARM_UP_ROUNDS):
        accepted = client.send_events(tenant, [{"type": "warm.ping", "data": {}} for _ in range(NOISY_BATCH)])
        ids = [str(item["id"]) for item in accepted["data"]]
        recorder.wait_for(
            lambda ids=ids: all(i in recorder.arrivals for i in ids), timeout=DELIVERY_DEADLINE_SECONDS
        )
        if len(_dispatch_workers(f"{control_url}/workers")) >= workers:
            return


class _Spinners:
    """The control scenario's load: processes that only burn CPU, none of them Hookline's."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> _Spinners:
        self._processes = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self._count)
        ]
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self._processes:
            process.kill()
            process.wait()


class _StackSampler:
    """Samples how many dispatch workers are busy, twice a second, through the stack's control server; how
    many tasks the machine has runnable, twenty times a second (``/proc/loadavg``'s running count, less the
    sampler itself): the CPU demand a control with that many spinning processes matches; and how long one
    DynamoDB GetItem takes on the stack's moto, four times a second: every tenant's AWS calls share that
    one process (its DynamoDB calls one at a time), where on AWS they would not."""

    def __init__(self, control_url: str, info: StackInfo) -> None:
        self._url = f"{control_url}/workers"
        self._info = info
        self._stop = threading.Event()
        self.busy: list[int] = []
        self.runnable: list[int] = []
        self.emulator_ms: list[float] = []
        self.workers = 0
        self._threads = (
            threading.Thread(target=self._sample_workers, name="worker-sampler", daemon=True),
            threading.Thread(target=self._sample_runnable, name="runnable-sampler", daemon=True),
            threading.Thread(target=self._probe_emulator, name="emulator-probe", daemon=True),
        )

    def __enter__(self) -> _StackSampler:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)

    def _probe_emulator(self) -> None:
        dynamodb = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=self._info.region
        ).client("dynamodb", endpoint_url=self._info.aws_endpoint_url)
        table = self._info.outputs["TableName"]
        key = {"pk": {"S": "noisy-bench-probe"}, "sk": {"S": "noisy-bench-probe"}}
        while not self._stop.wait(0.25):
            started = time.perf_counter()
            try:
                dynamodb.get_item(TableName=table, Key=key)
            except (BotoCoreError, ClientError):  # a probe that failed measured nothing; the next one may not
                continue
            self.emulator_ms.append((time.perf_counter() - started) * 1000)

    def _sample_runnable(self) -> None:
        loadavg = Path("/proc/loadavg")
        if not loadavg.exists():
            return
        while not self._stop.wait(0.05):
            running = loadavg.read_text().split()[3].split("/")[0]
            self.runnable.append(max(0, int(running) - 1))

    def _sample_workers(self) -> None:
        while not self._stop.wait(0.5):
            try:
                workers = _dispatch_workers(self._url)
            except (requests.RequestException, ValueError):
                continue
            self.workers = max(self.workers, len(workers))
            self.busy.append(sum(1 for worker in workers if worker.get("busy")))


def run_scenario(
    scenario: Scenario,
    quiet_events: int,
    noisy_events: int,
    fair_queues: bool,
    stack_log: Path | None = None,
) -> ScenarioResult:
    """``stack_log``: a folder for the stack's every line at DEBUG (``<scenario>.log``), to see where the
    time went: the quiet events' ids are ULIDs, so each carries the millisecond it was accepted."""
    args = ["--api-key", API_KEY] + ([] if fair_queues else ["--no-fair-queues"])
    log_file = None
    if stack_log is None:
        args.append("--quiet")
    else:
        stack_log.mkdir(parents=True, exist_ok=True)
        log_file = stack_log / f"{scenario.name}.log"
        args += ["--verbose", "--parameter-overrides", "LogLevel=DEBUG"]
    recorder = _Recorder()
    try:
        with (
            StackProcess(args, log_file=log_file) as stack,
            ReceiverProcess(delay=scenario.delay, status=scenario.status) as noisy_receiver,
        ):
            assert stack.info is not None
            client = HooklineClient(stack.info.api_url, API_KEY)
            quiet, noisy = (f"{role}-{uuid.uuid4().hex[:8]}" for role in ("quiet", "noisy"))
            for tenant, url in ((quiet, recorder.url), (noisy, noisy_receiver.url + "/hook")):
                client.put_tenant(tenant, tenant)
                client.create_endpoint(tenant, url)
            control_url = str(stack.info.state.get("control_url", ""))
            time.sleep(WARM_UP_SECONDS)  # the stack starts its remaining workers in the background
            _warm_every_worker(client, recorder, control_url, DISPATCH_WORKERS)
            _measure_quiet(client, quiet, recorder, WARM_UP_EVENTS)
            with _StackSampler(control_url, stack.info) as alone_sampler:
                alone = _measure_quiet(client, quiet, recorder, quiet_events)

            load = _NoisyLoad(HooklineClient(stack.info.api_url, API_KEY), noisy, noisy_events)
            load_started = time.perf_counter()
            load.start()
            notes: list[str] = []
            if not _wait_for_requests(noisy_receiver, scenario.started_after, LOAD_START_DEADLINE_SECONDS):
                notes.append(f"the noisy receiver saw fewer than {scenario.started_after} requests in time")
            started_in = time.perf_counter() - load_started
            before = noisy_receiver.stats()["posts"]
            with _Spinners(scenario.cpu_spinners), _StackSampler(control_url, stack.info) as sampler:
                beside = _measure_quiet(client, quiet, recorder, quiet_events)
            noisy_requests = noisy_receiver.stats()["posts"] - before
            load.stop()
            if load.errors:
                notes.append(f"{len(load.errors)} noisy batch(es) refused, e.g. {load.errors[0]}")
    finally:
        recorder.close()
    return ScenarioResult(
        scenario=scenario.name,
        what=scenario.what,
        noisy_events=noisy_events,
        alone_p50_ms=alone.p50,
        alone_p95_ms=alone.p95,
        beside_p50_ms=beside.p50,
        beside_p95_ms=beside.p95,
        beside_max_ms=max(beside.latencies_ms),
        beside_accepted_p95_ms=_percentile(beside.accepted_ms, 0.95),
        ratio=_ratio(beside.p95, alone.p95),
        alone_after_202_p95_ms=alone.after_accepted_p95,
        beside_after_202_p95_ms=beside.after_accepted_p95,
        ratio_after_202=_ratio(beside.after_accepted_p95, alone.after_accepted_p95),
        undelivered=beside.undelivered + alone.undelivered,
        noisy_requests_while_measured=noisy_requests,
        busy_dispatch_workers_mean=statistics.mean(sampler.busy) if sampler.busy else 0.0,
        runnable_tasks_mean=statistics.mean(sampler.runnable) if sampler.runnable else 0.0,
        emulator_get_item_alone_p95_ms=_percentile(alone_sampler.emulator_ms or [0.0], 0.95),
        emulator_get_item_p50_ms=_percentile(sampler.emulator_ms or [0.0], 0.50),
        emulator_get_item_p95_ms=_percentile(sampler.emulator_ms or [0.0], 0.95),
        dispatch_workers=sampler.workers,
        load_started_in_s=started_in,
        fair_queues=fair_queues,
        notes=notes,
    )


def _ratio(beside: float, alone: float) -> float:
    return beside / alone if alone > 0 else float("inf")


def _wait_for_requests(receiver: ReceiverProcess, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if receiver.stats()["posts"] >= count:
            return True
        time.sleep(0.2)  # polling another process's counter: there is nothing to wait on here
    return False


def measure(
    scenarios: Sequence[str] | None = None,
    quick: bool = False,
    fair_queues: bool = True,
    quiet_events: int = 40,
    stack_log: Path | None = None,
    cpu_spinners: int | None = None,
) -> list[ScenarioResult]:
    """``cpu_spinners``: how many processes the ``cpu`` control spins (default: one per core)."""
    chosen = [s for s in SCENARIOS if not scenarios or s.name in scenarios]
    if cpu_spinners is not None:
        chosen = [replace(s, cpu_spinners=cpu_spinners) if s.cpu_spinners else s for s in chosen]
    results = []
    for scenario in chosen:
        print(f"noisy: {scenario.name}: {scenario.what} ...", file=sys.stderr, flush=True)
        events = QUICK_EVENTS[scenario.name] if quick else scenario.events
        result = run_scenario(scenario, quiet_events, events, fair_queues, stack_log)
        print(result.line(), file=sys.stderr, flush=True)
        results.append(result)
    return results


def as_json(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    return {result.scenario: asdict(result) for result in results}


def report(results: Sequence[ScenarioResult]) -> str:
    lines = [result.line() for result in results]
    for result in results:
        lines.append(
            f"  {result.scenario}: alone p50 {result.alone_p50_ms:.0f} ms; "
            f"beside max {result.beside_max_ms:.0f} ms (202 p95 {result.beside_accepted_p95_ms:.0f} ms); "
            f"{result.noisy_requests_while_measured} noisy requests while measured; "
            f"dispatch workers busy {result.busy_dispatch_workers_mean:.1f} of {result.dispatch_workers} "
            f"on average; {result.runnable_tasks_mean:.1f} tasks runnable on average; "
            f"a GetItem on moto p50 {result.emulator_get_item_p50_ms:.0f} ms, "
            f"p95 {result.emulator_get_item_p95_ms:.0f} ms (alone p95 "
            f"{result.emulator_get_item_alone_p95_ms:.0f} ms); "
            f"load under way after {result.load_started_in_s:.1f} s"
            + "".join(f"; {note}" for note in result.notes)
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.noisy_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS])
    parser.add_argument("--quiet-events", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="half the noisy events")
    parser.add_argument("--no-fair-queues", action="store_true", help="the local stack plays no fair queues")
    parser.add_argument(
        "--stack-log", type=Path, help="keep each scenario's stack log, at DEBUG, in this folder (slower)"
    )
    parser.add_argument(
        "--cpu-spinners", type=int, help="processes the cpu control spins (default: one per core)"
    )
    args = parser.parse_args(argv)
    fair_queues = not args.no_fair_queues
    results = measure(
        args.scenario, args.quick, fair_queues, args.quiet_events, args.stack_log, args.cpu_spinners
    )
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
