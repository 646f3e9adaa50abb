"""Isolation in time, at the pipeline: ordered keys on the FIFO queue, and each endpoint's in-flight limit.

Runs the real dispatcher over in-memory stores and a fake sender (``test_pipeline.World``): no AWS or sockets.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from hookline.core.jobs import DeliverJob, EventJob
from hookline.core.models import (
    AttemptOutcome,
    AttemptResult,
    DeliveryRef,
    DeliveryStatus,
    Event,
    FailureKind,
)
from hookline.delivery.effects import (
    LEASE_REFUSED_SECONDS,
    Attempts,
    Deferred,
    Sent,
    in_flight_wait,
)
from hookline.delivery.plan import FIRST_WAVE_SECONDS, PairTask, Step
from hookline.delivery.rate_limit import RateLimiter
from tests.unit.fakes import FakeInFlight, FakeSender, failed, ok, sqs_record
from tests.unit.test_pipeline import World, ordered_message_group

KEY = "ord_1001"


@pytest.fixture
def world() -> World:
    return World()


def ordered_event(world: World, key: str = KEY) -> EventJob:
    return replace(world.event_job(), ordering_key=key)


def test_an_ordered_event_is_fanned_out_to_one_group_per_endpoint_and_sent_nothing_inline(
    world: World,
) -> None:
    first, second = world.endpoint(), world.endpoint()
    job = ordered_event(world)
    assert world.run(job) == set()
    assert world.sender.requests == []
    jobs = world.deliver_jobs()
    assert sorted(deliver.endpoint_id for deliver, _ in jobs) == [first.endpoint_id, second.endpoint_id]
    assert all(deliver.ordering_key == KEY and delay == 0 for deliver, delay in jobs)
    groups = {ordered_message_group(deliver) for deliver, _ in jobs}
    assert len(groups) == 2 and None not in groups
    assert world.status(job, first) is DeliveryStatus.PENDING
    assert world.record(job).event.ordering_key == KEY


def test_an_ordered_retry_keeps_its_message_in_flight_instead_of_queueing_a_new_one(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(500), ok())
    job = ordered_event(world)
    world.run(job)
    [(deliver, _)] = world.queue.take()
    assert world.run(deliver) == {"m0"}  # it comes back: the group is held while it waits
    [(receipt, seconds)] = world.queue.visibility
    assert receipt == "receipt-m0" and 4 <= seconds <= 6  # the schedule's 5 s, jittered
    assert world.queue.sent == []
    assert world.status(job, endpoint) is DeliveryStatus.RETRYING
    world.clock.advance(6)
    assert world.run(deliver) == set()  # succeeded: deleted, and the key's next event may go
    assert world.status(job, endpoint) is DeliveryStatus.SUCCEEDED
    assert world.queue.sent == []


def test_only_the_first_message_of_a_group_in_a_batch_goes(world: World) -> None:
    endpoint = world.endpoint()
    jobs = [ordered_event(world), ordered_event(world)]
    world.run(*jobs)  # fan-outs of one key: the second waits behind the first
    assert [d.event_id for d, _ in world.deliver_jobs()] == [jobs[0].event_id]
    assert world.queue.visibility == [("receipt-m1", 0)]
    world.queue.take()
    world.queue.visibility.clear()
    first = DeliverJob("acme", jobs[0].event_id, endpoint.endpoint_id, ordering_key=KEY)
    second = DeliverJob("acme", jobs[1].event_id, endpoint.endpoint_id, ordering_key=KEY)
    world.log.records[("acme", jobs[1].event_id)] = replace(
        world.record(jobs[0]),
        event=Event("acme", jobs[1].event_id, "order.created", jobs[1].timestamp, jobs[1].body or "", KEY),
    )
    assert world.run(first, second) == {"m1"}
    assert len(world.sender.requests) == 1
    assert world.queue.visibility == [("receipt-m1", 0)]


def test_an_unreadable_ordered_message_is_dead_lettered_at_once(world: World) -> None:
    record = sqs_record("{not json", "m0", group="d-somegroup")
    assert world.dispatcher.run([record]) == set()
    assert world.dlq.raw == ["{not json"]


def blocking_sender(world: World, url: str, release: threading.Event) -> None:
    def answer(*_: object) -> AttemptResult:
        assert release.wait(10)
        return AttemptResult(AttemptOutcome.SUCCEEDED, 5, status_code=200)

    world.sender.answers[url] = answer


def pair_task(world: World, endpoint_url: str, lease_limit: int | None = None) -> PairTask:
    endpoint = next(e for e in world.directory.endpoints("acme").values() if e.url == endpoint_url)
    job = world.event_job()
    event = Event("acme", job.event_id, job.event_type, job.timestamp, job.body or "")
    ref = DeliveryRef("acme", job.event_id, endpoint.endpoint_id)
    return PairTask(ref, event, endpoint, None, Step.SEND, lease_limit=lease_limit)


def attempts(world: World, leases: FakeInFlight | None = None) -> Attempts:
    return Attempts(
        world.log,
        world.dispatcher._breaker,
        RateLimiter(world.slots, world.clock),
        world.sender,
        world.dispatch_settings.retry_schedule,
        owner="other",
        clock=world.clock,
        leases=leases or world.leases,
        max_in_flight=10,
    )


def wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = threading.Event()
    timer = threading.Timer(timeout, deadline.set)
    timer.start()
    try:
        while not condition():  # type: ignore[operator]
            assert not deadline.wait(0.005), "condition not met in time"
    finally:
        timer.cancel()


def test_an_endpoints_in_flight_limit_holds_within_a_container_without_any_write(world: World) -> None:
    endpoint = world.endpoint(max_in_flight=2)
    release = threading.Event()
    blocking_sender(world, endpoint.url, release)
    runner = attempts(world)
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(runner.run(pair_task(world, endpoint.url))))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(world.sender.requests) == 2)
    third = runner.run(pair_task(world, endpoint.url))
    assert isinstance(third, Deferred) and third.reason == "in_flight_limit"
    assert 1 <= third.seconds <= 2  # a first wait
    release.set()
    for thread in threads:
        thread.join(10)
    assert all(isinstance(r, Sent) for r in results)
    assert isinstance(runner.run(pair_task(world, endpoint.url)), Sent)  # the slots came back
    assert world.leases.taken == 0  # a healthy endpoint leased nothing


def test_a_slow_endpoints_limit_holds_across_containers_through_leases(world: World) -> None:
    endpoint = world.endpoint()
    release = threading.Event()
    blocking_sender(world, endpoint.url, release)
    shared = FakeInFlight()
    containers = [attempts(world, shared), attempts(world, shared)]
    results: list[object] = []
    thread = threading.Thread(
        target=lambda: results.append(containers[0].run(pair_task(world, endpoint.url, lease_limit=1)))
    )
    thread.start()
    wait_for(lambda: len(world.sender.requests) == 1)
    refused = containers[1].run(pair_task(world, endpoint.url, lease_limit=1))
    assert isinstance(refused, Deferred) and refused.reason == "in_flight_limit"
    release.set()
    thread.join(10)
    assert isinstance(results[0], Sent)
    assert shared.holders[("acme", endpoint.endpoint_id)] == {}  # released after the answer
    # A refusal is remembered for a moment: the container does not ask DynamoDB again for each delivery...
    asked = shared.calls.get("acquire", 0)
    assert isinstance(containers[1].run(pair_task(world, endpoint.url, lease_limit=1)), Deferred)
    assert shared.calls.get("acquire", 0) == asked
    world.clock.advance(LEASE_REFUSED_SECONDS)  # ...and after it, the free slot is taken
    assert isinstance(containers[1].run(pair_task(world, endpoint.url, lease_limit=1)), Sent)


SLOW_SUCCESS = AttemptResult(AttemptOutcome.SUCCEEDED, 1500, status_code=200)
TIMEOUT = AttemptResult(AttemptOutcome.RETRY, 15000, failure=FailureKind.TIMEOUT, message="timed out")


@pytest.mark.parametrize("answer", [SLOW_SUCCESS, TIMEOUT], ids=["slow", "timeout"])
def test_a_slow_answer_makes_the_next_deliveries_lease_their_slots(
    world: World, answer: AttemptResult
) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, answer)
    world.run(world.event_job())
    state = world.breakers.states[("acme", endpoint.endpoint_id)]
    assert state.slow(world.clock())
    assert world.leases.taken == 0
    world.sender.answer(endpoint.url, ok())
    world.run(world.event_job())
    assert world.leases.taken == 1  # now leased...
    assert world.leases.holders[("acme", endpoint.endpoint_id)] == {}  # ...and given back


def test_a_full_slow_endpoint_defers_without_spending_an_attempt(world: World) -> None:
    endpoint = world.endpoint(max_in_flight=1)
    world.breakers.mark_slow("acme", endpoint.endpoint_id, world.clock() + 300)
    world.leases.holders[("acme", endpoint.endpoint_id)] = {"someone-else": world.clock() + 30}
    job = world.event_job()
    assert world.run(job) == set()
    assert world.sender.requests == []
    delivery = world.record(job).deliveries[endpoint.endpoint_id]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    [(deliver, delay)] = world.deliver_jobs()
    assert deliver.endpoint_id == endpoint.endpoint_id and 1 <= delay <= 4


def test_each_in_flight_wait_of_a_delivery_is_longer_up_to_half_a_minute() -> None:
    """A slow endpoint's backlog waits at its pace instead of coming back through the queue every second."""
    spans = [(in_flight_wait(w), in_flight_wait(w)) for w in range(8)]
    ceilings = [2.0, 4.0, 8.0, 16.0, 32.0, 32.0, 32.0, 32.0]
    for (first, second), ceiling in zip(spans, ceilings, strict=True):
        assert ceiling / 2 <= first <= ceiling and ceiling / 2 <= second <= ceiling


