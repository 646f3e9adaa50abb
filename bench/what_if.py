"""Candidate fixes, tried as monkeypatches inside the bench process (``python -m bench --what-if``).

Nothing here changes ``layers/`` or ``functions/``: each patch is applied for one measurement and undone,
so the table can show a measured effect next to the figure for the code as it is.

- ``shared_watchdog``: ``hookline.ssrf.AttemptDeadline`` starts a ``threading.Timer`` (a new OS thread)
  for every attempt and cancels it afterwards. The patch keeps the class and its semantics (same deadline,
  same grace, same ``_expire``) but arms one long-lived watchdog thread instead. ``sender_per_request``
  isolates its cost: sequential POSTs, bare ``requests`` versus the sender with and without the patch.
- one shared ``boto3.session.Session`` for every client: applied in the cold-start child processes, see
  ``bench.coldstart`` (``hookline.aws._client`` makes a new Session, and so reloads botocore's data files,
  for each client).
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import json
import statistics
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self
from unittest import mock

import requests

import bench._lambda_env  # noqa: F401 - sets up the process before hookline is imported
from hookline import http_delivery, ssrf
from hookline.config import TargetPolicy
from hookline.http_delivery import WebhookSender


class _Watchdog:
    """One daemon thread that calls ``_expire`` on each armed deadline that is still armed when due."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, Any] = {}
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, when: float, deadline: Any) -> int:
        token = next(self._counter)
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bench-watchdog", daemon=True)
                self._thread.start()
            self._armed[token] = deadline
            heapq.heappush(self._heap, (when, token))
            if self._heap[0][1] == token:
                self._cond.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.pop(token, None)  # its heap entry is skipped when it comes due

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _, token = heapq.heappop(self._heap)
                deadline = self._armed.pop(token, None)
            if deadline is not None:
                deadline._expire()


_WATCHDOG = _Watchdog()


class WatchdogDeadline(ssrf.AttemptDeadline):
    """``AttemptDeadline`` armed on the shared watchdog rather than on a thread of its own."""

    _token: Any
    _armed: int | None = None

    def __enter__(self) -> Self:
        self._ends_at = time.monotonic() + self.seconds
        self._token = ssrf._current_deadline.set(self)
        self._armed = _WATCHDOG.arm(self._ends_at + self._GRACE_SECONDS, self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._armed is not None:
            _WATCHDOG.disarm(self._armed)
        super().__exit__(exc_type, exc, tb)


@contextlib.contextmanager
def shared_watchdog() -> Iterator[None]:
    """Every attempt made by ``hookline.http_delivery.WebhookSender`` inside the block uses the watchdog."""
    with mock.patch.object(http_delivery, "AttemptDeadline", WatchdogDeadline):
        yield


def sender_per_request(url: str, rounds: int = 5, per_round: int = 200) -> dict[str, float]:
    """Median µs per sequential POST to ``url``: a bare ``requests.Session``, Hookline's ``WebhookSender``
    as it is, and the sender with ``shared_watchdog``. One thread, so no pool or batch effects."""
    policy = TargetPolicy(allow_http=True, allowed_private_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    body = json.dumps({"type": "bench", "data": "x" * 1000}).encode()
    headers = {"content-type": "application/json"}
    bare = requests.Session()
    sender = WebhookSender(policy, timeout_seconds=5, pool_size=1)

    def post_bare() -> None:
        bare.post(url, data=body, headers=headers, timeout=5).content  # noqa: B018 - read the body

    def send() -> None:
        sender.send(url, body, headers)

    def send_with_watchdog() -> None:
        with shared_watchdog():
            sender.send(url, body, headers)

    variants = {
        "bare_requests_session": post_bare,
        "webhook_sender": send,
        "webhook_sender_shared_watchdog": send_with_watchdog,
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for _ in range(rounds):
            for name, post in variants.items():
                for _ in range(per_round // 10):  # warm the connection and the code path
                    post()
                started = time.perf_counter()
                for _ in range(per_round):
                    post()
                samples[name].append((time.perf_counter() - started) / per_round * 1e6)
    finally:
        bare.close()
        sender.close()
    return {name: statistics.median(values) for name, values in samples.items()}
