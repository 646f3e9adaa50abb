"""Idempotency keys at ingest: a repeat answers only what is final, never an id that may not exist.

The holder of a key is played by the fake store's state; what the holder does while a repeat waits is
played by the repeat's own ``sleep`` (the only moment another request could act).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest

from hookline.api.ingest import STALE_CLAIM_SECONDS, IngestService, _body_digest
from hookline.api.models import BatchIn, EventIn
from hookline.api.router import error_response
from hookline.core.config import IngestSettings
from hookline.core.errors import DependencyError, IdempotencyInProgressError
from hookline.core.jobs import EventJob
from hookline.storage.idempotency import IdempotencyRecord
from tests.unit.fakes import FakeClock, FakeEventLog, FakeJobs

T = "acme"
SETTINGS = IngestSettings.from_env(
    {
        "TABLE_NAME": "t",
        "DELIVERY_QUEUE_URL": "q",
        "ORDERED_QUEUE_URL": "q.fifo",
        "SCHEDULE_GROUP_NAME": "hookline-schedules",
        "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/scheduler",
        "DELIVERY_QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:deliveries",
        "ADMIN_API_KEY_SECRET_ARN": "a",
        "ENCRYPTION_KEYS_SECRET_ARN": "e",
        "RETRY_SCHEDULE": "0,5",
    }
)


class FakeIdempotency:
    """The contract of ``storage.idempotency.IdempotencyStore``, in memory."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], IdempotencyRecord] = {}

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        held = self.items.get((record.tenant_id, record.key_digest))
        if held is not None:
            return held
        self.items[(record.tenant_id, record.key_digest)] = record
        return None

    def read(self, tenant_id: str, key_digest: str) -> IdempotencyRecord | None:
        return self.items.get((tenant_id, key_digest))

    def mark_sent(self, tenant_id: str, key_digest: str, event_id: str) -> None:
        held = self.items.get((tenant_id, key_digest))
        if held is not None and held.event_id == event_id:
            self.items[(tenant_id, key_digest)] = replace(held, sent=True)

    def release(self, tenant_id: str, key_digest: str, event_id: str) -> None:
        held = self.items.get((tenant_id, key_digest))
        if held is not None and held.event_id == event_id:
            del self.items[(tenant_id, key_digest)]


class AnyTenant:
    def require(self, tenant_id: str) -> None:
        return None


class AnyType:
    """The event-type catalog's gate, with no type registered and none required."""

    def check(self, event_type: str, data: dict[str, Any], registered_only: bool = True) -> None:
        return None


