"""The circuit breaker: one object that owns an endpoint's breaker state and every change to it.

After ``failure_threshold`` consecutive failed attempts the breaker opens: for ``cooldown_seconds`` the
endpoint's deliveries wait (re-queued, without spending attempts). Then one probe, under a lease in DynamoDB,
decides: its success closes the breaker, its failure re-opens it. A success from an attempt that started
before the breaker opened does not close it: batches already in flight when it opened must not undo it.
An endpoint that has only failed for ``disable_after_seconds`` is disabled. Each transition is reported once:
``endpoint.failing`` (first opening), ``endpoint.disabled`` and ``endpoint.recovered``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hookline.core.config import BreakerSettings
from hookline.core.models import AttemptOutcome, AttemptResult, BreakerState

if TYPE_CHECKING:
    from hookline.core.ports import BreakerStates


class Gate(enum.Enum):
    DELIVER = "deliver"
    PROBE = "probe"  # the cool-down is over: this delivery may test the endpoint
    WAIT = "wait"  # the breaker is open, or another delivery holds the probe


class Transition(enum.StrEnum):
    FAILING = "endpoint.failing"
    DISABLED = "endpoint.disabled"
    RECOVERED = "endpoint.recovered"


@dataclass(frozen=True, slots=True)
class Observed:
    """One attempt's result as the breaker sees it."""

    result: AttemptResult
    started_at: float
    probe: bool


@dataclass(frozen=True, slots=True)
class BreakerChange:
    transition: Transition
    consecutive_failures: int = 0
    paused_until: float | None = None


class Breaker:
    def __init__(self, settings: BreakerSettings, store: BreakerStates) -> None:
        self._settings = settings
        self._store = store

    @property
    def cooldown_seconds(self) -> int:
        return self._settings.cooldown_seconds

    @staticmethod
    def admit(state: BreakerState | None, now: float) -> tuple[Gate, float]:
        """Whether a delivery may go now, and if not, how long it should wait."""
        if state is None or state.open_until is None:
            return Gate.DELIVER, 0.0
        if now < state.open_until:
            return Gate.WAIT, state.open_until - now
        if state.probe_until is not None and state.probe_until > now:
            return Gate.WAIT, state.probe_until - now
        return Gate.PROBE, 0.0

    def lease_probe(self, tenant_id: str, endpoint_id: str, now: float, lease_seconds: float) -> bool:
        return self._store.acquire_probe(tenant_id, endpoint_id, now, now + lease_seconds)

    def observe(
        self, tenant_id: str, endpoint_id: str, observed: Sequence[Observed], had_state: bool, now: float
    ) -> BreakerChange | None:
        """Feed one batch's attempts to one endpoint's breaker. Returns the transition to report, if any."""
        successes = [o for o in observed if o.result.outcome is AttemptOutcome.SUCCEEDED]
        if successes:
            if not had_state:
                return None
            cleared = self._store.close(tenant_id, endpoint_id, max(o.started_at for o in successes))
            if cleared is not None and cleared.alerted_failing:
                return BreakerChange(Transition.RECOVERED)
            return None
        failures = [o for o in observed if o.result.outcome is AttemptOutcome.RETRY]
        if not failures:
            return None
        state = self._store.record_failures(tenant_id, endpoint_id, len(failures), now)
        if (
            state.failing_since is not None
            and now - state.failing_since >= self._settings.disable_after_seconds
        ):
            return BreakerChange(Transition.DISABLED, state.consecutive_failures)
        probed = any(o.probe for o in failures)
        if probed or state.consecutive_failures >= self._settings.failure_threshold:
            until = now + self._settings.cooldown_seconds
            if self._store.open(tenant_id, endpoint_id, now, until):
                return BreakerChange(Transition.FAILING, state.consecutive_failures, until)
        return None

    def mark_slow(self, tenant_id: str, endpoint_id: str, until: float) -> None:
        self._store.mark_slow(tenant_id, endpoint_id, until)

    def reset(self, tenant_id: str, endpoint_id: str) -> None:
        self._store.clear(tenant_id, endpoint_id)
