"""The dispatch pipeline's decisions, with in-memory stores, a scripted sender and a fake clock.

Each record's fate is its own: these tests hold one record's trouble (a bad endpoint, an AWS error, a bug)
to that record, and show that a delivery that got a 2xx is never sent again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from hookline.core import jsonsafe
from hookline.core.config import BreakerSettings, DispatchSettings, TargetPolicy
from hookline.core.errors import DependencyError
from hookline.core.jobs import DeliverJob, EventJob, Job, is_ordered
from hookline.core.models import (
    AttemptOutcome,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointSecret,
    EventRecord,
    FailureKind,
)
from hookline.core.schedule import RetrySchedule
from hookline.core.signing import generate_secret
from hookline.delivery.breaker import Breaker
from hookline.delivery.effects import Attempts
from hookline.delivery.expander import Expander
from hookline.delivery.pipeline import Dispatcher
from hookline.delivery.rate_limit import RateLimiter
from hookline.delivery.recorder import Recorder, Unrecorded
from hookline.storage.queue import ordered_message_ids
from tests.unit.fakes import (
    FakeAlerts,
    FakeBreakerStates,
    FakeClock,
    FakeDeadLetters,
    FakeDirectory,
    FakeEventLog,
    FakeInFlight,
    FakeJobs,
    FakeLoader,
    FakeRateSlots,
    FakeSender,
    failed,
    ok,
    sqs_record,
)

SCHEDULE = "0,5,300"


def settings(**changes: Any) -> DispatchSettings:
    base = DispatchSettings(
        table_name="t",
        delivery_queue_url="q",
        ordered_queue_url="q.fifo",
        dead_letter_queue_url="dlq",
        alerts_topic_arn="topic",
        encryption_keys_secret_arn="keys",
        retry_schedule=RetrySchedule.parse(SCHEDULE),
        delivery_timeout_seconds=15.0,
        max_concurrent_deliveries=4,
        endpoint_max_in_flight=10,
        retention_days=30,
        endpoint_cache_seconds=10,
        target_policy=TargetPolicy(allow_http=True, allowed_private_networks=()),
        breaker=BreakerSettings(failure_threshold=3, cooldown_seconds=60, disable_after_seconds=3600),
        operator_webhook_url=None,
        operator_webhook_secret_arn=None,
    )
    return replace(base, **changes)


@dataclass
class World:
    clock: FakeClock = field(default_factory=FakeClock)
    log: FakeEventLog = field(default_factory=FakeEventLog)
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    breakers: FakeBreakerStates = field(default_factory=FakeBreakerStates)
    slots: FakeRateSlots = field(default_factory=FakeRateSlots)
    leases: FakeInFlight = field(default_factory=FakeInFlight)
    sender: FakeSender = field(default_factory=FakeSender)
    queue: FakeJobs = field(default_factory=FakeJobs)
    dlq: FakeJobs = field(default_factory=FakeJobs)
    alerts: FakeAlerts = field(default_factory=FakeAlerts)
    letters: FakeDeadLetters = field(default_factory=FakeDeadLetters)
    unrecorded: Unrecorded = field(default_factory=Unrecorded)
    dispatch_settings: DispatchSettings = field(default_factory=settings)
    _dispatcher: Dispatcher | None = None
    _counter: int = 0

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            config = self.dispatch_settings
            breaker = Breaker(config.breaker, self.breakers)
            self._dispatcher = Dispatcher(
                settings=config,
                loader=FakeLoader(self.log, self.directory, self.breakers, self.unrecorded),
                log=self.log,
                directory=self.directory,
                endpoints=self.directory,
                breaker=breaker,
                attempts=Attempts(
                    self.log,
                    breaker,
                    RateLimiter(self.slots, self.clock),
                    self.sender,
                    config.retry_schedule,
                    owner="me",
                    clock=self.clock,
                    sleep=self.clock.advance,
                    leases=self.leases,
                    max_in_flight=config.endpoint_max_in_flight,
                ),
                recorder=Recorder(self.log, self.queue, config.retention_days, self.unrecorded),
                deliveries=self.queue,
                dead_letters=self.dlq,
                alerts=self.alerts,
                expander=Expander(self.log, self.directory, self.letters, self.queue, 30, self.clock),
                clock_now=self.clock,
            )
        return self._dispatcher

    def endpoint(self, tenant_id: str = "acme", **fields: Any) -> Endpoint:
        self._counter += 1
        endpoint = Endpoint(
            tenant_id=tenant_id,
            endpoint_id=f"ep_{self._counter:026d}",
            url=fields.pop("url", f"http://receiver/{self._counter}"),
            secrets=(EndpointSecret(generate_secret()),),
            **fields,
        )
        return self.directory.add(endpoint)

    def event_job(self, tenant_id: str = "acme", event_type: str = "order.created", **job: Any) -> EventJob:
        self._counter += 1
        event_id = f"evt_{self._counter:026d}"
        body = jsonsafe.dumps({"type": event_type, "timestamp": "2027-01-15T08:00:00.000Z", "data": {"n": 1}})
        return EventJob(tenant_id, event_id, event_type, "2027-01-15T08:00:00.000Z", body, **job)

    def run(self, *jobs: Job | tuple[Job, int], remaining: float = 60.0) -> set[str]:
        records = []
        for index, item in enumerate(jobs):
            job, receives = item if isinstance(item, tuple) else (item, 1)
            records.append(sqs_record(job, f"m{index}", receives, group=ordered_message_group(job)))
        return self.dispatcher.run(records, remaining)

    def record(self, job: EventJob | DeliverJob) -> EventRecord:
        return self.log.records[(job.tenant_id, job.event_id)]

    def status(self, job: EventJob, endpoint: Endpoint) -> DeliveryStatus:
        return self.record(job).deliveries[endpoint.endpoint_id].status

    def deliver_jobs(self) -> list[tuple[DeliverJob, int]]:
        return [(job, delay) for job, delay in self.queue.sent if isinstance(job, DeliverJob)]


def ordered_message_group(job: Job) -> str | None:
    """The FIFO group a job has on the ordered queue, as the queue would give it; None for other jobs."""
    return ordered_message_ids(job)[0] if is_ordered(job) else None


@pytest.fixture
def world() -> World:
    return World()


def test_a_first_round_success_is_one_write_and_no_further_job(world: World) -> None:
    endpoint = world.endpoint()
    job = world.event_job()
    assert world.run(job) == set()
    [request] = world.sender.to(endpoint.url)
    assert request.headers["webhook-id"] == job.event_id
    assert json.loads(request.body)["type"] == "order.created"
    assert world.status(job, endpoint) is DeliveryStatus.SUCCEEDED
    assert world.log.writes == 1
    assert world.queue.sent == []


def test_a_failure_is_handed_to_a_deliver_job_due_after_the_schedule_delay(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(500))
    job = world.event_job()
    assert world.run(job) == set()  # the event job is done; the retry travels on its own job
    delivery = world.record(job).deliveries[endpoint.endpoint_id]
    assert delivery.status is DeliveryStatus.RETRYING
    assert delivery.attempts == 1
    [(deliver, delay)] = world.deliver_jobs()
    assert (deliver.event_id, deliver.endpoint_id) == (job.event_id, endpoint.endpoint_id)
    assert 4 <= delay <= 6  # 5 s with ±20% jitter


def test_a_retry_is_claimed_attempted_and_scheduled_on_a_new_delayed_message(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(500), failed(503))
    job = world.event_job()
    world.run(job)
    [(deliver, _)] = world.deliver_jobs()
    world.queue.take()
    world.clock.advance(6)
    assert world.run(deliver) == set()
    delivery = world.record(job).deliveries[endpoint.endpoint_id]
    assert (delivery.status, delivery.attempts, delivery.claim) == (DeliveryStatus.RETRYING, 2, None)
    # Not a hidden message (it would count as in flight for the whole wait): a new one, delayed.
    [(again, seconds)] = world.queue.take()
    assert again == deliver
    assert 240 <= seconds <= 360  # 300 s ± 20%
    assert world.queue.visibility == []


def test_an_early_deliver_job_waits_without_spending_an_attempt(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(500))
    job = world.event_job()
    world.run(job)
    [(deliver, _)] = world.deliver_jobs()
    world.queue.take()
    writes = world.log.writes
    assert world.run(deliver) == set()
    [(again, seconds)] = world.queue.take()
    assert again == deliver and 3 <= seconds <= 6
    assert len(world.sender.requests) == 1
    assert world.record(job).deliveries[endpoint.endpoint_id].attempts == 1
    assert world.log.writes == writes  # waiting writes nothing


def test_the_last_failure_goes_to_the_dead_letter_queue(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(500))
    job = world.event_job()
    world.run(job)
    [(deliver, _)] = world.deliver_jobs()
    for _ in range(2):
        world.clock.advance(400)
        world.run(deliver)
    assert world.record(job).deliveries[endpoint.endpoint_id].attempts == 3
    [(dead, _)] = world.dlq.sent
    assert isinstance(dead, DeliverJob) and dead.endpoint_id == endpoint.endpoint_id


def test_a_poisoned_endpoint_fails_only_its_own_delivery(world: World) -> None:
    """An endpoint whose request cannot even be built (or a bug while sending) is that delivery's failed
    attempt; the other tenant's healthy endpoint in the same batch gets exactly one delivery."""
    poisoned = world.endpoint("tenant-a")
    healthy = world.endpoint("tenant-b")
    world.sender.answer(poisoned.url, UnicodeEncodeError("latin-1", "日本", 0, 1, "not Latin-1"))
    bad, good = world.event_job("tenant-a"), world.event_job("tenant-b")
    assert world.run(bad, good) == set()
    assert len(world.sender.to(healthy.url)) == 1
    assert world.status(good, healthy) is DeliveryStatus.SUCCEEDED
    assert world.status(bad, poisoned) is DeliveryStatus.RETRYING
    [(deliver, _)] = world.deliver_jobs()
    assert deliver.endpoint_id == poisoned.endpoint_id
    world.clock.advance(10)
    world.run(deliver)
    assert len(world.sender.to(healthy.url)) == 1


