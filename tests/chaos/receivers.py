"""The chaos run's webhook receivers: one HTTP server on 127.0.0.1 playing every endpoint of the run.

Each endpoint is registered under its own path with its signing secret and a behaviour:
- ``healthy`` answers 200 at once;
- ``flaky`` fails the first attempt of about 30% of events (a mix of 500, 503 with ``Retry-After: 1``,
  a connection reset before any answer, and no answer until after the sender's timeout), and fails every
  attempt of about 2% ("doomed" events, which must end dead-lettered and alerted);
- ``slow`` answers 200 after 0.2 s to half the delivery timeout.

Which events fail, and how, is a pure function of the event id (a hash), so a run is reproducible.
Every request's signature is checked with the independent ``standardwebhooks`` library. A delivery is
counted per (webhook-id, endpoint) when the receiver has written its 2xx answer.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Behaviour(StrEnum):
    HEALTHY = "healthy"
    FLAKY = "flaky"
    SLOW = "slow"


class Failure(StrEnum):
    STATUS_500 = "500"
    STATUS_503 = "503 + Retry-After"
    RESET = "connection reset"
    NO_ANSWER = "no answer (timeout)"


FAILURE_MODES = (Failure.STATUS_500, Failure.STATUS_503, Failure.RESET, Failure.NO_ANSWER)


@dataclass(frozen=True)
class Plan:
    """How the receivers treat events: shares in per-mille of events, times in seconds."""

    delivery_timeout: float
    first_attempt_failure_permille: int = 300
    doomed_permille: int = 20

    def _hash(self, webhook_id: str, salt: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{salt}:{webhook_id}".encode()).digest()[:8], "big")

    def doomed(self, webhook_id: str) -> bool:
        return self._hash(webhook_id, "doomed") % 1000 < self.doomed_permille

    def failure(self, behaviour: Behaviour, webhook_id: str, attempt: int) -> Failure | None:
        if behaviour is not Behaviour.FLAKY:
            return None
        if self.doomed(webhook_id):
            return Failure.STATUS_500 if attempt % 2 else Failure.STATUS_503
        if attempt == 1 and self._hash(webhook_id, "first") % 1000 < self.first_attempt_failure_permille:
            return FAILURE_MODES[self._hash(webhook_id, "mode") % len(FAILURE_MODES)]
        return None

    def slow_delay(self, webhook_id: str) -> float:
        fraction = (self._hash(webhook_id, "slow") % 1000) / 1000
        return 0.2 + fraction * max(0.0, self.delivery_timeout / 2 - 0.2)


@dataclass(frozen=True)
class Registration:
    endpoint_id: str
    secret: str
    behaviour: Behaviour


@dataclass
class Observations:
    """Everything the receivers saw (read under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    deliveries: Counter[tuple[str, str]] = field(default_factory=Counter)  # (webhook-id, endpoint) -> 2xx
    last_delivered_at: dict[tuple[str, str], float] = field(default_factory=dict)  # time.time() of the last
    attempts: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures_served: Counter[str] = field(default_factory=Counter)
    bad_signatures: list[tuple[str, str, str]] = field(default_factory=list)  # (webhook-id, endpoint, why)
    unknown_paths: int = 0
    cut_short: list[tuple[str, str]] = field(
        default_factory=list
    )  # (webhook-id, path): body shorter than declared
    bodies: dict[str, Any] = field(default_factory=dict)  # webhook-id -> the delivered body's "data"
    arrivals: list[tuple[float, str, str]] = field(default_factory=list)  # (time, webhook-id, endpoint)
    first_answered_at: dict[tuple[str, str], float] = field(default_factory=dict)  # before the 2xx is written


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # bursts of concurrent deliveries must not queue in SYN

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # senders hanging up (timeouts, killed workers) is the point of this run


class ChaosReceivers:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.observations = Observations()
        self._registrations: dict[str, Registration] = {}
        self._stopping = threading.Event()
        handler = type("ChaosHandler", (_Handler,), {"owner": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="chaos-receivers",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def path_for(self, tenant: str, behaviour: Behaviour) -> str:
        return f"/hooks/{tenant}/{behaviour.value}"

    def register(self, path: str, registration: Registration) -> None:
        self._registrations[path] = registration

    def registration(self, path: str) -> Registration | None:
        return self._registrations.get(path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    owner: ChaosReceivers
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        declared = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(declared)
        owner = self.owner
        if len(body) < declared:
            # The sender died mid-request (a SIGKILLed worker): no whole request to verify or answer.
            with owner.observations.lock:
                owner.observations.cut_short.append((self.headers.get("webhook-id", ""), self.path))
            self.close_connection = True
            return
        registration = owner.registration(self.path)
        if registration is None:
            with owner.observations.lock:
                owner.observations.unknown_paths += 1
            self._answer(404)
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        webhook_id = headers.get("webhook-id", "")
        pair = (webhook_id, registration.endpoint_id)
        observations = owner.observations
        with observations.lock:
            observations.attempts[pair] += 1
            attempt = observations.attempts[pair]
            observations.arrivals.append((time.time(), webhook_id, registration.endpoint_id))
        try:
            Webhook(registration.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            with observations.lock:
                observations.bad_signatures.append((webhook_id, registration.endpoint_id, str(exc)))
            self._answer(401)
            return
        failure = owner.plan.failure(registration.behaviour, webhook_id, attempt)
        if failure is not None:
            with observations.lock:
                observations.failures_served[failure.value] += 1
            self._fail(failure)
            return
        if registration.behaviour is Behaviour.SLOW and owner._stopping.wait(
            owner.plan.slow_delay(webhook_id)
        ):
            return
        with observations.lock:
            observations.bodies.setdefault(webhook_id, _data_of(body))
            # Stamped before the answer leaves: the sender cannot go on to the key's next event earlier.
            observations.first_answered_at.setdefault(pair, time.time())
        if self._answer(200):
            with observations.lock:
                observations.deliveries[pair] += 1
                observations.last_delivered_at[pair] = time.time()

    def _fail(self, failure: Failure) -> None:
        if failure is Failure.STATUS_500:
            self._answer(500)
        elif failure is Failure.STATUS_503:
            self._answer(503, {"Retry-After": "1"})
        elif failure is Failure.RESET:
            # SO_LINGER 0: close() sends a TCP reset, as a crashing server or a load balancer would.
            sock = cast(socket.socket, self.connection)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        else:
            self.owner._stopping.wait(self.owner.plan.delivery_timeout + 1.0)
            self.close_connection = True

    def _answer(self, status: int, headers: dict[str, str] | None = None) -> bool:
        body = b'{"ok": true}' if status < 300 else b'{"ok": false}'
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # the sender gave up (its timeout, or its worker was killed)
            self.close_connection = True
            return False
        return True


def _data_of(body: bytes) -> Any:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document.get("data") if isinstance(document, dict) else None
