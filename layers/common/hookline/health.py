"""Endpoint health: the circuit breaker and auto-disable.

After ``failure_threshold`` consecutive failed attempts the breaker opens: for ``cooldown_seconds`` the
endpoint's deliveries wait in the queue instead of spending attempts. Then one probe delivery (a lease
in DynamoDB makes sure there is only one) decides: success closes the breaker, failure re-opens it.
An endpoint that has only failed for ``disable_after_seconds`` is disabled. The operator hears about each
transition: ``endpoint.failing`` (breaker first opens), ``endpoint.disabled`` and ``endpoint.recovered``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hookline.models import EndpointHealth


class Gate(enum.Enum):
    DELIVER = "deliver"
    PROBE = "probe"  # the breaker's cool-down is over: this delivery may test the endpoint
    WAIT = "wait"  # the breaker is open, or another delivery holds the probe


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int
    cooldown_seconds: int
    disable_after_seconds: int

    def admit(self, health: EndpointHealth | None, now: float) -> tuple[Gate, float]:
        """Whether a delivery may go now, and if not, how long it should wait."""
        if health is None or health.open_until is None:
            return Gate.DELIVER, 0.0
        if health.is_open(now):
            return Gate.WAIT, health.open_until - now
        if health.probe_until is not None and health.probe_until > now:
            return Gate.WAIT, health.probe_until - now
        return Gate.PROBE, 0.0

    def should_open(self, health: EndpointHealth, probed: bool) -> bool:
        return probed or health.consecutive_failures >= self.failure_threshold

    def should_disable(self, health: EndpointHealth, now: float) -> bool:
        return health.failing_since is not None and now - health.failing_since >= self.disable_after_seconds
