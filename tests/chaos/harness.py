"""The chaos run's instruments, all outside ``hookline``: the API over HTTP (retrying what a client
would retry), SNS alerts observed through an SQS queue on moto, the queues' depths, and a killer that
SIGKILLs busy dispatch workers found through the local stack's control server.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from botocore.config import Config

from local_stack.process import StackInfo
from tests import waiting

RETRIED_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


class Deadline(Exception):
    """A condition did not come true in time."""


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.2) -> None:
    try:
        waiting.wait_until(condition, timeout, what, poll)
    except waiting.WaitTimeout as exc:
        raise Deadline(str(exc)) from exc


class Api:
    """The v1 API as a careful client calls it: 5xx, 409 (a retry racing its first attempt), 429 and
    connection errors are retried with the same body and ``Idempotency-Key`` until a deadline."""

    def __init__(self, info: StackInfo) -> None:
        self.base = info.api_url
        self._local = threading.local()
        self._key = info.api_key
        self.lock = threading.Lock()
        self.retried: Counter[str] = Counter()  # status (or "connection") -> retries

    @property
    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self._key}"
            self._local.session = session
        return session

    def call(self, method: str, path: str, *, timeout: float = 60.0, **kwargs: Any) -> requests.Response:
        deadline = time.monotonic() + timeout
        backoff = 0.05
        while True:
            reason = ""
            try:
                response = self.session.request(method, self.base + path, timeout=20, **kwargs)
                if response.status_code not in RETRIED_STATUSES:
                    return response
                reason = str(response.status_code)
            except requests.RequestException:
                reason = "connection"
            with self.lock:
                self.retried[reason] += 1
            if time.monotonic() + backoff > deadline:
                raise Deadline(f"{method} {path}: still {reason} after {timeout:.0f} s")
            waiting.pause(backoff)  # between retries, as a client would
            backoff = min(backoff * 2, 1.0)

    def expect(self, status: int, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, path, **kwargs)
        if response.status_code != status:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return dict(response.json()) if response.content else {}


def aws_client(info: StackInfo, service: str) -> Any:
    """A client of moto's clean port (never faulted)."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=info.region
    )
    return session.client(  # type: ignore[call-overload]
        service, endpoint_url=info.aws_endpoint_url, config=Config(retries={"max_attempts": 5})
    )


@dataclass
class AlertWatcher:
    """Subscribes an SQS queue of its own to the alerts topic and keeps every alert it receives."""

    info: StackInfo
    alerts: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _queue_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        sqs, sns = aws_client(self.info, "sqs"), aws_client(self.info, "sns")
        self._queue_url = sqs.create_queue(QueueName=f"chaos-alerts-{os.getpid()}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=self.info.outputs["AlertsTopicArn"],
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        self._thread = threading.Thread(target=self._run, args=(sqs,), name="alerts", daemon=True)
        self._thread.start()

    def _run(self, sqs: Any) -> None:
        while not self._stop.is_set():
            messages = sqs.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            for message in messages:
                with contextlib.suppress(ValueError), self._lock:
                    self.alerts.append(json.loads(message["Body"]))
            if messages:
                sqs.delete_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                    ],
                )

    def drained(self) -> bool:
        """No alert is waiting in the queue (so every alert published so far has been read)."""
        return queue_empty(aws_client(self.info, "sqs"), self._queue_url)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.alerts)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def queue_empty(sqs: Any, queue_url: str) -> bool:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    names.append("ApproximateNumberOfMessagesDelayed")
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return all(int(attributes.get(name, "0")) == 0 for name in names)


def busy_workers(control_url: str, function: str) -> list[int]:
    response = requests.get(f"{control_url}/workers", timeout=10)
    response.raise_for_status()
    return [worker["pid"] for worker in response.json()["functions"].get(function, []) if worker["busy"]]


@dataclass
class Killer:
    """SIGKILLs a busy worker of ``function`` every ``interval`` seconds (jittered), up to ``limit``."""

    control_url: str
    function: str
    interval: float
    limit: int
    seed: int
    kills: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="killer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        chooser = random.Random(self.seed)
        # Pacing between kills, not a wait for a condition.
        while len(self.kills) < self.limit and not self._stop.wait(self.interval * chooser.uniform(0.5, 1.5)):
            with contextlib.suppress(requests.RequestException):
                pids = busy_workers(self.control_url, self.function)
                if pids:
                    pid = chooser.choice(pids)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        self.kills.append((time.time(), pid))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def crash_entries(control_url: str) -> list[dict[str, Any]]:
    response = requests.get(f"{control_url}/crashes", timeout=10)
    response.raise_for_status()
    return list(response.json()["crashes"])


def fault_stats(info: StackInfo) -> dict[str, Any]:
    url = info.state.get("aws_faults_url")
    if not url:
        return {}
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return dict(response.json())
