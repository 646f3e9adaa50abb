import pytest

from hookline.health import BreakerPolicy, Gate
from hookline.models import EndpointHealth
from hookline.rate_limit import SPACING_MARGIN, RateLimiter

POLICY = BreakerPolicy(failure_threshold=3, cooldown_seconds=60, disable_after_seconds=432_000)


def health(**fields: float | int | bool | None) -> EndpointHealth:
    return EndpointHealth("acme", "ep_1", **fields)  # type: ignore[arg-type]


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
def test_the_breaker_gate(state: EndpointHealth | None, now: float, expected: tuple[Gate, float]) -> None:
    assert POLICY.admit(state, now) == expected


def test_the_breaker_opens_at_the_threshold_or_when_a_probe_fails() -> None:
    assert not POLICY.should_open(health(consecutive_failures=2), probed=False)
    assert POLICY.should_open(health(consecutive_failures=3), probed=False)
    assert POLICY.should_open(health(consecutive_failures=1), probed=True)


def test_auto_disable_after_the_span_of_only_failures() -> None:
    assert not POLICY.should_disable(health(failing_since=0.0), now=431_999.0)
    assert POLICY.should_disable(health(failing_since=0.0), now=432_000.0)
    assert not POLICY.should_disable(health(), now=10**9)


class FakeLimiterStore:
    """The two calls RateLimiter makes, with a compare-and-set that a rival can win."""

    def __init__(self) -> None:
        self.next_slot: float | None = None
        self.rival_claims = 0

    def rate_slot(self, tenant_id: str, endpoint_id: str) -> float | None:
        return self.next_slot

    def claim_rate_slot(
        self, tenant_id: str, endpoint_id: str, seen: float | None, next_slot: float, _: int
    ) -> bool:
        if self.rival_claims:
            self.rival_claims -= 1
            self.next_slot = (self.next_slot or 0.0) + 0.1
            return False
        if seen != self.next_slot:
            return False
        self.next_slot = next_slot
        return True


def test_slots_are_spaced_and_far_ones_are_deferred() -> None:
    store = FakeLimiterStore()
    limiter = RateLimiter(store, clock=lambda: 1000.0)  # type: ignore[arg-type]
    spacing = SPACING_MARGIN / 4
    waits = [limiter.reserve("acme", "ep_1", per_second=4) for _ in range(4)]
    assert [w.defer_seconds for w in waits] == [None] * 4
    assert [w.wait for w in waits] == pytest.approx([0.0, spacing, 2 * spacing, 3 * spacing])
    deferred = limiter.reserve("acme", "ep_1", per_second=4)
    assert deferred.defer_seconds == 2
    assert store.next_slot == pytest.approx(1000.0 + 4 * spacing)  # a deferral claims nothing


def test_losing_a_race_reads_again_instead_of_sharing_a_slot() -> None:
    store = FakeLimiterStore()
    store.next_slot = 1000.0
    store.rival_claims = 2
    limiter = RateLimiter(store, clock=lambda: 1000.0)  # type: ignore[arg-type]
    reservation = limiter.reserve("acme", "ep_1", per_second=10)
    assert reservation.defer_seconds is None
    assert reservation.wait == pytest.approx(0.2)
