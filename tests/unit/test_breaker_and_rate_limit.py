"""The circuit breaker object and the rate limiter, against in-memory state."""

import pytest

from hookline.core.config import BreakerSettings
from hookline.core.models import AttemptOutcome, AttemptResult, BreakerState
from hookline.delivery.breaker import Breaker, Gate, Observed, Transition
from hookline.delivery.rate_limit import SPACING_MARGIN, RateLimiter
from tests.unit.fakes import FakeBreakerStates, FakeRateSlots

SETTINGS = BreakerSettings(failure_threshold=3, cooldown_seconds=60, disable_after_seconds=432_000)
FAILED = AttemptResult(AttemptOutcome.RETRY, 5, 500)
SUCCEEDED = AttemptResult(AttemptOutcome.SUCCEEDED, 5, 200)


def health(**fields: float | int | bool | None) -> BreakerState:
    return BreakerState("acme", "ep_1", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        (None, 100.0, (Gate.DELIVER, 0.0)),
        (health(consecutive_failures=2), 100.0, (Gate.DELIVER, 0.0)),
        (health(consecutive_failures=3, open_until=160.0), 100.0, (Gate.WAIT, 60.0)),
        (health(consecutive_failures=3, open_until=160.0), 160.0, (Gate.PROBE, 0.0)),
        (health(consecutive_failures=3, open_until=160.0, probe_until=180.0), 170.0, (Gate.WAIT, 10.0)),
        (health(consecutive_failures=3, open_until=160.0, probe_until=165.0), 170.0, (Gate.PROBE, 0.0)),
    ],
    ids=[
        "healthy",
        "failing-below-threshold",
        "open",
        "cool-down-over",
        "probe-in-flight",
        "probe-lease-expired",
    ],
)
def test_the_breaker_gate(state: BreakerState | None, now: float, expected: tuple[Gate, float]) -> None:
    assert Breaker.admit(state, now) == expected


def failures(breaker: Breaker, count: int, now: float, probe: bool = False) -> Transition | None:
    observed = [Observed(FAILED, now, probe) for _ in range(count)]
    change = breaker.observe("acme", "ep_1", observed, True, now)
    return change.transition if change else None


def test_the_breaker_opens_at_the_threshold_and_alerts_once() -> None:
    states = FakeBreakerStates()
    breaker = Breaker(SETTINGS, states)
    assert failures(breaker, 2, 100.0) is None
    assert failures(breaker, 1, 101.0) is Transition.FAILING
    assert states.states[("acme", "ep_1")].open_until == 161.0
    assert failures(breaker, 1, 170.0, probe=True) is None  # re-opened by the failed probe, no second alert
    assert states.states[("acme", "ep_1")].open_until == 230.0


def test_only_a_success_that_started_after_the_breaker_opened_closes_it() -> None:
    states = FakeBreakerStates()
    breaker = Breaker(SETTINGS, states)
    failures(breaker, 3, 100.0)
    stale = breaker.observe("acme", "ep_1", [Observed(SUCCEEDED, 99.5, False)], True, 100.5)
    assert stale is None and ("acme", "ep_1") in states.states
    probe = breaker.observe("acme", "ep_1", [Observed(SUCCEEDED, 161.0, True)], True, 161.2)
    assert probe is not None and probe.transition is Transition.RECOVERED
    assert ("acme", "ep_1") not in states.states


def test_auto_disable_after_the_span_of_only_failures() -> None:
    breaker = Breaker(SETTINGS, FakeBreakerStates())
    assert failures(breaker, 2, 0.0) is None
    assert failures(breaker, 1, 431_999.0) is Transition.FAILING
    assert failures(breaker, 1, 432_000.0) is Transition.DISABLED


class RivalSlots(FakeRateSlots):
    """Slots whose compare-and-set a rival dispatcher wins ``rival_claims`` times."""

    def __init__(self) -> None:
        super().__init__()
        self.rival_claims = 0

    def claim(
        self, tenant_id: str, endpoint_id: str, seen: float | None, next_slot: float, expires_at: int
    ) -> bool:
        if self.rival_claims:
            self.rival_claims -= 1
            self.slots[(tenant_id, endpoint_id)] = (seen or 0.0) + 0.1
            return False
        return super().claim(tenant_id, endpoint_id, seen, next_slot, expires_at)


def test_slots_are_spaced_and_far_ones_are_deferred() -> None:
    store = RivalSlots()
    limiter = RateLimiter(store, clock=lambda: 1000.0)
    spacing = SPACING_MARGIN / 4
    waits = [limiter.reserve("acme", "ep_1", per_second=4) for _ in range(4)]
    assert [w.defer_seconds for w in waits] == [None] * 4
    assert [w.wait for w in waits] == pytest.approx([0.0, spacing, 2 * spacing, 3 * spacing])
    deferred = limiter.reserve("acme", "ep_1", per_second=4)
    assert deferred.defer_seconds == 2
    assert store.slots[("acme", "ep_1")] == pytest.approx(1000.0 + 4 * spacing)  # a deferral claims nothing


def test_losing_a_race_reads_again_instead_of_sharing_a_slot() -> None:
    store = RivalSlots()
    store.slots[("acme", "ep_1")] = 1000.0
    store.rival_claims = 2
    limiter = RateLimiter(store, clock=lambda: 1000.0)
    reservation = limiter.reserve("acme", "ep_1", per_second=10)
    assert reservation.defer_seconds is None
    assert reservation.wait == pytest.approx(0.2)


def test_a_limiter_that_cannot_be_read_defers_instead_of_sending_unlimited() -> None:
    store = FakeRateSlots()
    store.fail("next_slot")
    assert RateLimiter(store, clock=lambda: 1000.0).reserve("acme", "ep_1", per_second=5).defer_seconds == 1
