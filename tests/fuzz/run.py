"""One fuzz run: start the local stack, set up live ids, send the named cases and then hypothesis'
structured, mutated and raw requests, check every answer, and finish with a healthy signed delivery.

Violations are collected rather than raised, so one run counts every 5xx and groups them by cause: a 5xx
is traced to the exception the function logged for that request (the gateway's request id is the log's
correlation id), other violations by what they share.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from local_stack.process import StackProcess
from tests.fuzz import strategies
from tests.fuzz.oracles import Violation, check, strict_json
from tests.fuzz.routes import Live
from tests.fuzz.specials import special_cases
from tests.fuzz.wire import FuzzRequest, FuzzResponse, send
from tests.receivers import Receiver

API_KEY = "fuzz-" + uuid.uuid4().hex
_IDS = re.compile(r"\b(?:evt|ep|key|fuzz)_?[A-Za-z0-9-]{6,}\b|\b[0-9a-f]{8,}\b")


@dataclass
class Finding:
    oracle: str
    cause: str
    count: int = 0
    example: str = ""
    example_size: int = 1 << 30


@dataclass
class Collector:
    host: str
    port: int
    cases: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    five_xx: int = 0
    pending: list[tuple[FuzzRequest, FuzzResponse, Violation]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def exchange(self, request: FuzzRequest) -> None:
        response = send(self.host, self.port, request)
        violations = check(request, response)
        with self.lock:
            self.cases += 1
            self.by_kind[request.kind] += 1
            self.by_status[f"{response.status // 100}xx" if response.status else "no answer"] += 1
            if response.status >= 500:
                self.five_xx += 1
            self.pending.extend((request, response, violation) for violation in violations)


def run_property(
    strategy: st.SearchStrategy[FuzzRequest],
    examples: int,
    run_seed: int,
    body: Callable[[FuzzRequest], None],
) -> None:
    """One hypothesis property over ``examples`` generated requests (violations are collected by ``body``,
    not raised, so there is nothing to shrink)."""

    @seed(run_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def every_answer_holds_the_oracles(request: FuzzRequest) -> None:
        body(request)

    every_answer_holds_the_oracles()


@dataclass
class FuzzReport:
    cases: int
    five_xx: int
    by_kind: dict[str, int]
    by_status: dict[str, int]
    findings: list[Finding]
    final_checks: dict[str, str]
    seconds: dict[str, float]

    @property
    def ok(self) -> bool:
        return not self.findings and all(value == "ok" for value in self.final_checks.values())


class FuzzRun:
    def __init__(self, cases: int, run_seed: int, log_dir: Path) -> None:
        self.cases = cases
        self.seed = run_seed
        self.log_dir = log_dir
        self.run_id = uuid.uuid4().hex[:8]
        self.log_file = log_dir / f"fuzz-stack-{self.run_id}.log"

    def execute(self) -> FuzzReport:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        stack = StackProcess(
            ["--api-key", API_KEY, "--verbose", "--parameter-overrides", "RetrySchedule=0,1,1"],
            log_file=self.log_file,
        )
        info = stack.start()
        try:
            with Receiver() as sink:
                host, port = "127.0.0.1", int(info.api_url.rsplit(":", 1)[1])
                api = _Api(info.api_url)
                live = self._set_up(api, sink.url)
                collector = Collector(host, port)
                seconds = {"start and setup": round(time.monotonic() - started, 1)}
                phase = time.monotonic()
                self._fuzz(live, collector)
                seconds["fuzz"] = round(time.monotonic() - phase, 1)
                phase = time.monotonic()
                final = {"healthy signed delivery afterwards": self._healthy_delivery(api, live)}
                final["delivered bodies are strict JSON"] = self._delivered_json(sink)
                final["no batch failed as a whole"] = self._whole_batch_failures()
                seconds["final checks"] = round(time.monotonic() - phase, 1)
        finally:
            stack.stop()
        findings = self._group(collector)
        seconds["total"] = round(time.monotonic() - started, 1)
        return FuzzReport(
            collector.cases,
            collector.five_xx,
            dict(collector.by_kind),
            dict(collector.by_status),
            findings,
            final,
            seconds,
        )

    def _set_up(self, api: _Api, sink_url: str) -> Live:
        tenant = f"fuzz-{self.run_id}-live"
        api.expect(201, "PUT", f"/v1/tenants/{tenant}", {"name": "Fuzz"})
        endpoint = api.expect(
            201, "POST", f"/v1/tenants/{tenant}/endpoints", {"url": sink_url + "/fuzz/live"}
        )
        event = api.expect(202, "POST", f"/v1/tenants/{tenant}/events", {"type": "fuzz.live", "data": {}})
        live = Live(API_KEY, tenant, endpoint["id"], event["id"], sink_url, self.run_id, "")
        for other in live.scratch_tenants + live.disposable_tenants:
            api.expect(201, "PUT", f"/v1/tenants/{other}", {"name": other})
        scratch = api.expect(
            201,
            "POST",
            f"/v1/tenants/{live.scratch_tenants[0]}/endpoints",
            {"url": sink_url + "/fuzz/scratch"},
        )
        return replace(live, scratch_endpoint_id=scratch["id"])

    def _fuzz(self, live: Live, collector: Collector) -> None:
        for _, request in special_cases(live):
            collector.exchange(request)
        remaining = max(0, self.cases - collector.cases)
        shares = {"structured": remaining // 2, "mutated": remaining // 4}
        shares["raw"] = remaining - shares["structured"] - shares["mutated"]
        kinds: dict[str, st.SearchStrategy[FuzzRequest]] = {
            "structured": strategies.structured(live).map(lambda pair: pair[0]),
            "mutated": strategies.mutated(live),
            "raw": strategies.raw(live),
        }
        for kind, examples in shares.items():
            if examples:
                print(f"  {kind}: {examples} cases ...", flush=True)
                run_property(kinds[kind], examples, self.seed, collector.exchange)

    def _healthy_delivery(self, api: _Api, live: Live) -> str:
        """A fresh tenant's endpoint gets two events, each once, each with a valid signature, though
        they are sent among events to every tenant the fuzz touched (whose endpoints may be hostile)."""
        tenant = f"fuzz-{self.run_id}-after"
        neighbours = (live.tenant, *live.scratch_tenants)
        with Receiver() as receiver:
            api.expect(201, "PUT", f"/v1/tenants/{tenant}", {"name": "After the fuzz"})
            endpoint = api.expect(
                201, "POST", f"/v1/tenants/{tenant}/endpoints", {"url": receiver.url + "/after"}
            )
            secret = api.expect(200, "GET", f"/v1/tenants/{tenant}/endpoints/{endpoint['id']}/secret", None)[
                "secret"
            ]
            sent = []
            for number in range(2):
                for neighbour in neighbours:
                    api.send(neighbour, {"type": "fuzz.neighbour", "data": {"n": number}})
                event = {"type": "fuzz.after", "data": {"n": number}}
                sent.append(api.expect(202, "POST", f"/v1/tenants/{tenant}/events", event)["id"])
            try:
                arrived = receiver.wait_for_requests(2, timeout=60)
            except TimeoutError as exc:
                return f"not delivered: {exc}"
            ids = Counter(request.headers.get("webhook-id") for request in arrived)
            if set(ids) != set(sent) or any(count != 1 for count in ids.values()):
                return f"expected each of {sent} once, got {dict(ids)}"
            for request in arrived:
                try:
                    Webhook(secret).verify(request.body, dict(request.headers))
                except WebhookVerificationError as exc:
                    return f"bad signature: {exc}"
        return "ok"

    def _delivered_json(self, sink: Receiver) -> str:
        bad = [(request.path, strict_json(request.body), request.body[:120]) for request in sink.requests]
        bad = [entry for entry in bad if entry[1]]
        if not bad:
            return "ok"
        path, why, body = bad[0]
        return f"{len(bad)} of {len(sink.requests)} deliveries are not JSON, e.g. {path}: {why}: {body!r}"

    def _whole_batch_failures(self) -> str:
        """Per-record isolation: an SQS-triggered invocation must never fail as a whole (the poller
        logs each one that did, with the records it sent back)."""
        failures = [
            line.split("WARNING", 1)[-1].strip()
            for line in self.log_file.read_text(errors="replace").splitlines()
            if "invocation failed (" in line
        ]
        if not failures:
            return "ok"
        kinds = Counter(line.split("(", 1)[1].split(":", 1)[0] for line in failures)
        return f"{len(failures)} invocation(s) failed whole ({dict(kinds)}), e.g. {failures[0][:300]}"

    # ---------------------------------------------------------------------------------------- grouping

    def _log_causes(self) -> dict[str, str]:
        """correlation id -> what the function logged about the failure."""
        causes: dict[str, str] = {}
        for line in self.log_file.read_text(errors="replace").splitlines():
            if "correlation_id" not in line or ("ERROR" not in line and "WARNING" not in line):
                continue
            try:
                record = json.loads(line[line.index("{") :])
            except ValueError:
                continue
            correlation = record.get("correlation_id")
            if not correlation:
                continue
            if record.get("exception_name"):
                frames = (record.get("stack_trace") or {}).get("frames") or []
                ours = [frame for frame in frames if "/hookline/" in str(frame.get("file"))]
                where = ours[-1] if ours else (frames[-1] if frames else {})
                file_name = str(where.get("file", "?")).rsplit("/", 2)
                causes[correlation] = (
                    f"{record['exception_name']} at {'/'.join(file_name[-2:])}:{where.get('function', '?')}"
                )
            elif record.get("reason"):
                message = line[: line.index("{")].split(maxsplit=3)[-1].strip()  # "<time> <fn> <LEVEL> <msg>"
                reason = _IDS.sub("<id>", str(record["reason"]))[:160]
                causes.setdefault(correlation, f"{message}: {reason}")
        return causes

    def _group(self, collector: Collector) -> list[Finding]:
        causes = self._log_causes()
        groups: dict[tuple[str, str], Finding] = {}
        for request, response, violation in collector.pending:
            if violation.oracle == "no 5xx":
                logged = causes.get(response.headers.get("apigw-requestid", ""))
                answered = _IDS.sub("<id>", response.body[:120].decode("utf-8", "replace"))
                cause = f"{response.status}: {logged or answered}"
            elif violation.oracle == "known-bad input refused":
                cause = violation.detail.rsplit(": got", 1)[0] + f" (answered {response.status})"
            elif violation.oracle == "the error shape on a 4xx":
                cause = f"{response.status} {_IDS.sub('<id>', response.body[:60].decode('utf-8', 'replace'))}"
            else:
                cause = _IDS.sub("<id>", violation.detail)[:160]
            finding = groups.setdefault((violation.oracle, cause), Finding(violation.oracle, cause))
            finding.count += 1
            text = f"{request.describe()} -> {response.status or response.error}"
            if len(text) < finding.example_size:
                finding.example, finding.example_size = text, len(text)
        return sorted(groups.values(), key=lambda finding: (finding.oracle, -finding.count))


class _Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {API_KEY}"

    def send(self, tenant: str, event: dict[str, Any]) -> None:
        """An event whose answer does not matter (its tenant may be gone)."""
        self.session.post(f"{self.base}/v1/tenants/{tenant}/events", json=event, timeout=30)

    def expect(self, status: int, method: str, path: str, body: Any) -> dict[str, Any]:
        response = self.session.request(method, self.base + path, json=body, timeout=30)
        if response.status_code != status:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return dict(response.json())


def print_report(report: FuzzReport) -> None:
    print()
    print(f"cases: {report.cases:,}  (by kind: {report.by_kind})")
    print(f"5xx answers: {report.five_xx}")
    print(f"answers by status class: {report.by_status}")
    for name, value in report.final_checks.items():
        print(f"{name}: {value}")
    print("time (s): " + ", ".join(f"{name} {value}" for name, value in report.seconds.items()))
    if report.findings:
        print(f"\n{len(report.findings)} finding(s), grouped by oracle and cause (count, then one example):")
        for finding in report.findings:
            print(f"\n[{finding.oracle}] x{finding.count}: {finding.cause}")
            print(f"    e.g. {finding.example[:600]}")
    print("\nverdict:", "PASS" if report.ok else "FAIL")
