"""One contract, two implementations: every test here runs against the in-memory fakes the unit tests use
(``tests/unit/fakes.py``) and against the DynamoDB stores on the template's own table in moto. A fake that
promised something the real store does not keep (or the other way round) fails here, not in production."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from hookline.core import clock, ids
from hookline.core.models import (
    Attempt,
    AttemptOutcome,
    Claim,
    Delivery,
    DeliveryRef,
    DeliveryStatus,
    Event,
    EventRecord,
    FailureEntry,
    FanoutState,
)
from hookline.core.ports import BreakerStates, DeliveryLog, InFlightSlots, RateSlots
from hookline.storage.breaker_state import BreakerStateStore
from hookline.storage.in_flight import InFlightLeases
from hookline.storage.rate_slots import RateSlotStore
from tests.integration.seed import Seeder
from tests.unit.fakes import FakeBreakerStates, FakeEventLog, FakeInFlight, FakeRateSlots

T = "acme"
EXPIRES = 2_000_000_000


@dataclass(frozen=True)
class Stores:
    log: DeliveryLog
    breakers: BreakerStates
    slots: RateSlots
    leases: InFlightSlots


@pytest.fixture(params=["fake", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "fake":
        return Stores(FakeEventLog(), FakeBreakerStates(), FakeRateSlots(), FakeInFlight())
    seeder = Seeder(request.getfixturevalue("stack"))
    seeder.tenant(T)
    table: Any = seeder.table
    return Stores(seeder.log, BreakerStateStore(table), RateSlotStore(table), InFlightLeases(table))


def new_record(event_id: str, *endpoint_ids: str) -> EventRecord:
    event = Event(T, event_id, "order.created", clock.now_iso(), '{"type":"order.created","data":{}}')
    deliveries = {ep: Delivery(ep, DeliveryStatus.PENDING) for ep in endpoint_ids}
    return EventRecord(event, FanoutState.DONE, endpoint_ids, deliveries)


def test_a_record_is_created_once_and_read_back(stores: Stores) -> None:
    event_id = ids.new_event_id()
    record = new_record(event_id, "ep_1", "ep_2")
    assert stores.log.create(record, EXPIRES)
    assert not stores.log.create(record, EXPIRES)
    stored = stores.log.get(T, event_id)
    assert stored is not None and stored.event == record.event
    assert set(stored.deliveries) == {"ep_1", "ep_2"}
    assert stores.log.get(T, ids.new_event_id()) is None
    assert set(stores.log.load([(T, event_id, None), (T, ids.new_event_id(), None)])) == {(T, event_id)}


def test_a_swap_writes_only_over_what_its_caller_saw(stores: Stores) -> None:
    event_id = ids.new_event_id()
    stores.log.create(new_record(event_id, "ep_1"), EXPIRES)
    ref = DeliveryRef(T, event_id, "ep_1")
    pending = Delivery("ep_1", DeliveryStatus.PENDING)
    claimed = Delivery("ep_1", DeliveryStatus.PENDING, claim=Claim(1, 9e9, "me"))
    assert stores.log.swap(ref, pending, claimed)
    assert not stores.log.swap(ref, pending, claimed)  # a stale view
    assert not stores.log.swap(
        ref, Delivery("ep_1", DeliveryStatus.PENDING, claim=Claim(1, 9e9, "you")), pending
    )
    attempt = Attempt(1, clock.now_iso(), AttemptOutcome.SUCCEEDED, 12, 200, excerpt="ok")
    done = Delivery("ep_1", DeliveryStatus.SUCCEEDED, attempts=1, history=(attempt,))
    assert stores.log.swap(ref, claimed, done)
    stored = stores.log.get(T, event_id)
    assert stored is not None and stored.deliveries["ep_1"] == done
    # A delivery the record never had joins it only if nobody added it first.
    joined = Delivery("ep_2", DeliveryStatus.FAILED, last_error="disabled")
    entry = FailureEntry(T, "ep_2", event_id, clock.now_iso())
    assert stores.log.swap(DeliveryRef(T, event_id, "ep_2"), None, joined, entry, EXPIRES)
    assert not stores.log.swap(DeliveryRef(T, event_id, "ep_2"), None, joined)
    entries, _ = stores.log.failures_since(T, "ep_2", "2000", 10, None)
    assert [e.event_id for e in entries] == [event_id]
    stores.log.forget_failures(entries)
    assert stores.log.failures_since(T, "ep_2", "2000", 10, None)[0] == []


def test_swap_many_writes_all_of_its_changes_or_none(stores: Stores) -> None:
    event_id = ids.new_event_id()
    stores.log.create(new_record(event_id, "ep_1", "ep_2"), EXPIRES)
    pending = {ep: Delivery(ep, DeliveryStatus.PENDING) for ep in ("ep_1", "ep_2")}
    claimed = Delivery("ep_2", DeliveryStatus.PENDING, claim=Claim(1, 9e9, "me"))
    assert stores.log.swap(DeliveryRef(T, event_id, "ep_2"), pending["ep_2"], claimed)
    done = {ep: Delivery(ep, DeliveryStatus.SUCCEEDED, attempts=1) for ep in ("ep_1", "ep_2")}
    assert not stores.log.swap_many(
        T, event_id, [("ep_1", pending["ep_1"], done["ep_1"]), ("ep_2", pending["ep_2"], done["ep_2"])]
    )
    stored = stores.log.get(T, event_id)
    assert stored is not None and stored.deliveries["ep_1"] == pending["ep_1"]  # nothing written
    assert stores.log.swap_many(
        T, event_id, [("ep_1", pending["ep_1"], done["ep_1"]), ("ep_2", claimed, done["ep_2"])]
    )
    stored = stores.log.get(T, event_id)
    assert stored is not None and stored.deliveries == done


def test_a_breaker_opens_alerts_once_lets_one_probe_through_and_closes_on_a_later_success(
    stores: Stores,
) -> None:
    breakers = stores.breakers
    assert breakers.record_failures(T, "ep_1", 3, 100.0).consecutive_failures == 3
    assert breakers.open(T, "ep_1", 100.0, 160.0)
    assert not breakers.open(T, "ep_1", 101.0, 161.0)  # the alert goes out once
    assert not breakers.acquire_probe(T, "ep_1", 150.0, 170.0)  # still open
    assert breakers.acquire_probe(T, "ep_1", 162.0, 180.0)
    assert not breakers.acquire_probe(T, "ep_1", 163.0, 185.0)  # one probe at a time
    assert breakers.close(T, "ep_1", success_started_at=99.0) is None  # started before it opened
    closed = breakers.close(T, "ep_1", success_started_at=162.5)
    assert closed is not None and closed.alerted_failing
    assert breakers.close(T, "ep_1", success_started_at=170.0) is None  # nothing left to close


def test_a_slow_mark_outlives_a_success_but_not_its_own_end(stores: Stores) -> None:
    breakers = stores.breakers
    breakers.record_failures(T, "ep_1", 2, 100.0)
    breakers.mark_slow(T, "ep_1", 400.0)
    assert breakers.close(T, "ep_1", 101.0) is not None
    state = breakers.record_failures(T, "ep_1", 1, 102.0)  # a new streak, from zero
    assert state.consecutive_failures == 1 and state.slow(102.0)


def test_a_rate_slot_is_claimed_over_the_slot_its_caller_saw(stores: Stores) -> None:
    slots = stores.slots
    assert slots.next_slot(T, "ep_1") is None
    assert slots.claim(T, "ep_1", None, 10.25, EXPIRES)
    assert not slots.claim(T, "ep_1", None, 10.5, EXPIRES)
    assert slots.next_slot(T, "ep_1") == 10.25
    assert slots.claim(T, "ep_1", 10.25, 10.5, EXPIRES)
    assert not slots.claim(T, "ep_1", 10.25, 10.75, EXPIRES)


def test_in_flight_leases_stop_at_the_limit_come_back_on_release_and_expire(stores: Stores) -> None:
    leases = stores.leases
    first, second = (leases.acquire(T, "ep_1", 2, 100.0, 110.0) for _ in range(2))
    assert first is not None and second is not None and first != second
    assert leases.acquire(T, "ep_1", 2, 101.0, 111.0) is None
    leases.release(T, "ep_1", first)
    assert leases.acquire(T, "ep_1", 2, 102.0, 112.0) is not None
    assert leases.acquire(T, "ep_2", 2, 102.0, 112.0) is not None  # another endpoint's own slots
    assert leases.acquire(T, "ep_1", 2, 120.0, 130.0) is not None  # both holders' leases ran out
