"""The stores' DynamoDB expressions, against the template's own table in moto: what the in-memory fakes of
the unit tests promise, the real thing keeps."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hookline.core import clock, ids
from hookline.core.jobs import DeliverJob, RecoverJob, RedriveJob, encode_job
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
    ResendClaim,
)
from hookline.storage.event_search import EventFilter, EventSearch
from hookline.storage.idempotency import IdempotencyRecord, IdempotencyStore
from hookline.storage.queue import JobQueue
from hookline.storage.replays import Replay, ReplayStore
from hookline.storage.table import event_key
from tests.integration.lambda_harness import Stack
from tests.integration.seed import Seeder

T = "acme"


@pytest.fixture
def seeder(stack: Stack) -> Seeder:
    seeder = Seeder(stack)
    seeder.tenant(T)
    return seeder


def new_record(
    event_id: str, *endpoint_ids: str, event_type: str = "order.created", overflow: bool = False
) -> EventRecord:
    event = Event(T, event_id, event_type, clock.now_iso(), f'{{"type":"{event_type}","data":{{}}}}')
    deliveries = {} if overflow else {ep: Delivery(ep, DeliveryStatus.PENDING) for ep in endpoint_ids}
    return EventRecord(event, FanoutState.DONE, endpoint_ids, deliveries, overflow=overflow)


def test_a_swap_is_a_compare_and_swap_on_status_attempts_claim_and_resend(seeder: Seeder) -> None:
    event_id = ids.new_event_id()
    seeder.log.create(new_record(event_id, "ep_1"), 2_000_000_000)
    ref = DeliveryRef(T, event_id, "ep_1")
    pending = Delivery("ep_1", DeliveryStatus.PENDING)
    claimed = Delivery("ep_1", DeliveryStatus.PENDING, claim=Claim(1, 9e9, "me"))
    assert seeder.log.swap(ref, pending, claimed)
    assert not seeder.log.swap(ref, pending, claimed)  # someone else's view is stale now
    assert not seeder.log.swap(
        ref, Delivery("ep_1", DeliveryStatus.PENDING, claim=Claim(1, 9e9, "you")), pending
    )
    attempt = Attempt(1, clock.now_iso(), AttemptOutcome.SUCCEEDED, 12, 200, excerpt="ok")
    done = Delivery("ep_1", DeliveryStatus.SUCCEEDED, attempts=1, history=(attempt,))
    assert seeder.log.swap(ref, claimed, done)
    stored = seeder.log.get(T, event_id)
    assert stored is not None and stored.deliveries["ep_1"] == done
    resent = Delivery(
        "ep_1",
        DeliveryStatus.PENDING,
        attempts=1,
        round_base=1,
        history=(attempt,),
        resend=ResendClaim("t", 9e9),
    )
    assert seeder.log.swap(ref, done, resent)
    assert not seeder.log.swap(ref, done, resent)


def test_overflow_deliveries_live_in_items_of_their_own(seeder: Seeder) -> None:
    event_id = ids.new_event_id()
    record = new_record(event_id, overflow=True)
    seeder.log.create(record, 2_000_000_000)
    for endpoint_id in ("ep_1", "ep_2"):
        assert seeder.log.create_overflow_delivery(
            record, Delivery(endpoint_id, DeliveryStatus.PENDING), 2_000_000_000
        )
    ref = DeliveryRef(T, event_id, "ep_2", overflow=True)
    retrying = Delivery("ep_2", DeliveryStatus.RETRYING, attempts=1, next_attempt_at=123.5)
    assert seeder.log.swap(ref, Delivery("ep_2", DeliveryStatus.PENDING), retrying)
    stored = seeder.log.get(T, event_id)
    assert stored is not None and stored.overflow
    assert stored.deliveries["ep_2"] == retrying
    loaded = seeder.log.load([(T, event_id, "ep_2")])
    assert loaded[(T, event_id)].deliveries["ep_2"] == retrying


def test_event_search_merges_shards_newest_first_with_filters_and_full_pages(seeder: Seeder) -> None:
    search = EventSearch(seeder.table, load_record=seeder.log.get)
    written = []
    for index in range(60):
        event_id = ids.new_event_id()
        event_type = "order.created" if index % 3 else "invoice.paid"
        record = new_record(event_id, "ep_1", event_type=event_type)
        if index % 4 == 0:
            record.deliveries["ep_1"] = Delivery("ep_1", DeliveryStatus.FAILED)
        seeder.log.create(record, 2_000_000_000)
        written.append((event_id, event_type, index % 4 == 0))
    newest_first = [e for e, _, _ in reversed(written)]
    assert [r.event.event_id for r in search.records(T, EventFilter())] == newest_first
    orders = [r.event.event_id for r in search.records(T, EventFilter(type_prefixes=("order.",)))]
    assert orders == [e for e, t, _ in reversed(written) if t == "order.created"]
    failed = [r.event.event_id for r in search.records(T, EventFilter(status=DeliveryStatus.FAILED))]
    assert failed == [e for e, _, f in reversed(written) if f]
    middle = newest_first[20]
    after = [r.event.event_id for r in search.records(T, EventFilter(), before=middle)]
    assert after == newest_first[21:]
    with_middle = [r.event.event_id for r in search.records(T, EventFilter(), before=middle, inclusive=True)]
    assert with_middle == newest_first[20:]
    assert [r.event.event_id for r in search.records(T, EventFilter(endpoint_id="ep_9"))] == []


def test_status_counters_follow_each_swap(seeder: Seeder) -> None:
    event_id = ids.new_event_id()
    seeder.log.create(new_record(event_id, "ep_1", "ep_2"), 2_000_000_000)
    ref = DeliveryRef(T, event_id, "ep_1")
    seeder.log.swap(
        ref, Delivery("ep_1", DeliveryStatus.PENDING), Delivery("ep_1", DeliveryStatus.SUCCEEDED, attempts=1)
    )
    item = seeder.table.get(event_key(T, event_id), "read")
    assert item is not None
    counts = {name: value["N"] for name, value in item["c"]["M"].items()}
    assert counts == {"p": "1", "r": "0", "s": "1", "f": "0"}


def test_several_deliveries_of_a_record_are_swapped_in_one_write_all_or_none(seeder: Seeder) -> None:
    event_id = ids.new_event_id()
    seeder.log.create(new_record(event_id, "ep_1", "ep_2", "ep_3"), 2_000_000_000)
    pending = {ep: Delivery(ep, DeliveryStatus.PENDING) for ep in ("ep_1", "ep_2", "ep_3")}
    claimed = Delivery("ep_3", DeliveryStatus.PENDING, claim=Claim(1, 9e9, "me"))
    assert seeder.log.swap(DeliveryRef(T, event_id, "ep_3"), pending["ep_3"], claimed)
    done = {ep: Delivery(ep, DeliveryStatus.SUCCEEDED, attempts=1) for ep in ("ep_1", "ep_2", "ep_3")}
    retrying = Delivery("ep_2", DeliveryStatus.RETRYING, attempts=1, next_attempt_at=9e9)
    stale = [("ep_1", pending["ep_1"], done["ep_1"]), ("ep_3", pending["ep_3"], done["ep_3"])]
    assert not seeder.log.swap_many(T, event_id, stale)  # ep_3 was claimed meanwhile: nothing written
    stored = seeder.log.get(T, event_id)
    assert stored is not None and stored.deliveries["ep_1"] == pending["ep_1"]
    changes = [
        ("ep_1", pending["ep_1"], done["ep_1"]),
        ("ep_2", pending["ep_2"], retrying),
        ("ep_3", claimed, done["ep_3"]),
        ("ep_4", None, Delivery("ep_4", DeliveryStatus.SUCCEEDED, attempts=1)),
    ]
    assert seeder.log.swap_many(T, event_id, changes)
    stored = seeder.log.get(T, event_id)
    assert stored is not None
    assert {ep: d.status for ep, d in stored.deliveries.items()} == {
        "ep_1": DeliveryStatus.SUCCEEDED,
        "ep_2": DeliveryStatus.RETRYING,
        "ep_3": DeliveryStatus.SUCCEEDED,
        "ep_4": DeliveryStatus.SUCCEEDED,
    }
    item = seeder.table.get(event_key(T, event_id), "read")
    assert item is not None
    assert {name: value["N"] for name, value in item["c"]["M"].items()} == {
        "p": "0",
        "r": "1",
        "s": "3",
        "f": "0",
    }


def test_an_idempotency_key_is_claimed_once(seeder: Seeder) -> None:
    store = IdempotencyStore(seeder.table)
    first = IdempotencyRecord(T, "k1", "body1", "evt_1", "order.created", "ts", clock.unix_now())
    assert store.claim(first) is None
    held = store.claim(IdempotencyRecord(T, "k1", "body2", "evt_2", "order.created", "ts", clock.unix_now()))
    assert held is not None and (held.event_id, held.body_digest) == ("evt_1", "body1")
    store.release(T, "k1", "evt_other")  # not the holder: nothing happens
    assert store.claim(first) is not None
    store.release(T, "k1", "evt_1")
    assert store.claim(first) is None


def test_every_job_sent_to_the_delivery_queue_carries_its_tenant_as_message_group(stack: Stack) -> None:
    """SQS fair queues group a standard queue's messages by MessageGroupId (docs/fairness.md)."""
    queue = JobQueue(stack.delivery_queue_url, stack.sqs)
    queue.send(DeliverJob("t-single", "evt_1", "ep_1"))
    queue.send_batch([(RecoverJob("t-batch", "ep_2", "2026-01-01T00:00:00Z"), 0), (RedriveJob(), 0)])
    queue.send_bodies([(encode_job(DeliverJob("t-body", "evt_2", "ep_3")), 0), ("not a job", 0)])
    groups: list[str] = []
    for _ in range(5):
        for message in stack.receive(stack.delivery_queue_url):
            groups.append(message["Attributes"]["MessageGroupId"])
            stack.sqs.delete_message(
                QueueUrl=stack.delivery_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
    assert sorted(groups) == sorted(["t-single", "t-batch", "_hookline", "t-body", "_hookline"])


def large_record(event_id: str, *endpoint_ids: str) -> EventRecord:
    """A record above one write unit (its deliveries' later changes are kept apart)."""
    record = new_record(event_id, *endpoint_ids)
    noise = "".join(f"{n * 7919 % 65521:05x}" for n in range(400))  # compresses poorly: about 1 KB stored
    event = replace(record.event, body=f'{{"type":"order.created","data":{{"noise":"{noise}"}}}}')
    return replace(record, event=event)


def test_a_later_change_to_a_large_records_delivery_is_kept_apart(seeder: Seeder) -> None:
    event_id = ids.new_event_id()
    record = large_record(event_id, "ep_1", "ep_2")
    retrying = Delivery("ep_1", DeliveryStatus.RETRYING, attempts=1, next_attempt_at=123.5)
    record.deliveries["ep_1"] = retrying
    assert seeder.log.create(record, 2_000_000_000)
    written = seeder.table.get(event_key(T, event_id), "read")
    ref = DeliveryRef.of(record, "ep_1")
    assert ref.apart and not DeliveryRef.of(new_record(event_id, "ep_1"), "ep_1").apart
    claimed = replace(retrying, claim=Claim(2, 9e9, "me"))
    theirs = replace(retrying, claim=Claim(2, 9e9, "you"))
    assert seeder.log.swap(ref, retrying, claimed)
    assert not seeder.log.swap(ref, retrying, theirs)  # the item exists now: a second claim loses
    attempt = Attempt(2, clock.now_iso(), AttemptOutcome.SUCCEEDED, 12, 200)
    done = Delivery(
        "ep_1", DeliveryStatus.SUCCEEDED, attempts=2, history=(attempt,), updated_at=clock.now_iso()
    )
    assert not seeder.log.swap(ref, theirs, done)
    assert seeder.log.swap(ref, claimed, done)
    assert seeder.table.get(event_key(T, event_id), "read") == written  # the record was not rewritten
    stored = seeder.log.get(T, event_id)
    assert stored is not None and stored.deliveries["ep_1"] == done
    assert stored.deliveries["ep_2"] == record.deliveries["ep_2"]
    loaded = seeder.log.load([(T, event_id, "ep_1")])
    assert loaded[(T, event_id)].deliveries["ep_1"] == done
    search = EventSearch(seeder.table, load_record=seeder.log.get)
    found = {r.event.event_id for r in search.records(T, EventFilter(status=DeliveryStatus.SUCCEEDED))}
    assert event_id in found  # the record's counters still say retrying: the item is what counts
    stale = {r.event.event_id for r in search.records(T, EventFilter(status=DeliveryStatus.RETRYING))}
    assert event_id not in stale
    [listed] = [r for r in search.records(T, EventFilter()) if r.event.event_id == event_id]
    assert listed.deliveries["ep_1"] == done


def test_a_failed_delivery_kept_apart_is_indexed_with_it_and_a_new_one_still_joins_the_record(
    seeder: Seeder,
) -> None:
    event_id = ids.new_event_id()
    record = large_record(event_id, "ep_1", "ep_2")
    assert seeder.log.create(record, 2_000_000_000)
    ref = DeliveryRef.of(record, "ep_1")
    failed = Delivery("ep_1", DeliveryStatus.FAILED, updated_at=clock.now_iso())
    entry = FailureEntry(T, "ep_1", event_id, clock.now_iso())
    assert seeder.log.swap(ref, record.deliveries["ep_1"], failed, entry, 2_000_000_000)
    listed, _ = seeder.log.failures_since(T, "ep_1", "2000", 10, None)
    assert [e.event_id for e in listed] == [event_id]
    joined = Delivery("ep_3", DeliveryStatus.PENDING)
    assert seeder.log.swap(DeliveryRef.of(record, "ep_3"), None, joined)  # nothing to keep apart yet
    stored = seeder.log.get(T, event_id)
    assert stored is not None
    assert stored.deliveries["ep_1"] == failed and stored.deliveries["ep_3"] == joined
    items = seeder.table.query_all(
        "read",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": event_key(T, event_id)["pk"]},
    )
    apart = [i for i in items if i["k"]["S"] == "apart"]
    assert [i["sk"]["S"] for i in apart] == [f"{event_id}#D#ep_1"]
    assert set(apart[0]) >= {"expires_at", "s", "n", "h", "u"} and "t" not in apart[0]


def test_a_replay_page_that_ends_on_a_large_record_reads_its_deliveries_kept_apart(seeder: Seeder) -> None:
    event_id = ids.new_event_id()
    record = large_record(event_id, "ep_1", "ep_2")
    assert seeder.log.create(record, 2_000_000_000)
    later = Delivery("ep_2", DeliveryStatus.FAILED, updated_at=clock.now_iso())
    assert seeder.log.swap(DeliveryRef.of(record, "ep_2"), record.deliveries["ep_2"], later)
    minted = ids.event_id_unix_seconds(event_id) or 0.0
    replay = Replay(T, "rpl_1", minted - 1, minted + 1, (), (), "failed", None)
    shard = ids.event_shard(event_id)
    [first], start = ReplayStore(seeder.table).events_page(replay, shard, None, 1)  # the record alone
    assert start is not None
    assert first.deliveries["ep_2"] == later
    rest, _ = ReplayStore(seeder.table).events_page(replay, shard, start, 10)
    assert rest == []  # the item kept apart, without its record, lists nothing more