def test_a_failing_rate_limit_read_defers_that_delivery_and_never_repeats_a_healthy_one(world: World) -> None:
    limited = world.endpoint(rate_limit=5)
    healthy = world.endpoint()
    world.slots.fail("next_slot", 1)
    job = world.event_job()
    assert world.run(job) == set()
    assert len(world.sender.to(healthy.url)) == 1
    assert world.sender.to(limited.url) == []
    delivery = world.record(job).deliveries[limited.endpoint_id]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    [(deliver, delay)] = world.deliver_jobs()
    assert deliver.endpoint_id == limited.endpoint_id and delay >= 1
    world.clock.advance(delay)
    world.run(deliver)
    assert len(world.sender.to(limited.url)) == 1
    assert len(world.sender.to(healthy.url)) == 1


def test_an_outcome_that_cannot_be_written_travels_on_and_is_never_sent_again(world: World) -> None:
    endpoint = world.endpoint()
    world.log.fail("create")
    job = world.event_job()
    assert world.run(job) == set()
    [(replacement, _)] = world.queue.take()
    assert isinstance(replacement, EventJob) and replacement.read_first
    assert [d.status for d in replacement.known] == [DeliveryStatus.SUCCEEDED]
    world.run(replacement)
    assert len(world.sender.requests) == 1
    assert world.status(job, endpoint) is DeliveryStatus.SUCCEEDED


