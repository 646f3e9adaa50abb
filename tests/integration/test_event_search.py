"""Event search and endpoint attempts over a few hundred recorded events: every filter, every page full but
the last, newest first. Records are written through the delivery log's store, as dispatch writes them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from hookline.api import event_queries
from hookline.core import clock, ids
from hookline.core.models import (
    Attempt,
    AttemptOutcome,
    Delivery,
    DeliveryRef,
    DeliveryStatus,
    Event,
    EventRecord,
    FailureKind,
    FanoutState,
)
from tests.integration.conftest import API_KEY, TEST_PARAMETERS, deployed_stack
from tests.integration.lambda_harness import ApiClient, Stack
from tests.integration.seed import Seeder

TYPES = ["order.created", "order.paid", "order.item.added", "invoice.sent", "customer.deleted"]
STATUSES = list(DeliveryStatus)
EVENTS = 260
NOISE = "".join(f"{n * 7919 % 65521:05x}" for n in range(400))  # compresses poorly: about 1 KB stored


def attempt(number: int, outcome: AttemptOutcome, code: int) -> Attempt:
    failure = None if outcome is AttemptOutcome.SUCCEEDED else FailureKind.HTTP_STATUS
    return Attempt(
        number, clock.now_iso(), outcome, 10, code, failure, None if failure is None else str(code)
    )


def delivery(endpoint_id: str, status: DeliveryStatus) -> Delivery:
    history: tuple[Attempt, ...] = ()
    if status is not DeliveryStatus.PENDING:
        history = (attempt(1, AttemptOutcome.RETRY, 500),)
    if status is DeliveryStatus.SUCCEEDED:
        history += (attempt(2, AttemptOutcome.SUCCEEDED, 200),)
    return Delivery(endpoint_id, status, attempts=len(history), history=history, updated_at=clock.now_iso())


class Log:
    """What was written: (event id, type, statuses) in creation order."""

    def __init__(self, stack: Stack, api: ApiClient) -> None:
        api.call("PUT", "/v1/tenants/acme", {"name": "Acme"})
        self.endpoint = api.call("POST", "/v1/tenants/acme/endpoints", {"url": "https://example.com/a"}).body[
            "id"
        ]
        self.other = api.call("POST", "/v1/tenants/acme/endpoints", {"url": "https://example.com/b"}).body[
            "id"
        ]
        seeder = Seeder(stack)
        expires = int(time.time()) + 3600
        self.events: list[tuple[str, str, set[DeliveryStatus]]] = []
        for n in range(EVENTS):
            event_id = ids.new_event_id()
            event_type = TYPES[n % len(TYPES)]
            overflow = n % 50 == 7  # a large fan-out keeps its deliveries in items of their own
            # A large record, whose second delivery then changes: the change is kept apart from it, and
            # the record's status counters still say the status it had.
            moved = n % 9 == 0 and not overflow
            data = f'{{"n":{n},"noise":"{NOISE}"}}' if moved else f'{{"n":{n}}}'
            event = Event(
                "acme", event_id, event_type, clock.now_iso(), f'{{"type":"{event_type}","data":{data}}}'
            )
            first = delivery(self.endpoint, STATUSES[n % 4])
            second = delivery(self.other, STATUSES[(n // 4) % 4])
            deliveries = {self.endpoint: first} if n % 3 else {self.endpoint: first, self.other: second}
            record = EventRecord(
                event, FanoutState.DONE, tuple(deliveries), {} if overflow else dict(deliveries), overflow
            )
            assert seeder.log.create(record, expires)
            if overflow:
                for one in deliveries.values():
                    assert seeder.log.create_overflow_delivery(record, one, expires)
            if moved:
                ref = DeliveryRef.of(record, self.other)
                assert ref.apart
                later = delivery(self.other, STATUSES[((n // 4) + 1) % 4])
                assert seeder.log.swap(ref, second, later)
                deliveries[self.other] = later
            self.events.append((event_id, event_type, {d.status for d in deliveries.values()}))

    def expected(self, **wanted: Any) -> list[str]:
        types = wanted.get("types")
        prefixes = wanted.get("prefixes", ())
        status = wanted.get("status")
        since, until = wanted.get("since"), wanted.get("until")
        chosen = []
        for event_id, event_type, statuses in self.events:
            minted = ids.event_id_unix_seconds(event_id) or 0
            if (
                (types or prefixes)
                and event_type not in (types or ())
                and not event_type.startswith(prefixes)
            ):
                continue
            if status is not None and status not in statuses:
                continue
            if (since is not None and minted < since) or (until is not None and minted > until):
                continue
            chosen.append(event_id)
        return sorted(chosen, reverse=True)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """One stack and one log for the module: its tests only read, and seeding the log is most of a test."""
    with deployed_stack(dict(TEST_PARAMETERS)) as deployed:
        yield deployed


@pytest.fixture(scope="module")
def log(stack: Stack) -> Iterator[Log]:
    # Full pages are promised within the search's time budget (unit-tested on its own): moto on a busy
    # machine reads far slower than DynamoDB, so here the budget is reads alone.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(event_queries, "SEARCH_SECONDS", 600.0)
        yield Log(stack, ApiClient(stack, API_KEY))


def pages(api: ApiClient, path: str, limit: int) -> tuple[list[Any], list[int]]:
    items: list[Any] = []
    sizes: list[int] = []
    cursor = None
    separator = "&" if "?" in path else "?"
    while True:
        url = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = api.call("GET", url)
        assert response.status == 200, response
        page = response.body
        items += page["data"]
        sizes.append(len(page["data"]))
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if cursor is None:
            return items, sizes
        assert len(sizes) < 100


def full_but_last(sizes: list[int], limit: int, total: int) -> None:
    assert sum(sizes) == total
    assert all(size == limit for size in sizes[:-1]), sizes
    assert 0 < sizes[-1] <= limit or total == 0


def test_search_pages_over_every_filter(api: ApiClient, log: Log) -> None:
    third = log.events[EVENTS // 3][0]
    two_thirds = log.events[2 * EVENTS // 3][0]
    since = ids.event_id_unix_seconds(third) or 0
    until = ids.event_id_unix_seconds(two_thirds) or 0
    since_iso, until_iso = clock.iso_from_unix(since), clock.iso_from_unix(until)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("", {}),
        ("type=order.paid", {"types": ("order.paid",)}),
        ("type=order.*", {"prefixes": ("order.",)}),
        ("type=invoice.sent,customer.*", {"types": ("invoice.sent",), "prefixes": ("customer.",)}),
        ("type=*", {}),
        *((f"status={s.value}", {"status": s}) for s in STATUSES),
        (f"since={since_iso}", {"since": since}),
        (f"until={until_iso}", {"until": until + 0.000999}),
        (f"since={since_iso}&until={until_iso}", {"since": since, "until": until + 0.000999}),
        ("type=order.*&status=failed", {"prefixes": ("order.",), "status": DeliveryStatus.FAILED}),
    ]
    for query, wanted in cases:
        expected = log.expected(**wanted)
        assert expected, query
        for limit in (37, 250):
            events, sizes = pages(api, f"/v1/tenants/acme/events?{query}", limit)
            assert [e["id"] for e in events] == expected, (query, limit)
            full_but_last(sizes, limit, len(expected))
    nothing, _ = pages(api, "/v1/tenants/acme/events?type=nothing.here", 10)
    assert nothing == []


def test_listed_events_show_every_delivery_even_of_a_large_fan_out(api: ApiClient, log: Log) -> None:
    events, _ = pages(api, "/v1/tenants/acme/events", 250)
    by_id = {e["id"]: e for e in events}
    overflowed = log.events[7]
    shown = by_id[overflowed[0]]
    assert {d["status"] for d in shown["deliveries"]} == {s.value for s in overflowed[2]}
    assert shown["data"] == {"n": 7} and shown["type"] == overflowed[1]
    moved = log.events[9]  # its second delivery changed after the record was written: kept apart
    assert {d["status"] for d in by_id[moved[0]]["deliveries"]} == {s.value for s in moved[2]}
    one = api.call("GET", f"/v1/tenants/acme/events/{moved[0]}")
    assert {d["status"] for d in one.body["deliveries"]} == {s.value for s in moved[2]}


def test_endpoint_attempts_are_filtered_before_the_page_is_cut(api: ApiClient, log: Log) -> None:
    path = f"/v1/tenants/acme/endpoints/{log.endpoint}/attempts"
    everything, sizes = pages(api, path, 23)
    statuses = [STATUSES[n % 4] for n in range(EVENTS)]
    attempts_per_event = {DeliveryStatus.PENDING: 0, DeliveryStatus.SUCCEEDED: 2}
    total = sum(attempts_per_event.get(status, 1) for status in statuses)
    full_but_last(sizes, 23, total)
    event_order = [a["event_id"] for a in everything]
    assert event_order == sorted(event_order, reverse=True)  # newest event first
    failed, sizes = pages(api, path + "?status=failed", 23)
    assert all(a["outcome"] != "succeeded" for a in failed)
    full_but_last(sizes, 23, sum(1 for status in statuses if status is not DeliveryStatus.PENDING))
    succeeded, sizes = pages(api, path + "?status=succeeded", 7)
    assert {a["outcome"] for a in succeeded} == {"succeeded"}
    full_but_last(sizes, 7, statuses.count(DeliveryStatus.SUCCEEDED))
    assert api.call("GET", path + "?status=pending").status == 400
