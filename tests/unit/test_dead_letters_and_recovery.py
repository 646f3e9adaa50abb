"""The DLQ handler, recover, redrive and resend claims, with in-memory stores and a fake clock."""

from __future__ import annotations

import pytest

from hookline.core.jobs import DeliverJob, EventJob, RecoverJob, RedriveJob, encode_job
from hookline.core.models import (
    DeadLetter,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointSecret,
    Event,
    EventRecord,
    FailureEntry,
    FanoutState,
)
from hookline.dead_letters.handler import DeadLetterHandler
from hookline.delivery import resend
from hookline.delivery.expander import Expander
from hookline.delivery.plan import Received, RecordKind, RecordPlan
from tests.unit.fakes import (
    FakeClock,
    FakeDeadLetters,
    FakeDirectory,
    FakeEventLog,
    FakeJobs,
    FakeTopic,
    sqs_record,
)

T = "acme"


def record(event_id: str, *deliveries: Delivery, fanout: FanoutState = FanoutState.DONE) -> EventRecord:
    event = Event(T, event_id, "order.created", "2027-01-15T08:00:00.000Z", '{"type":"order.created"}')
    return EventRecord(
        event, fanout, tuple(d.endpoint_id for d in deliveries), {d.endpoint_id: d for d in deliveries}
    )


@pytest.fixture
def log() -> FakeEventLog:
    return FakeEventLog()


@pytest.fixture
def directory() -> FakeDirectory:
    directory = FakeDirectory()
    directory.add(Endpoint(T, "ep_1", "https://hooks.example/1", (EndpointSecret("whsec_x"),)))
    return directory


def handler(
    log: FakeEventLog, directory: FakeDirectory, topic: FakeTopic, letters: FakeDeadLetters
) -> DeadLetterHandler:
    return DeadLetterHandler(log, directory, letters, topic, retention_days=30)


def test_an_exhausted_delivery_is_marked_failed_indexed_kept_and_alerted_once_per_endpoint(
    log: FakeEventLog, directory: FakeDirectory
) -> None:
    topic, letters = FakeTopic(), FakeDeadLetters()
    for event_id in ("evt_1", "evt_2"):
        log.create(
            record(event_id, Delivery("ep_1", DeliveryStatus.RETRYING, attempts=3, last_error="HTTP 500")), 0
        )
    jobs = [sqs_record(DeliverJob(T, e, "ep_1"), f"m{i}") for i, e in enumerate(("evt_1", "evt_2"))]
    assert handler(log, directory, topic, letters).run(jobs) == set()
    assert {log.delivery(T, e, "ep_1").status for e in ("evt_1", "evt_2")} == {DeliveryStatus.FAILED}
    assert sorted(f.event_id for f in log.failures) == ["evt_1", "evt_2"]
    assert sorted(letters.kept) == ["deliver#acme#evt_1#ep_1", "deliver#acme#evt_2#ep_1"]
    [(_, message, attributes)] = topic.published
    assert message["type"] == "deliveries.dead_lettered"
    assert message["endpoint_url"] == "https://hooks.example/1"
    assert [d["event_id"] for d in message["deliveries"]] == ["evt_1", "evt_2"]
    assert attributes == {"tenant_id": T, "endpoint_id": "ep_1"}


def test_a_dead_letter_that_succeeded_meanwhile_is_dropped_silently(
    log: FakeEventLog, directory: FakeDirectory
) -> None:
    topic, letters = FakeTopic(), FakeDeadLetters()
    log.create(record("evt_1", Delivery("ep_1", DeliveryStatus.SUCCEEDED, attempts=2)), 0)
    assert handler(log, directory, topic, letters).run([sqs_record(DeliverJob(T, "evt_1", "ep_1"))]) == set()
    assert (topic.published, letters.kept) == ([], {})


def test_when_alerting_fails_the_records_stay_and_a_second_run_alerts_without_marking_twice(
    log: FakeEventLog, directory: FakeDirectory
) -> None:
    topic, letters = FakeTopic(), FakeDeadLetters()
    log.create(record("evt_1", Delivery("ep_1", DeliveryStatus.RETRYING, attempts=3)), 0)
    topic.fail("publish")
    dlq = handler(log, directory, topic, letters)
    assert dlq.run([sqs_record(DeliverJob(T, "evt_1", "ep_1"))]) == {"m1"}
    assert dlq.run([sqs_record(DeliverJob(T, "evt_1", "ep_1"))]) == set()
    assert len(topic.published) == 1
    assert len(log.failures) == 1


def test_a_dead_lettered_fan_out_shows_on_the_event_and_is_kept_for_redrive(
    log: FakeEventLog, directory: FakeDirectory
) -> None:
    topic, letters = FakeTopic(), FakeDeadLetters()
    job = EventJob(T, "evt_9", "order.created", "2027-01-15T08:00:00.000Z", '{"type":"order.created"}')
    assert handler(log, directory, topic, letters).run([sqs_record(job)]) == set()
    assert log.records[(T, "evt_9")].fanout is FanoutState.DEAD_LETTERED
    [letter] = letters.kept.values()
    assert (letter.kind, letter.job) == ("event", encode_job(job))
    assert topic.published[0][1]["type"] == "job.event_dead_lettered"