def test_when_neither_write_nor_replacement_works_the_container_remembers(world: World) -> None:
    world.endpoint()
    world.log.fail("create")
    world.queue.fail("send")
    job = world.event_job()
    assert world.run(job) == {"m0"}  # the record comes back
    assert world.run((job, 2)) == set()
    assert len(world.sender.requests) == 1  # the remembered 2xx was written, not sent again
    assert all(d.status is DeliveryStatus.SUCCEEDED for d in world.record(job).deliveries.values())


def test_a_carrier_that_loses_the_claim_does_not_send(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(500))
    job = world.event_job()
    world.run(job)
    [(deliver, _)] = world.deliver_jobs()
    world.clock.advance(10)
    world.log.fail("swap")  # the claim write fails: no attempt is made without it
    world.run(deliver)
    assert len(world.sender.requests) == 1
    assert world.record(job).deliveries[endpoint.endpoint_id].attempts == 1


def test_duplicate_carriers_of_one_retry_send_once(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(500), ok())
    job = world.event_job()
    world.run(job)
    [(deliver, _)] = world.deliver_jobs()
    world.clock.advance(10)
    world.run(deliver)
    world.run(deliver)  # a duplicate message of the same job
    assert len(world.sender.requests) == 2
    assert world.status(job, endpoint) is DeliveryStatus.SUCCEEDED


def test_a_gone_endpoint_is_disabled_and_its_delivery_failed_and_indexed(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(410))
    job = world.event_job()
    world.run(job)
    assert world.status(job, endpoint) is DeliveryStatus.FAILED
    assert not world.directory.by_tenant["acme"][endpoint.endpoint_id].enabled
    assert [kind for kind, _, _ in world.alerts.sent] == ["endpoint.disabled"]
    assert [f.event_id for f in world.log.failures] == [job.event_id]
    assert world.deliver_jobs() == []


