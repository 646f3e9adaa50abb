"""Event search stays within its budget: a bounded number of queries and a deadline, whichever comes first,
even when filters empty every page (a broad status search over large fan-outs); and a bounded number of
types per request."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hookline.api.event_queries import MAX_SEARCH_TYPES, _event_filter
from hookline.core.errors import InvalidRequestError, SearchBudgetExceeded
from hookline.core.ids import EVENT_SHARDS
from hookline.core.models import DeliveryStatus
from hookline.storage import event_search
from hookline.storage.event_search import EventFilter, EventSearch
from tests.unit.fakes import FakeClock

BROAD = EventFilter(status=DeliveryStatus.SUCCEEDED)


class FilteredOutTable:
    """Every query answers an empty page (its filter refused every item) and more to read; each takes
    ``seconds_per_query`` of the fake clock."""

    def __init__(self, clock: FakeClock, seconds_per_query: float) -> None:
        self.clock = clock
        self.seconds_per_query = seconds_per_query
        self.queries = 0

    def query(self, action: str, **kwargs: Any) -> tuple[list[Any], Any]:
        self.queries += 1
        self.clock.advance(self.seconds_per_query)
        pk = kwargs["ExpressionAttributeValues"][":pk"]
        return [], {"pk": pk, "sk": {"S": f"evt_{self.queries:026d}"}}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(1000.0)
    monkeypatch.setattr(event_search.time, "monotonic", fake)
    return fake


@pytest.mark.parametrize("parallel", [False, True])
def test_a_search_stops_at_its_read_budget(clock: FakeClock, parallel: bool) -> None:
    table = FilteredOutTable(clock, 0.0)
    with ThreadPoolExecutor(4) as pool:
        search = EventSearch(table, pool if parallel else None)  # type: ignore[arg-type]
        with pytest.raises(SearchBudgetExceeded):
            list(search.records("acme", BROAD, read_budget=100))
    assert table.queries <= 100


@pytest.mark.parametrize("parallel", [False, True])
def test_a_search_stops_at_its_deadline_whatever_its_read_budget(clock: FakeClock, parallel: bool) -> None:
    table = FilteredOutTable(clock, 0.5)
    with ThreadPoolExecutor(4) as pool:
        search = EventSearch(table, pool if parallel else None)  # type: ignore[arg-type]
        with pytest.raises(SearchBudgetExceeded):
            list(search.records("acme", BROAD, read_budget=10_000, deadline=clock() + 5))
    # Each query started before the deadline; the parallel first round may run one per shard at once.
    assert table.queries <= 5 / 0.5 + EVENT_SHARDS


def test_a_search_names_a_bounded_number_of_types() -> None:
    allowed = ",".join(f"t{n}.created" for n in range(MAX_SEARCH_TYPES))
    assert len(_event_filter({"type": allowed}).exact_types) == MAX_SEARCH_TYPES
    with pytest.raises(InvalidRequestError, match="at most"):
        _event_filter({"type": allowed + ",one.more"})
