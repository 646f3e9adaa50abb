"""``python -m local_stack.demo`` (``make demo``): the whole product, end to end, in well under a minute.

It starts the local stack with a short retry schedule (0, 1, 2 s), starts three receivers on 127.0.0.1
that verify every request's signature with the independent ``standardwebhooks`` library, registers a
tenant with three endpoints (healthy; flaky: answers 503 to an event's first attempt; broken: always
500), subscribes an SQS queue to the alerts topic on the moto server, sends a few events, waits until
every delivery has settled, prints what happened, stops the stack and exits (0 when everything behaved
as expected).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cli.client import HooklineClient
from cli.output import table as _table
from local_stack.process import REPO_ROOT, StackInfo, StackProcess

RETRY_SCHEDULE = "0,1,2"
# The broken endpoint fails 9 times in a row; the circuit breaker (default: open after 5 consecutive
# failures, then hold deliveries for 60 s) would pause it before its deliveries reach the DLQ.
BREAKER_FAILURE_THRESHOLD = "50"
TENANT = "acme"
EVENTS = (
    ("order.created", {"order_id": "ord_1001", "amount": 4200, "currency": "EUR"}),
    ("order.paid", {"order_id": "ord_1001", "paid_at": "2026-01-01T12:00:00Z"}),
    ("invoice.finalized", {"invoice_id": "inv_77", "total": 4200}),
)
SETTLE_TIMEOUT = 45.0


# --------------------------------------------------------------------------------------------- receivers


@dataclass
class Received:
    event_id: str
    at: float
    status: int
    verified: bool
    note: str = ""


@dataclass
class DemoReceiver:
    """A webhook receiver on 127.0.0.1 that verifies signatures and answers as ``decide`` says."""

    name: str
    decide: Callable[[str, int], int]  # (webhook-id, how many times it arrived) -> HTTP status
    secret: str = ""
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status = receiver.handle(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        lowered = {key.lower(): value for key, value in headers.items()}
        event_id = lowered.get("webhook-id", "?")
        try:
            Webhook(self.secret).verify(body, lowered)
            verified, note = True, ""
        except (WebhookVerificationError, ValueError) as exc:
            verified, note = False, str(exc)
        with self._lock:
            seen = sum(1 for item in self.received if item.event_id == event_id) + 1
            status = self.decide(event_id, seen) if verified else 401
            self.received.append(Received(event_id, time.time(), status, verified, note))
        return status

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --------------------------------------------------------------------------------------------- hookline tail


class Tail:
    """``hookline tail --tenant`` running beside the demo: the CLI shows each attempt as it happens."""

    READY = "Following delivery attempts"

    def __init__(self, info: StackInfo, tenant: str) -> None:
        env = dict(os.environ, HOOKLINE_URL=info.api_url, HOOKLINE_API_KEY=info.api_key)
        self.lines: list[str] = []
        self._lock = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "tail", "--tenant", tenant, "--interval", "0.25"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        ready = self.process.stderr.readline()
        if self.READY not in ready:
            self.process.kill()
            raise RuntimeError(f"hookline tail did not start: {ready.strip() or self.process.wait()}")
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            say(f"  tail  | {line.rstrip()}")
            with self._lock:
                self.lines.append(line)
                self._lock.notify_all()

    def wait_for_lines(self, count: int, timeout: float = 10.0) -> int:
        with self._lock:
            self._lock.wait_for(lambda: len(self.lines) >= count, timeout=timeout)
            return len(self.lines)

    def stop(self) -> int:
        """Ctrl-C, as a person would stop it; its exit code (0 for a clean stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


# --------------------------------------------------------------------------------------------- output


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return _table(headers, rows, indent="  ")


def say(text: str = "") -> None:
    print(text, flush=True)


def _clock(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%H:%M:%S.%f")[:-3]


# --------------------------------------------------------------------------------------------- the demo


def subscribe_alert_queue(info: StackInfo) -> tuple[Any, str]:
    """An SQS queue on the moto server, subscribed to the stack's alerts topic."""
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
        region_name=info.region,
    )
    sqs = session.client("sqs", endpoint_url=info.aws_endpoint_url)
    sns = session.client("sns", endpoint_url=info.aws_endpoint_url)
    queue_url = sqs.create_queue(QueueName=f"demo-alerts-{secrets.token_hex(3)}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=info.outputs["AlertsTopicArn"], Protocol="sqs", Endpoint=queue_arn)
    return sqs, queue_url


def run_demo(verbose: bool) -> int:
    started = time.perf_counter()
    say("Hookline demo: the whole pipeline on this machine (moto plays AWS; no account, no Docker).")
    say(f"Starting the local stack with RetrySchedule={RETRY_SCHEDULE} (attempts at 0 s, +1 s, +2 s) ...")

    def show(line: str) -> None:
        # Attempts are shown by `hookline tail` (below); the stack's own attempt lines only with --verbose.
        if verbose or any(marker in line for marker in (" ALERT ", "WARNING", "error")):
            say(f"  stack | {line}")

    api_key = "demo-" + secrets.token_urlsafe(12)
    stack = StackProcess(
        [
            "--api-key",
            api_key,
            "--parameter-overrides",
            f"RetrySchedule={RETRY_SCHEDULE} BreakerFailureThreshold={BREAKER_FAILURE_THRESHOLD}",
        ],
        output=show,
    )
    receivers = {
        "healthy": DemoReceiver("healthy", lambda event_id, seen: 200),
        "flaky": DemoReceiver("flaky", lambda event_id, seen: 503 if seen == 1 else 200),
        "broken": DemoReceiver("broken", lambda event_id, seen: 500),
    }
    tail: Tail | None = None
    try:
        info = stack.start()
        say(f"Ready in {stack.startup_seconds:.1f} s: API {info.api_url}, moto {info.aws_endpoint_url}")
        api = HooklineClient(info.api_url, info.api_key, timeout=15)
        alerts_sqs, alerts_queue = subscribe_alert_queue(info)

        api.put_tenant(TENANT, "Acme Corp")
        endpoint_names: dict[str, str] = {}
        for name, receiver in receivers.items():
            created = api.create_endpoint(TENANT, receiver.url, description=name)
            endpoint_names[created["id"]] = name
            receiver.secret = api.endpoint_secret(TENANT, created["id"])["secret"]
        say(f"\nTenant {TENANT!r} with {len(receivers)} endpoints on 127.0.0.1 (each verifies signatures):")
        say(table(["endpoint", "id", "behaviour"], [
            (name, endpoint_id, {"healthy": "200", "flaky": "503 to an event's 1st attempt, then 200",
                                 "broken": "500, always"}[name])
            for endpoint_id, name in endpoint_names.items()
        ]))  # fmt: skip

        tail = Tail(info, TENANT)
        event_ids: dict[str, str] = {}
        say(f"\nSending events; `hookline tail --tenant {TENANT}`, started beside the demo, prints each")
        say("attempt as it happens (time, event type and id, endpoint, attempt, answer, outcome, latency):")
        for event_type, data in EVENTS:
            event_ids[api.send_event(TENANT, event_type, data)["id"]] = event_type

        events = wait_until_settled(api, list(event_ids))
        alerts = wait_for_alerts(alerts_sqs, alerts_queue, expected=len(event_ids))
        attempts = sum(d["attempts"] for event in events.values() for d in event.get("deliveries", []))
        shown, tail_code = tail.wait_for_lines(attempts), tail.stop()
        tail = None
        say(f"`hookline tail` printed {shown} of {attempts} attempts as they happened; Ctrl-C stopped it.")
        tail_problems = [] if shown == attempts else [f"hookline tail printed {shown} of {attempts} attempts"]
        if tail_code != 0:
            tail_problems.append(f"hookline tail exited with {tail_code} on Ctrl-C")
        ok = report(api, events, event_ids, endpoint_names, receivers, alerts, tail_problems)
        portal = api.create_portal_session(TENANT, expires_in=600)
        say(f"\nTenant {TENANT!r}'s portal (endpoints and deliveries in a browser), while this stack runs:")
        say(f"  {portal['url']}")
        say(f"To browse it at leisure: `make dev`, then `hookline portal --tenant {TENANT}` prints a link.")
    finally:
        if tail is not None:
            tail.stop()
        for receiver in receivers.values():
            receiver.close()
        code = stack.stop()
    say(f"\nStack stopped (exit code {code}). Demo took {time.perf_counter() - started:.1f} s.")
    return 0 if ok and code == 0 else 1


def wait_until_settled(api: HooklineClient, event_ids: list[str]) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        events = {event_id: api.get_event(TENANT, event_id) for event_id in event_ids}
        settled = all(
            event.get("deliveries")
            and all(d["status"] in {"succeeded", "failed"} for d in event["deliveries"])
            for event in events.values()
        )
        if settled or time.monotonic() > deadline:
            return events
        time.sleep(0.25)


def wait_for_alerts(sqs: Any, queue_url: str, expected: int) -> list[dict[str, Any]]:
    """SNS alerts (as delivered to the subscribed queue) until they cover ``expected`` dead letters."""
    alerts: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            envelope = json.loads(message["Body"])
            alerts.append({"subject": envelope.get("Subject"), "message": json.loads(envelope["Message"])})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if sum(len(alert["message"].get("deliveries") or []) for alert in alerts) >= expected:
            break
    return alerts


def report(
    api: HooklineClient,
    events: dict[str, dict[str, Any]],
    event_types: dict[str, str],
    endpoint_names: dict[str, str],
    receivers: dict[str, DemoReceiver],
    alerts: list[dict[str, Any]],
    problems: list[str],
) -> bool:
    say("\nEvery delivery (one per event and endpoint), as GET /v1/tenants/acme/events/{id} reports it:")
    rows = []
    for event_id, event in events.items():
        for delivery in event.get("deliveries", []):
            name = endpoint_names.get(delivery["endpoint_id"], delivery["endpoint_id"])
            expected = "failed" if name == "broken" else "succeeded"
            if delivery["status"] != expected:
                problems.append(f"{event_id} -> {name}: {delivery['status']}, expected {expected}")
            last = delivery.get("last_status_code") or delivery.get("last_error_kind") or "-"
            rows.append(
                (event_id, event_types[event_id], name, delivery["attempts"], delivery["status"], last)
            )
    say(table(["event", "type", "endpoint", "attempts", "final status", "last answer"], rows))

    say("\nEvery attempt, from GET .../events/{id}/attempts (the retries follow the 0, 1, 2 s schedule):")
    attempt_rows = []
    for event_id in events:
        attempts = api.list_event_attempts(TENANT, event_id)["data"]
        for attempt in sorted(attempts, key=lambda item: (item["attempted_at"], item["attempt"])):
            name = endpoint_names.get(attempt["endpoint_id"], attempt["endpoint_id"])
            attempt_rows.append((
                _clock(attempt["attempted_at"]), event_types[event_id], name, attempt["attempt"],
                attempt.get("status_code") or attempt.get("error_kind") or "-",
                f"{attempt.get('latency_ms', '-')} ms", attempt.get("outcome", "")
            ))  # fmt: skip
    say(table(["time", "event", "endpoint", "attempt", "answer", "latency", "outcome"], attempt_rows))

    say("\nWhat the receivers saw (signatures checked with the standardwebhooks library):")
    receiver_rows = []
    for name, receiver in receivers.items():
        verified = sum(1 for item in receiver.received if item.verified)
        receiver_rows.append((name, len(receiver.received), f"{verified}/{len(receiver.received)}"))
        if verified != len(receiver.received):
            problems.append(f"{name}: {len(receiver.received) - verified} request(s) failed signature checks")
    say(table(["endpoint", "requests", "valid signatures"], receiver_rows))

    failed = [
        (event_id, d)
        for event_id, e in events.items()
        for d in e.get("deliveries", [])
        if d["status"] == "failed"
    ]
    say(f"\nDead-lettered: {len(failed)} delivery(ies) used every attempt, went to the DLQ, and dlq_handler")
    say("marked them failed and published an alert on the SNS topic. Received through an SQS subscription:")
    dead_letter_alerts = [
        alert for alert in alerts if alert["message"].get("type") == "deliveries.dead_lettered"
    ]
    covered = sum(len(alert["message"].get("deliveries") or []) for alert in dead_letter_alerts)
    if covered < len(failed) or not failed:
        problems.append(f"dead-letter alerts cover {covered} of {len(failed)} failed deliveries")
    for alert in alerts:
        message = alert["message"]
        say(f"  subject: {alert['subject']}  (type {message.get('type')})")
        where = f"endpoint {message.get('endpoint_id')} ({message.get('endpoint_url')})"
        say(f"  tenant {message.get('tenant_id')}, {where}")
        for item in message.get("deliveries") or []:
            say(
                f"    - {item.get('event_id')} ({item.get('event_type')}): {item.get('attempts')} attempts, "
                f"last {item.get('last_status_code') or item.get('last_error_kind')}"
            )
    if problems:
        say("\nUnexpected:")
        for problem in problems:
            say(f"  - {problem}")
        return False
    say("\nAll as expected: success, retry then success, dead letter and alert, each attempt shown live.")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="show every line the stack prints")
    args = parser.parse_args(argv)
    try:
        return run_demo(args.verbose)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