def test_events_for_a_disabled_endpoint_are_logged_failed_for_a_later_recover(world: World) -> None:
    endpoint = world.endpoint(enabled=False)
    job = world.event_job()
    world.run(job)
    delivery = world.record(job).deliveries[endpoint.endpoint_id]
    assert (delivery.status, delivery.last_error_kind) == (
        DeliveryStatus.FAILED,
        FailureKind.ENDPOINT_DISABLED,
    )
    assert world.sender.requests == []
    assert [f.event_id for f in world.log.failures] == [job.event_id]


def test_an_event_with_no_matching_endpoint_is_still_recorded(world: World) -> None:
    world.endpoint(event_types=("invoice.*",))
    job = world.event_job()
    world.run(job)
    record = world.record(job)
    assert (record.endpoint_ids, record.deliveries) == ((), {})


def test_a_tenant_whose_endpoints_cannot_be_read_retries_alone(world: World) -> None:
    other = world.endpoint("tenant-b")
    world.endpoint("tenant-a")
    world.directory.fail("endpoints")  # the first tenant read fails
    jobs = (world.event_job("tenant-a"), world.event_job("tenant-b"))
    assert world.run(*jobs) == {"m0"}
    assert len(world.sender.to(other.url)) == 1


def test_an_unreadable_message_waits_for_the_dead_letter_queue(world: World) -> None:
    endpoint = world.endpoint()
    records = [sqs_record("{not json", "m0"), sqs_record(world.event_job(), "m1")]
    assert world.dispatcher.run(records) == {"m0"}
    assert len(world.sender.to(endpoint.url)) == 1


def test_the_breaker_opens_holds_deliveries_and_closes_only_on_the_probe(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(500))
    for _ in range(3):
        world.run(world.event_job())
    assert [kind for kind, _, _ in world.alerts.sent] == ["endpoint.failing"]
    sent_before = len(world.sender.requests)
    held = world.event_job()
    world.run(held)
    assert len(world.sender.requests) == sent_before  # open: no attempt spent
    assert world.record(held).deliveries[endpoint.endpoint_id].attempts == 0
    world.sender.answer(endpoint.url, ok())
    world.clock.advance(61)
    probe = world.event_job()
    world.run(probe)
    assert world.status(probe, endpoint) is DeliveryStatus.SUCCEEDED
    assert [kind for kind, _, _ in world.alerts.sent] == ["endpoint.failing", "endpoint.recovered"]


def test_a_success_that_started_before_the_breaker_opened_does_not_close_it(world: World) -> None:
    breaker = Breaker(settings().breaker, world.breakers)
    world.breakers.record_failures("acme", "ep", 3, 100.0)
    world.breakers.open("acme", "ep", now=100.0, until=160.0)
    from hookline.delivery.breaker import Observed

    stale = Observed(AttemptResult(AttemptOutcome.SUCCEEDED, 5, 200), started_at=99.0, probe=False)
    assert breaker.observe("acme", "ep", [stale], True, 101.0) is None
    assert ("acme", "ep") in world.breakers.states


def test_a_repeated_event_job_delivers_only_what_is_not_yet_delivered(world: World) -> None:
    first, second = world.endpoint(), world.endpoint()
    world.sender.answer(second.url, failed(500))
    job = world.event_job()
    world.run(job)
    world.queue.take()
    world.run((job, 2))  # the same message again (its first run's acknowledgement was lost)
    assert len(world.sender.to(first.url)) == 1
    assert len(world.sender.to(second.url)) == 1  # handed over again, not attempted early
    assert [j.endpoint_id for j, _ in world.deliver_jobs()] == [second.endpoint_id]


def test_a_large_fan_out_gets_a_delivery_and_a_job_per_endpoint(world: World) -> None:
    endpoints = [world.endpoint() for _ in range(30)]
    job = world.event_job()
    world.run(job)
    assert world.sender.requests == []
    record = world.record(job)
    assert record.overflow and len(record.deliveries) == 30
    assert sorted(j.endpoint_id for j, _ in world.deliver_jobs()) == sorted(e.endpoint_id for e in endpoints)
    deliver_jobs = [j for j, _ in world.queue.take()]
    world.run(*deliver_jobs[:10])
    assert len(world.sender.requests) == 10
    assert sum(d.status is DeliveryStatus.SUCCEEDED for d in world.record(job).deliveries.values()) == 10


def test_a_test_send_goes_only_to_its_endpoint_whatever_its_filters(world: World) -> None:
    target = world.endpoint(event_types=("invoice.*",))
    world.endpoint()
    job = world.event_job(event_type="webhook.test", only_endpoint=target.endpoint_id)
    world.run(job)
    assert [r.url for r in world.sender.requests] == [target.url]