class Harness:
    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.clock = FakeClock()
        self.store = FakeIdempotency()
        self.queue = FakeJobs()
        self.log = FakeEventLog()
        self.while_waiting: Callable[[], None] = lambda: None
        self.service = IngestService(
            SETTINGS,
            AnyTenant(),
            self.store,
            self.log,
            self.queue,  # type: ignore[arg-type]
            pool,
            AnyType(),  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]  # no delayed events here
            clock=self.clock,
            sleep=self.sleep,
        )

    def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.while_waiting()

    def hold(self, key: str, event_id: str, data: dict[str, Any], sent: bool, age: float = 0.0) -> None:
        """A request that claimed ``key`` for ``event_id`` (pending, or with its event queued)."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        body = _body_digest("a.b", data)
        at = self.clock() - age
        self.store.items[(T, digest)] = IdempotencyRecord(T, digest, body, event_id, "a.b", "ts", at, sent)

    def holder(self, key: str) -> IdempotencyRecord | None:
        return self.store.read(T, hashlib.sha256(key.encode()).hexdigest())

    def queued_ids(self) -> list[str]:
        return [job.event_id for job, _ in self.queue.sent if isinstance(job, EventJob)]


@pytest.fixture
def harness() -> Iterator[Harness]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield Harness(pool)


EVENT = EventIn.model_validate({"type": "a.b", "data": {"n": 1}})


def test_a_holder_that_fails_never_lends_its_id_and_a_retry_makes_a_fresh_event(harness: Harness) -> None:
    harness.hold("k", "evt_holder", {"n": 1}, sent=False)
    # While the repeat waits, the holder's send fails: it releases the key (and answers 503).
    digest = hashlib.sha256(b"k").hexdigest()
    harness.while_waiting = lambda: harness.store.release(T, digest, "evt_holder")
    answer = harness.service.accept(T, EVENT, "k")
    assert answer["id"] != "evt_holder"
    assert harness.queued_ids() == [answer["id"]]
    assert harness.holder("k") is not None and harness.holder("k").sent  # type: ignore[union-attr]


def test_a_holder_that_succeeds_while_a_repeat_waits_gives_its_answer(harness: Harness) -> None:
    harness.hold("k", "evt_holder", {"n": 1}, sent=False)
    digest = hashlib.sha256(b"k").hexdigest()
    harness.while_waiting = lambda: harness.store.mark_sent(T, digest, "evt_holder")
    answer = harness.service.accept(T, EVENT, "k")
    assert answer["id"] == "evt_holder"
    assert harness.queue.sent == []


def test_a_holder_still_running_after_the_wait_is_a_409_with_retry_after(harness: Harness) -> None:
    harness.hold("k", "evt_holder", {"n": 1}, sent=False)
    with pytest.raises(IdempotencyInProgressError) as raised:
        harness.service.accept(T, EVENT, "k")
    response = error_response(raised.value)
    assert (response.status, response.headers["Retry-After"]) == (409, "1")
    assert '"idempotency_in_progress"' in str(response.body)
    assert harness.queue.sent == []


def test_a_claim_left_pending_by_a_dead_request_is_sent_again_under_its_id(harness: Harness) -> None:
    harness.hold("k", "evt_dead", {"n": 1}, sent=False, age=STALE_CLAIM_SECONDS + 1)
    answer = harness.service.accept(T, EVENT, "k")
    assert answer["id"] == "evt_dead"
    [(job, _)] = harness.queue.sent
    assert isinstance(job, EventJob) and job.event_id == "evt_dead" and job.read_first
    assert harness.holder("k").sent  # type: ignore[union-attr]


def test_a_failed_send_releases_the_key_and_the_retry_creates_a_new_event(harness: Harness) -> None:
    harness.queue.fail("send")
    with pytest.raises(DependencyError):
        harness.service.accept(T, EVENT, "k")
    assert harness.holder("k") is None
    retried = harness.service.accept(T, EVENT, "k")
    assert harness.queued_ids() == [retried["id"]]
    assert harness.service.accept(T, EVENT, "k")["id"] == retried["id"]


def test_a_batch_repeating_a_key_answers_the_first_items_result_in_input_order(harness: Harness) -> None:
    for _ in range(5):  # the first item wins every time, not whichever thread claims first
        harness.store.items.clear()
        harness.queue.sent.clear()
        batch = BatchIn.model_validate(
            {
                "events": [
                    {"type": "a.b", "data": {"n": 1}, "idempotency_key": "dup"},
                    {"type": "a.b", "data": {"n": 1}, "idempotency_key": "dup"},
                    {"type": "a.b", "data": {"n": 2}, "idempotency_key": "dup"},
                ]
            }
        )
        first, same, other_body = harness.service.accept_batch(T, batch)["data"]
        assert first["status"] == 202 and same == first
        assert other_body["status"] == 422
        assert harness.queued_ids() == [first["id"]]  # type: ignore[typeddict-item]


def test_a_batch_whose_first_item_cannot_be_queued_hands_its_id_to_no_repeat(harness: Harness) -> None:
    harness.queue.refuse_entries = 1
    batch = BatchIn.model_validate(
        {"events": [{"type": "a.b", "data": {"n": 1}, "idempotency_key": "dup"} for _ in range(2)]}
    )
    first, repeat = harness.service.accept_batch(T, batch)["data"]
    assert first["status"] == 503 and repeat["status"] == 503
    assert harness.holder("dup") is None
