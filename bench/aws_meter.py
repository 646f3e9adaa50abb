"""Every AWS call the handlers make, seen through botocore's event hooks on ``hookline.aws.session()``.

``hookline.aws`` builds every boto3 client from one shared ``boto3.session.Session`` and exposes it as
``hookline.aws.session()``. Handlers registered on that Session's ``events`` are copied into each client
the Session creates afterwards, so ``AwsMeter.attach`` must run before the first handler invocation
(a client made earlier keeps the emitter it was born with and would not be seen).

Per call the meter keeps the operation, its parameters (``provide-client-params``), the parsed response
or error (``after-call`` fires for error responses too; ``after-call-error`` for transport failures),
the botocore retries it took, the wall time, and which function was being invoked (``meter.function``,
set by the harness; calls made by the harness itself as Lambda's event source are recorded through
``record_event_source``).

``observers`` see each call before it is sent and after it returns: the cost model uses them to read
the DynamoDB items a write is about to change. Time spent in observers is measured as wall-clock
intervals so that it can be taken out of the invocation's measured duration.

``round_trip_seconds`` plays the network: each call waits that long in the calling thread before moto
serves it, as an in-region round trip to AWS would take (moto answers in-process, in no network time).
The wait is part of the invocation's billed time; moto's own serving is not (see ``MotoBackendClock``).

``MotoBackendClock`` times moto's own handling of each request (its botocore ``before-send`` hook), per
thread, so that what an AWS call costs the handler can be split into botocore's client-side work (which
a Lambda spends too) and moto's in-process serving (a network wait on AWS).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, Self
from unittest import mock

EVENT_SOURCE = "event source"  # the label of calls made by the harness as Lambda's SQS poller


@dataclass
class AwsCall:
    function: str  # the function being invoked when the call was made, or EVENT_SOURCE
    service: str  # botocore's service name: "dynamodb", "sqs", ...
    operation: str  # "PutItem", ...
    params: dict[str, Any]
    response: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    retries: int = 0
    seconds: float = 0.0
    backend_seconds: float = 0.0  # the part moto spent serving it
    notes: dict[str, Any] = field(default_factory=dict)  # what observers want to keep until after the call
    accepted: frozenset[str] = frozenset()  # the operation's request members

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def requests(self) -> int:
        """HTTP requests made: the call and its botocore retries."""
        return 1 + self.retries


class CallObserver(Protocol):
    def before(self, call: AwsCall) -> None: ...

    def after(self, call: AwsCall) -> None: ...


class MotoBackendClock:
    """Seconds moto spent serving this thread's requests (its ``BotocoreStubber``), per thread; with
    ``keep_intervals``, also when (all threads), so that an invocation's time can be told without it."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.keep_intervals = False
        self.intervals: list[tuple[float, float]] = []

    def take(self) -> float:
        """Seconds moto spent on this thread's requests since the last ``take``."""
        seconds: float = getattr(self._local, "seconds", 0.0)
        self._local.seconds = 0.0
        return seconds

    @contextlib.contextmanager
    def installed(self) -> Iterator[Self]:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__
        local = self._local

        def timed(stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(stubber, event_name, request, **kwargs)
            finally:
                ended = time.perf_counter()
                local.seconds = getattr(local, "seconds", 0.0) + ended - started
                if self.keep_intervals:
                    self.intervals.append((started, ended))  # list.append is atomic under the GIL

        with mock.patch.object(BotocoreStubber, "__call__", timed):
            yield self


def covered_seconds(intervals: list[tuple[float, float]], started: float, ended: float) -> float:
    """Wall time within [started, ended] covered by at least one of ``intervals``."""
    spans = sorted((max(a, started), min(b, ended)) for a, b in intervals if b > started and a < ended)
    total, reach = 0.0, started
    for start, end in spans:
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


@dataclass
class AwsMeter:
    backend: MotoBackendClock = field(default_factory=MotoBackendClock)
    function: str = "setup"  # set by the harness around each invocation
    keep: bool = True  # False: count and time only (for the throughput benchmarks)
    round_trip_seconds: float = 0.0  # a simulated in-region round trip per call (0: none)
    observers: list[CallObserver] = field(default_factory=list)
    calls: list[AwsCall] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    backend_seconds: float = 0.0
    _observer_intervals: list[tuple[float, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, session: Any) -> None:
        """Register on a boto3 Session's events: every client it creates later is metered."""
        events = session.events
        events.register("provide-client-params", self._before, unique_id=f"bench-meter-before-{id(self)}")
        events.register("after-call", self._after, unique_id=f"bench-meter-after-{id(self)}")
        events.register("after-call-error", self._after_error, unique_id=f"bench-meter-error-{id(self)}")

    def reset(self) -> None:
        with self._lock:
            self.calls = []
            self.counts.clear()
            self.seconds = self.backend_seconds = 0.0
            self._observer_intervals = []
            self.backend.intervals = []

    @contextlib.contextmanager
    def labelled(self, function: str) -> Iterator[None]:
        previous, self.function = self.function, function
        try:
            yield
        finally:
            self.function = previous

    def record_event_source(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        """A call the harness made as Lambda's SQS event source (not through a handler's clients)."""
        self._store(AwsCall(EVENT_SOURCE, "sqs", operation, params, response))

    def observer_seconds_between(self, started: float, ended: float) -> float:
        """Wall time within [started, ended] during which some observer was running on some thread."""
        with self._lock:
            intervals = list(self._observer_intervals)
        return covered_seconds(intervals, started, ended)

    def excluded_seconds_between(self, started: float, ended: float) -> float:
        """Wall time within [started, ended] spent in observers or in moto serving a request."""
        with self._lock:
            intervals = self._observer_intervals + self.backend.intervals
        return covered_seconds(intervals, started, ended)

    # -- botocore handlers ----------------------------------------------------------------------------

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        call = AwsCall(self.function, model.service_model.service_name, model.name, params)
        if self.observers and model.input_shape is not None:
            call.accepted = frozenset(model.input_shape.members)
        self._observe("before", call)
        self.backend.take()  # after the observers: their own reads are not this call's
        context["bench_call"] = call
        context["bench_started"] = time.perf_counter()
        if self.round_trip_seconds:
            time.sleep(self.round_trip_seconds)  # the network an in-region call crosses (see the docstring)

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = self._finish(context)
        if call is None:
            return
        call.response = parsed or {}
        error = call.response.get("Error") or {}
        call.error_code = error.get("Code")
        call.retries = int(call.response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        self._observe("after", call)
        self._store(call)

    def _after_error(self, context: dict[str, Any], exception: Exception, **_: Any) -> None:
        call = self._finish(context)
        if call is not None:
            call.error_code = type(exception).__name__
            self._store(call)

    def _finish(self, context: dict[str, Any]) -> AwsCall | None:
        call: AwsCall | None = context.pop("bench_call", None)
        if call is not None:
            call.seconds = time.perf_counter() - context.pop("bench_started")
            call.backend_seconds = self.backend.take()
        return call

    def _observe(self, stage: str, call: AwsCall) -> None:
        if not self.observers:
            return
        started = time.perf_counter()
        for observer in self.observers:
            getattr(observer, stage)(call)
        ended = time.perf_counter()
        with self._lock:
            self._observer_intervals.append((started, ended))

    def _store(self, call: AwsCall) -> None:
        with self._lock:
            self.counts[call.name] += call.requests
            self.seconds += call.seconds
            self.backend_seconds += call.backend_seconds
            if self.keep:
                self.calls.append(call)
