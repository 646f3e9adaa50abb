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
from hookline.delivery.plan import FIRST_WAVE_SECONDS, PairTask
from hookline.delivery.rate_limit import RateLimiter
from hookline.delivery.settle import Settled, after_attempt, blank, claimed
from hookline.observability import logger

CLAIM_MARGIN_SECONDS = 10.0
AWS_TROUBLE_DELAY_SECONDS = 5.0
IN_FLIGHT_LIMIT = "in_flight_limit"
SLOW_ENDPOINT = "slow_endpoint"
IN_FLIGHT_WAIT_LONGEST = 32.0
# After a refused lease, the container's other deliveries to that endpoint wait without asking DynamoDB again.
LEASE_REFUSED_SECONDS = 1.0
REFUSALS_KEPT = 1_000
KEY_LOCK_STRIPES = 64
LEASE_DELIVERIES = 10  # a slow endpoint's lease lets one invocation send up to this many (a batch's worth)


def in_flight_wait(waits: int) -> float:
    """How long a delivery that found its endpoint's in-flight slots taken waits, spending no attempt: 1-2 s
    the first time, doubling with each wait to 16-32 s. Jittered, so the waiting ones do not all come back at
    once; growing, so a slow endpoint's backlog of thousands does not churn through the queue every second
    (each wait is a queue send) while it drains at the endpoint's pace."""
    ceiling = min(IN_FLIGHT_WAIT_LONGEST, 2.0 ** (min(waits, 5) + 1))
    return random.uniform(ceiling / 2, ceiling)


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
        self._refused_until: dict[tuple[str, str], float] = {}
        self._local_lock = threading.Lock()
        # Striped: as few locks as threads, however many endpoints a warm container meets.
        self._key_locks = tuple(threading.Lock() for _ in range(KEY_LOCK_STRIPES))
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
                return Deferred(in_flight_wait(task.waits), IN_FLIGHT_LIMIT)
            return self._run(task)

    @contextmanager
    def _slot(self, tenant_id: str, endpoint_id: str, limit: int, leased: int | None) -> Iterator[bool]:
        """One of the endpoint's in-flight slots in this container. For a slow endpoint the container (one
        invocation at a time) first leases the endpoint: at most ceil(limit / 10) invocations send to it at
        once, each at most ``limit`` of its deliveries, so a slow or hanging endpoint holds at most that
        many dispatch invocations, not every one that received its messages."""
        key = (tenant_id, endpoint_id)
        if leased is None:
            with self._local_lock:
                admitted = self._local[key] < limit
                if admitted:
                    self._local[key] += 1
        else:
            admitted = self._admit_leased(key, limit, leased)
        if not admitted:
            yield False
            return
        try:
            yield True
        finally:
            with self._local_lock:
                self._local[key] -= 1
                token = None
                if self._local[key] <= 0:
                    del self._local[key]
                    token = self._tokens.pop(key, None)
            if token is not None:
                self._unlease(key, token)

    def _admit_leased(self, key: tuple[str, str], limit: int, leased: int) -> bool:
        """A slot of a slow endpoint. The lease is taken outside the container's lock, so that the other
        endpoints' sends (another tenant's) never wait on this one's DynamoDB calls; and a refused lease is
        not asked for again for a moment, so a batch full of one slow endpoint's deliveries costs one call."""
        with self._key_locks[hash(key) % KEY_LOCK_STRIPES]:  # one lease request per endpoint at a time
            with self._local_lock:
                if self._local[key] >= limit:
                    return False
                if self._local[key] > 0:  # this container holds the endpoint's lease already
                    self._local[key] += 1
                    return True
                if self._clock() < self._refused_until.get(key, 0.0):
                    return False
            if not self._lease(key, leased):
                self._refuse(key)
                return False
            with self._local_lock:
                self._refused_until.pop(key, None)
                self._local[key] += 1
                return True

    def _refuse(self, key: tuple[str, str]) -> None:
        now = self._clock()
        with self._local_lock:
            if len(self._refused_until) >= REFUSALS_KEPT:  # bounded: forget the refusals that ran out
                self._refused_until = {k: t for k, t in self._refused_until.items() if t > now}
            self._refused_until[key] = now + LEASE_REFUSED_SECONDS

    def _lease(self, key: tuple[str, str], limit: int) -> bool:
        """The first send of this container to a slow endpoint leases it."""
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
        with self._local_lock:
            self._tokens[key] = token
        return True

    def _unlease(self, key: tuple[str, str], token: str) -> None:
        if self._leases is None:
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
        result = self._send(task, started, FIRST_WAVE_SECONDS if task.first_wave else None)
        if (
            task.first_wave
            and result.failure is FailureKind.TIMEOUT
            and self._sender.timeout_seconds > FIRST_WAVE_SECONDS
        ):
            # No answer within the first wave's limit: the endpoint is slow now (the pipeline marks it), and
            # this delivery goes on under its in-flight limit with the whole timeout, spending no attempt.
            # The request was cut off, so a receiver that took it in anyway sees it again (same webhook-id).
            return Deferred(in_flight_wait(task.waits), SLOW_ENDPOINT)
        return Sent(after_attempt(task, seen, result, started, self._clock(), self._schedule), claimed_as)

    def _send(self, task: PairTask, started: float, limit: float | None) -> AttemptResult:
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
            return self._sender.send(endpoint.url, body, headers, limit)
        except Exception:  # noqa: BLE001 - the sender never raises; if it ever does, it is this attempt's failure
            logger.exception("the sender raised", extra={"event_id": task.event.event_id})
            return AttemptResult(
                AttemptOutcome.RETRY,
                0,
                failure=FailureKind.INTERNAL,
                message="the attempt failed on Hookline's side",
            )