def test_a_delivery_that_waits_for_a_slot_again_and_again_waits_longer_each_time(world: World) -> None:
    endpoint = world.endpoint(max_in_flight=1)
    release = threading.Event()
    blocking_sender(world, endpoint.url, release)
    holder = threading.Thread(target=lambda: world.run(world.event_job()))
    holder.start()
    wait_for(lambda: len(world.sender.requests) == 1)
    try:
        world.run(world.event_job())  # its only slot is taken: handed to a deliver job that counts one wait
        ((first, first_delay),) = world.deliver_jobs()
        assert first.waits == 1 and 1 <= first_delay <= 2
        world.queue.take()
        world.clock.advance(first_delay)
        world.run(first)  # taken still: it comes back later again
        ((second, second_delay),) = world.deliver_jobs()
        assert second == replace(first, waits=2) and 2 <= second_delay <= 4
    finally:
        release.set()
        holder.join(10)


def test_a_first_wave_that_gets_no_answer_in_time_spends_no_attempt_and_goes_on_under_the_limit(
    world: World,
) -> None:
    """A newly hanging endpoint holds a dispatch invocation FIRST_WAVE_SECONDS, not the delivery timeout."""
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, TIMEOUT)
    job = world.event_job()
    world.run(job)
    assert world.sender.limits == [FIRST_WAVE_SECONDS]
    ((handed, delay),) = world.deliver_jobs()
    assert handed.waits == 1 and 1 <= delay <= 2
    delivery = world.record(job).deliveries[endpoint.endpoint_id]
    assert delivery.attempts == 0 and not delivery.status.final  # no attempt spent
    state = world.breakers.states[("acme", endpoint.endpoint_id)]
    assert state.slow(world.clock()) and state.consecutive_failures == 0  # slow, not failing
    world.clock.advance(delay)
    world.run(handed)  # the hand-over is a claimed attempt under a lease, with the whole timeout
    assert world.sender.limits == [FIRST_WAVE_SECONDS, None]
    assert world.leases.taken == 1
    assert world.record(job).deliveries[endpoint.endpoint_id].attempts == 1


def test_with_a_delivery_timeout_within_the_first_wave_a_timeout_is_an_attempt() -> None:
    world = World(sender=FakeSender(timeout_seconds=FIRST_WAVE_SECONDS))
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, TIMEOUT)
    job = world.event_job()
    world.run(job)
    assert world.record(job).deliveries[endpoint.endpoint_id].attempts == 1
