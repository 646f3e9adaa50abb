"""Local-stack measurements: start-up time, ingest -> receiver latency, and delivery throughput.

    .venv/bin/python -m bench.local_stack_bench [--startup-runs 3] [--events 200] [--throughput-events 100]

- start-up: from running ``python -m local_stack`` to "ready" (its state file written), median of N runs;
- latency: one tenant, one endpoint on 127.0.0.1; events are sent one at a time, each timed from just
  before its POST until the receiver has the whole request (p50/p95/max over ``--events``, after 10
  warm-up events that are not counted, on a stack left 3 s to start its remaining workers);
- throughput: ten endpoints, ``--throughput-events`` events sent by 4 client threads; deliveries per
  second from the first POST to the last delivery received.

Every stack is started with a fixed API key and the default template parameters (the local defaults allow
loopback receivers). Queues stay drained: each phase waits until every delivery has arrived.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cli.client import HooklineClient
from local_stack.process import StackProcess

API_KEY = "bench-key"
WARM_UP_SECONDS = 3.0


class _Recorder:
    """A 200-answering HTTP receiver on 127.0.0.1 that timestamps each request by its webhook-id."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.count = 0
        self._cond = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                arrived = time.perf_counter()
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
                with recorder._cond:
                    recorder.arrivals.setdefault(self.headers.get("webhook-id", ""), []).append(arrived)
                    recorder.count += 1
                    recorder._cond.notify_all()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        with self._cond:
            return bool(self._cond.wait_for(predicate, timeout=timeout))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class _Api:
    def __init__(self, base_url: str) -> None:
        self.client = HooklineClient(base_url, API_KEY)

    def tenant(self) -> str:
        tenant = f"bench-{uuid.uuid4().hex[:8]}"
        self.client.put_tenant(tenant, tenant)
        return tenant

    def endpoint(self, tenant: str, url: str) -> str:
        return str(self.client.create_endpoint(tenant, url)["id"])

    def event(self, tenant: str, client: HooklineClient | None = None) -> str:
        """Send one event (through ``client``: one per thread, as each holds its own connections)."""
        accepted = (client or self.client).send_event(tenant, "bench.ping", {"sent": time.time()})
        return str(accepted["id"])


def measure_startup(runs: int) -> dict[str, float]:
    totals: list[float] = []
    internal: list[float] = []
    for _ in range(runs):
        stack = StackProcess(["--api-key", API_KEY, "--quiet"])
        stack.start()
        totals.append(stack.startup_seconds)
        assert stack.info is not None
        internal.append(float(stack.info.state.get("started_in_seconds", 0.0)))
        stack.stop()
    return {
        "startup_median_s": statistics.median(totals),
        "startup_min_s": min(totals),
        "startup_max_s": max(totals),
        "startup_internal_median_s": statistics.median(internal),
    }


def measure_latency(api: _Api, events: int, warmup: int = 10) -> dict[str, float]:
    recorder = _Recorder()
    try:
        tenant = api.tenant()
        api.endpoint(tenant, recorder.url)
        samples: list[float] = []
        answers: list[float] = []
        for number in range(warmup + events):
            sent = time.perf_counter()
            event_id = api.event(tenant)
            answered = time.perf_counter()
            if not recorder.wait_for(lambda event_id=event_id: event_id in recorder.arrivals, timeout=30):
                raise RuntimeError(f"event {event_id} was not delivered within 30 s")
            if number >= warmup:
                samples.append((recorder.arrivals[event_id][0] - sent) * 1000)
                answers.append((answered - sent) * 1000)
    finally:
        recorder.close()
    return {
        "latency_p50_ms": _percentile(samples, 0.50),
        "latency_p95_ms": _percentile(samples, 0.95),
        "latency_max_ms": max(samples),
        "latency_mean_ms": statistics.mean(samples),
        "ingest_answer_p50_ms": _percentile(answers, 0.50),
    }


def measure_throughput(api: _Api, events: int, endpoints: int = 10, clients: int = 4) -> dict[str, float]:
    recorder = _Recorder()
    try:
        tenant = api.tenant()
        for _ in range(endpoints):
            api.endpoint(tenant, recorder.url)
        # Warm every worker first (cold starts are start-up cost, not throughput).
        api.event(tenant)
        recorder.wait_for(lambda: recorder.count >= endpoints, timeout=60)
        baseline = recorder.count
        expected = baseline + events * endpoints
        local = threading.local()

        def send(_: int) -> None:
            if not hasattr(local, "client"):
                local.client = HooklineClient(api.client.url, API_KEY)
            api.event(tenant, local.client)

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, range(events)))
        posted = time.perf_counter()
        if not recorder.wait_for(lambda: recorder.count >= expected, timeout=300):
            raise RuntimeError(f"only {recorder.count - baseline} of {events * endpoints} deliveries arrived")
        finished = time.perf_counter()
    finally:
        recorder.close()
    deliveries = events * endpoints
    return {
        "throughput_deliveries": float(deliveries),
        "throughput_seconds": finished - started,
        "throughput_deliveries_per_s": deliveries / (finished - started),
        "throughput_ingest_events_per_s": events / (posted - started),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.local_stack_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=200, help="latency samples (default 200)")
    parser.add_argument(
        "--throughput-events", type=int, default=100, help="events x 10 endpoints (default 100)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)

    results: dict[str, float] = {}
    print(f"start-up: {args.startup_runs} run(s) ...", flush=True)
    results |= measure_startup(args.startup_runs)
    with StackProcess(["--api-key", API_KEY, "--quiet"]) as stack:
        assert stack.info is not None
        api = _Api(stack.info.api_url)
        time.sleep(WARM_UP_SECONDS)  # the stack starts its remaining workers in the background after "ready"
        print(f"latency: {args.events} events, one endpoint ...", flush=True)
        results |= measure_latency(api, args.events)
        print(f"throughput: {args.throughput_events} events x 10 endpoints ...", flush=True)
        results |= measure_throughput(api, args.throughput_events)

    rows = [
        ("start-up, command to ready (median)", f"{results['startup_median_s']:.2f} s"),
        ("  min / max", f"{results['startup_min_s']:.2f} / {results['startup_max_s']:.2f} s"),
        ("  of which inside the stack process", f"{results['startup_internal_median_s']:.2f} s"),
        (f"ingest -> receiver latency p50 ({args.events} events)", f"{results['latency_p50_ms']:.0f} ms"),
        ("ingest -> receiver latency p95", f"{results['latency_p95_ms']:.0f} ms"),
        ("  mean / max", f"{results['latency_mean_ms']:.0f} / {results['latency_max_ms']:.0f} ms"),
        ("  of which POST /events answering 202 (p50)", f"{results['ingest_answer_p50_ms']:.0f} ms"),
        (
            f"throughput, 10 endpoints ({results['throughput_deliveries']:.0f} deliveries)",
            f"{results['throughput_deliveries_per_s']:.0f} deliveries/s",
        ),
        (
            "  ingest rate while sending (4 clients)",
            f"{results['throughput_ingest_events_per_s']:.0f} events/s",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    print(f"{'local stack measurement'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 18}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
