"""Per-endpoint rate limits that hold across concurrent dispatch invocations.

The limiter keeps one number per endpoint in DynamoDB: the earliest time the next delivery may start.
Claiming a slot is a compare-and-set, so two dispatchers can never take the same slot, and slots are
spaced ``1.2 / rate`` seconds apart: a delivery that reaches the receiver up to 200 ms late (thread
wake-up, connection set-up, network) can then never squeeze ``rate + 1`` requests into one second as
the receiver measures it. The price is a sustained rate of about 83% of the limit.

A delivery whose slot is close waits for it in its thread; one whose slot is further away is deferred
through the queue, and a deferral is not a failed attempt. If the limiter cannot be read, the delivery is
deferred too: it is never sent unlimited, and never fails because of it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from hookline.core.errors import DependencyError
from hookline.core.ports import RateSlots

SPACING_MARGIN = 1.2
MAX_IN_PROCESS_WAIT_SECONDS = 1.0
_CLAIM_TRIES = 8


@dataclass(frozen=True, slots=True)
class Reservation:
    """Either a claimed slot ``wait`` seconds from now, or a deferral of ``defer_seconds``."""

    wait: float = 0.0
    defer_seconds: int | None = None


class RateLimiter:
    def __init__(self, store: RateSlots, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def reserve(self, tenant_id: str, endpoint_id: str, per_second: int) -> Reservation:
        spacing = SPACING_MARGIN / per_second
        try:
            for _ in range(_CLAIM_TRIES):
                now = self._clock()
                seen = self._store.next_slot(tenant_id, endpoint_id)
                start = max(seen or 0.0, now)
                wait = start - now
                if wait > MAX_IN_PROCESS_WAIT_SECONDS:
                    return Reservation(defer_seconds=max(1, math.ceil(wait)))
                if self._store.claim(tenant_id, endpoint_id, seen, start + spacing, int(now) + 3600):
                    return Reservation(wait=wait)
        except DependencyError:
            return Reservation(defer_seconds=1)
        # Heavy contention: step back and let the queue bring the delivery again shortly.
        return Reservation(defer_seconds=1)