def test_inline_sends_stop_at_what_the_invocation_can_finish() -> None:
    """10 s of work left on 4 threads: 40 thread-seconds, a first-wave send costing at most 2 s of them."""
    world = World(dispatch_settings=settings(delivery_timeout_seconds=5.0))
    endpoints = [world.endpoint() for _ in range(24)]
    job = world.event_job()
    world.run(job, remaining=20.0)
    assert len(world.sender.requests) == 20
    handed = [j.endpoint_id for j, _ in world.deliver_jobs()]
    assert len(handed) == 4 and set(handed) <= {e.endpoint_id for e in endpoints}


def test_inline_sends_to_slow_endpoints_count_their_whole_timeout(world: World) -> None:
    endpoints = [world.endpoint() for _ in range(5)]
    for endpoint in endpoints:
        world.breakers.mark_slow("acme", endpoint.endpoint_id, world.clock() + 300)
    world.run(world.event_job(), remaining=20.0)  # 60 thread-seconds: four sends of up to 15 s
    assert len(world.sender.requests) == 4
    assert len(world.deliver_jobs()) == 1


def test_a_resend_job_sends_only_while_its_claim_holds(world: World) -> None:
    endpoint = world.endpoint()
    job = world.event_job()
    world.run(job)
    stored = world.record(job).deliveries[endpoint.endpoint_id]
    from hookline.core.models import ResendClaim

    claimed = replace(stored, status=DeliveryStatus.PENDING, round_base=1, resend=ResendClaim("tok", 1e12))
    world.record(job).deliveries[endpoint.endpoint_id] = claimed
    resend = DeliverJob(job.tenant_id, job.event_id, endpoint.endpoint_id, "tok")
    world.run(resend)
    world.run(resend)  # a duplicate message: the claim is spent
    world.run(DeliverJob(job.tenant_id, job.event_id, endpoint.endpoint_id, "forged"))
    assert len(world.sender.requests) == 2
    delivery: Delivery = world.record(job).deliveries[endpoint.endpoint_id]
    assert (delivery.status, delivery.attempts, delivery.resend) == (DeliveryStatus.SUCCEEDED, 2, None)


def test_outcomes_carried_past_a_provisional_record_are_not_sent_again(world: World) -> None:
    """A slow first round writes a provisional record (all pending); if writing the outcomes then fails, the
    replacement job's outcomes must win over those pending entries, or the 2xx would be sent again."""
    endpoint = world.endpoint()
    job = world.event_job()
    world.run(job)  # the record exists now
    record = world.record(job)
    record.deliveries[endpoint.endpoint_id] = Delivery(endpoint.endpoint_id, DeliveryStatus.PENDING)
    delivered = world.sender.requests[:]
    succeeded = Delivery(endpoint.endpoint_id, DeliveryStatus.SUCCEEDED, attempts=1)
    replacement = replace(job, read_first=True, known=(succeeded,))
    world.run(replacement)
    for deliver, _ in world.queue.take():
        world.run(deliver)
    assert world.sender.requests == delivered
    assert world.status(job, endpoint) is DeliveryStatus.SUCCEEDED


def test_a_retry_outcome_carried_on_is_written_and_not_sent_again(world: World) -> None:
    endpoint = world.endpoint()
    world.sender.answer(endpoint.url, failed(500), ok())
    job = world.event_job()
    world.run(job)
    [(deliver, _)] = world.deliver_jobs()
    world.queue.take()
    world.clock.advance(6)
    original_swap = world.log.swap
    swaps: list[Delivery] = []

    def claim_then_fail(ref: Any, seen: Any, new: Delivery, *rest: Any) -> bool:
        swaps.append(new)
        if len(swaps) == 2:  # the claim went through; writing the outcome fails (after botocore's retries)
            raise DependencyError("injected")
        return original_swap(ref, seen, new, *rest)

    world.log.swap = claim_then_fail  # type: ignore[method-assign]
    assert world.run(deliver) == set()
    world.log.swap = original_swap  # type: ignore[method-assign]
    [(replacement, _)] = world.queue.take()
    assert isinstance(replacement, DeliverJob) and replacement.known is not None
    assert replacement.known.status is DeliveryStatus.SUCCEEDED
    world.run(replacement)
    for again, _ in world.queue.take():
        world.run(again)
    assert len(world.sender.to(endpoint.url)) == 2  # the first failure and the one success
    assert world.status(job, endpoint) is DeliveryStatus.SUCCEEDED