def test_recover_and_redrive_jobs_and_unreadable_messages_are_kept_and_alerted(
    log: FakeEventLog, directory: FakeDirectory
) -> None:
    topic, letters = FakeTopic(), FakeDeadLetters()
    records = [
        sqs_record(RecoverJob(T, "ep_1", "2027-01-01T00:00:00Z"), "m1"),
        sqs_record(RedriveJob(), "m2"),
        sqs_record("not a job", "m3"),
    ]
    assert handler(log, directory, topic, letters).run(records) == set()
    assert sorted(letter.kind for letter in letters.kept.values()) == ["recover", "redrive", "unreadable"]
    assert len(topic.published) == 3


def expander(
    log: FakeEventLog, directory: FakeDirectory, queue: FakeJobs, letters: FakeDeadLetters
) -> Expander:
    return Expander(log, directory, letters, queue, retention_days=30, clock_now=FakeClock())


def failed(event_id: str, endpoint_id: str = "ep_1") -> EventRecord:
    return record(event_id, Delivery(endpoint_id, DeliveryStatus.FAILED, attempts=3))


def test_recover_claims_each_failed_delivery_before_queueing_it_and_a_repeat_sends_nothing(
    log: FakeEventLog, directory: FakeDirectory
) -> None:
    queue, letters = FakeJobs(), FakeDeadLetters()
    for event_id in ("evt_1", "evt_2"):
        log.create(failed(event_id), 0)
        log.failures.append(FailureEntry(T, "ep_1", event_id, "2027-01-15T09:00:00.000Z"))
    job = RecoverJob(T, "ep_1", "2027-01-15T08:00:00.000Z")
    plan = RecordPlan(sqs_record_received(job), RecordKind.EXPAND)
    expander(log, directory, queue, letters).expand(job, plan)
    sent = [j for j, _ in queue.take()]
    assert sorted(j.event_id for j in sent if isinstance(j, DeliverJob)) == ["evt_1", "evt_2"]
    assert all(isinstance(j, DeliverJob) and j.resend_token for j in sent)
    for event_id in ("evt_1", "evt_2"):
        claimed = log.delivery(T, event_id, "ep_1")
        assert (claimed.status, claimed.round_base) == (DeliveryStatus.PENDING, 3)
    assert log.failures == []
    expander(log, directory, queue, letters).expand(
        job, plan
    )  # an overlapping recover, or the same job again
    assert queue.take() == []


def test_recover_releases_its_claims_when_the_jobs_cannot_be_queued(
    log: FakeEventLog, directory: FakeDirectory
) -> None:
    queue, letters = FakeJobs(), FakeDeadLetters()
    log.create(failed("evt_1"), 0)
    log.failures.append(FailureEntry(T, "ep_1", "evt_1", "2027-01-15T09:00:00.000Z"))
    queue.refuse_entries = 10
    job = RecoverJob(T, "ep_1", "2027-01-15T08:00:00.000Z")
    with pytest.raises(Exception, match="could not be queued"):
        expander(log, directory, queue, letters).expand(
            job, RecordPlan(sqs_record_received(job), RecordKind.EXPAND)
        )
    assert log.delivery(T, "evt_1", "ep_1").status is DeliveryStatus.FAILED
    assert len(log.failures) == 1  # kept for the next try


def test_redrive_gives_a_dead_delivery_a_new_round_and_sends_other_jobs_back_as_they_were(
    log: FakeEventLog, directory: FakeDirectory
) -> None:
    queue, letters = FakeJobs(), FakeDeadLetters()
    log.create(failed("evt_1"), 0)
    event_job = EventJob(T, "evt_2", "order.created", "ts", "{}")
    for letter in (
        DeadLetter(
            "deliver#acme#evt_1#ep_1",
            "deliver",
            T,
            "evt_1",
            "ep_1",
            "t",
            "failed",
            encode_job(DeliverJob(T, "evt_1", "ep_1")),
        ),
        DeadLetter("event#acme#evt_2", "event", T, "evt_2", None, "t", "failed", encode_job(event_job)),
        DeadLetter("unreadable#m9", "unreadable", None, None, None, "t", "bad", "garbage"),
    ):
        letters.keep(letter, 0)
    job = RedriveJob()
    expander(log, directory, queue, letters).expand(
        job, RecordPlan(sqs_record_received(job), RecordKind.EXPAND)
    )
    sent = [j for j, _ in queue.take()]
    assert event_job in sent
    [deliver] = [j for j in sent if isinstance(j, DeliverJob)]
    assert deliver.resend_token == log.delivery(T, "evt_1", "ep_1").resend.token  # type: ignore[union-attr]
    assert sorted(letters.kept) == ["unreadable#m9"]  # an unreadable message would only fail again


def test_a_resend_claim_is_refused_while_another_resend_holds_the_delivery(log: FakeEventLog) -> None:
    log.create(record("evt_1", Delivery("ep_1", DeliveryStatus.SUCCEEDED, attempts=1)), 0)
    stored = log.records[(T, "evt_1")]
    first = resend.claim(log, stored, "ep_1", now=100.0, only_failed=False, expires_at=0)
    assert first is not None
    again = resend.claim(log, log.records[(T, "evt_1")], "ep_1", now=101.0, only_failed=False, expires_at=0)
    assert again is None
    assert resend.claim(log, stored, "ep_1", now=101.0, only_failed=True, expires_at=0) is None


def sqs_record_received(job: DeliverJob | RecoverJob | RedriveJob | EventJob) -> Received:
    return Received(0, "m1", "r1", 1, encode_job(job), job)
