"""Effects of one planned attempt: the probe lease, the rate slot, the claim, the send. Each returns a value.

``Attempts.run`` never raises. What goes wrong before the request leaves (an AWS error reading the rate
limiter, a lost claim) turns the attempt into a deferral or a lost claim: no attempt is spent. What goes
wrong while sending (a header the endpoint's data made invalid, a bug) is this delivery's failed attempt.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hookline import USER_AGENT
from hookline.core import trace
from hookline.core.errors import HooklineError
from hookline.core.models import AttemptOutcome, AttemptResult, Delivery, FailureKind
from hookline.core.ports import DeliveryLog, InFlightSlots, Sender
from hookline.core.schedule import RetrySchedule
from hookline.core.signing import webhook_headers
from hookline.delivery.breaker import Breaker
from hookline.delivery.plan import PairTask
from hookline.delivery.rate_limit import RateLimiter
from hookline.delivery.settle import Settled, after_attempt, blank, claimed
from hookline.observability import logger

CLAIM_MARGIN_SECONDS = 10.0
AWS_TROUBLE_DELAY_SECONDS = 5.0
# A delivery that finds its endpoint's in-flight slots taken waits this long (jittered, so the waiting ones do
# not all come back at once), without spending an attempt.
IN_FLIGHT_WAIT_SECONDS = (1.0, 4.0)
LEASE_DELIVERIES = 10  # a slow endpoint's lease lets one invocation send up to this many (a batch's worth)


@dataclass(frozen=True, slots=True)
class Deferred:
    """The attempt did not happen; the pair waits ``seconds`` and spends no attempt."""

    seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class ClaimLost:
    """Another carrier owns this attempt (or the stored delivery changed since it was read)."""


@dataclass(frozen=True, slots=True)
class Sent:
    settled: Settled
    claimed_as: Delivery | None  # what the claim wrote: the persist step's compare-and-swap starts from it


AttemptEffect = Deferred | ClaimLost | Sent


class Attempts:
    def __init__(
        self,
        log: DeliveryLog,
        breaker: Breaker,
        limiter: RateLimiter,
        sender: Sender,
        schedule: RetrySchedule,
        owner: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        leases: InFlightSlots | None = None,
        max_in_flight: int = 10,
    ) -> None:
        self._leases = leases
        self._max_in_flight = max_in_flight
        # Sends in flight per endpoint in this container: the in-flight limit holds here whatever the
        # endpoint's speed, at no cost; across invocations, slow endpoints lease their slots.
        self._local: Counter[tuple[str, str]] = Counter()
        self._tokens: dict[tuple[str, str], str] = {}  # slow endpoints this container holds a lease on
        self._local_lock = threading.Lock()
        self._log = log
        self._breaker = breaker
        self._limiter = limiter
        self._sender = sender
        self._schedule = schedule
        self._owner = owner
        self._clock = clock
        self._sleep = sleep

    def run(self, task: PairTask) -> AttemptEffect:
        endpoint = task.endpoint
        assert endpoint is not None  # planning sends only to endpoints it found
        limit = task.lease_limit or endpoint.max_in_flight or self._max_in_flight
        with self._slot(endpoint.tenant_id, endpoint.endpoint_id, limit, task.lease_limit) as slot:
            if not slot:
                return Deferred(random.uniform(*IN_FLIGHT_WAIT_SECONDS), "in_flight_limit")
            return self._run(task)

    @contextmanager
    def _slot(self, tenant_id: str, endpoint_id: str, limit: int, leased: int | None) -> Iterator[bool]:
        """One of the endpoint's in-flight slots in this container. For a slow endpoint the container (one
        invocation at a time) first leases the endpoint: at most ceil(limit / 10) invocations send to it at
        once, each at most ``limit`` of its deliveries, so a slow or hanging endpoint holds at most that
        many dispatch invocations, not every one that received its messages."""
        key = (tenant_id, endpoint_id)
        with self._local_lock:
            admitted = self._local[key] < limit
            if admitted and leased is not None and self._local[key] == 0:
                admitted = self._lease(key, leased)
            if admitted:
                self._local[key] += 1
        if not admitted:
            yield False
            return
        try:
            yield True
        finally:
            with self._local_lock:
                self._local[key] -= 1
                if self._local[key] <= 0:
                    del self._local[key]
                    self._unlease(key)

    def _lease(self, key: tuple[str, str], limit: int) -> bool:
        """Called under the local lock: the first send of this container to a slow endpoint leases it."""
        if self._leases is None:
            return True
        now = self._clock()
        hold = self._sender.timeout_seconds + CLAIM_MARGIN_SECONDS
        holders = max(1, -(-limit // LEASE_DELIVERIES))
        try:
            token = self._leases.acquire(*key, holders, now, now + hold)
        except HooklineError as exc:
            logger.warning("could not lease an endpoint's in-flight slots", extra={"reason": str(exc)})
            return False
        if token is None:
            return False
        self._tokens[key] = token
        return True

    def _unlease(self, key: tuple[str, str]) -> None:
        token = self._tokens.pop(key, None)
        if token is None or self._leases is None:
            return
        try:
            self._leases.release(*key, token)
        except HooklineError as exc:  # it expires on its own
            logger.warning("could not release an endpoint's lease", extra={"reason": str(exc)})

    def _run(self, task: PairTask) -> AttemptEffect:
        endpoint = task.endpoint
        assert endpoint is not None
        try:
            now = self._clock()
            if task.probe and not self._breaker.lease_probe(
                endpoint.tenant_id, endpoint.endpoint_id, now, self._sender.timeout_seconds + 5
            ):
                return Deferred(self._breaker.cooldown_seconds, "circuit_open")
            if endpoint.rate_limit is not None:
                reservation = self._limiter.reserve(
                    endpoint.tenant_id, endpoint.endpoint_id, endpoint.rate_limit
                )
                if reservation.defer_seconds is not None:
                    return Deferred(reservation.defer_seconds, "rate_limited")
                if reservation.wait > 0:
                    self._sleep(reservation.wait)
            claimed_as: Delivery | None = None
            if task.claim:
                claimed_as = claimed(
                    task, self._clock(), self._sender.timeout_seconds + CLAIM_MARGIN_SECONDS, self._owner
                )
                if not self._log.swap(task.ref, task.seen, claimed_as):
                    return ClaimLost()
        except HooklineError as exc:
            logger.warning("could not prepare an attempt; it will wait", extra={"reason": str(exc)})
            return Deferred(AWS_TROUBLE_DELAY_SECONDS, "aws_error")
        seen = claimed_as or blank(task)
        started = self._clock()
        result = self._send(task, started)
        return Sent(after_attempt(task, seen, result, started, self._clock(), self._schedule), claimed_as)

    def _send(self, task: PairTask, started: float) -> AttemptResult:
        endpoint = task.endpoint
        assert endpoint is not None
        try:
            timestamp = int(started)
            body = task.event.body.encode()
            headers = webhook_headers(
                endpoint.signing_secrets(timestamp),
                task.event.event_id,
                timestamp,
                body,
                USER_AGENT,
                endpoint.headers,
            )
            if task.event.traceparent:
                headers["traceparent"] = trace.for_attempt(task.event.traceparent)
        except (ValueError, UnicodeError):
            return AttemptResult(
                AttemptOutcome.RETRY,
                0,
                failure=FailureKind.INVALID_REQUEST,
                message="the request could not be signed or built from the endpoint's settings",
            )
        try:
            return self._sender.send(endpoint.url, body, headers)
        except Exception:  # noqa: BLE001 - the sender never raises; if it ever does, it is this attempt's failure
            logger.exception("the sender raised", extra={"event_id": task.event.event_id})
            return AttemptResult(
                AttemptOutcome.RETRY,
                0,
                failure=FailureKind.INTERNAL,
                message="the attempt failed on Hookline's side",
            )
