"""Reading the delivery log: event search, one event with its deliveries, and attempts by event or endpoint.

Search never scans: ``EventSearch`` queries the tenant's event shards for the id range the time filters
give and merges them newest first, with type, status and endpoint as filter expressions. Pages are full
except the last (filters apply before the page is cut). One request reads at most a bounded number of
pages within ``SEARCH_SECONDS`` (the function has 10 s): when either runs out, the page holds what was
found, with a cursor to read on; a search that found nothing by then is a 422 asking for a narrower time
range. A request names at most ``MAX_SEARCH_TYPES`` types (each is a term of the filter expression).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

from hookline.api import binding, paging
from hookline.api.paging import Pager
from hookline.api.tenants import KnownTenants
from hookline.api.views import AttemptOut, AttemptPage, EventOut, EventPage, attempt_view, event_view
from hookline.core import ids
from hookline.core.errors import (
    InvalidRequestError,
    NotFoundError,
    SearchBudgetExceeded,
    UnprocessableError,
)
from hookline.core.matching import is_valid_event_type
from hookline.core.models import AttemptOutcome, DeliveryStatus, EventRecord
from hookline.storage.event_log import EventLog
from hookline.storage.event_search import EventFilter, EventSearch

FRESH_EVENT_SECONDS = 60  # dispatch writes the record; an id this young may simply not be recorded yet
FRESH_EVENT_WAIT_SECONDS = 2.0
_POLL_SECONDS = 0.1
SEARCH_SECONDS = 5.0  # a search's time budget: it answers a short page with a cursor rather than time out
MAX_SEARCH_TYPES = 20
ATTEMPT_STATUSES = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)


class EventQueries:
    def __init__(self, log: EventLog, search: EventSearch, tenants: KnownTenants, pager: Pager) -> None:
        self._log = log
        self._search = search
        self._tenants = tenants
        self._pager = pager

    # --- search ---------------------------------------------------------------------------------------

    def search(self, tenant_id: str, query: Mapping[str, str]) -> EventPage:
        event_filter = _event_filter(query)
        limit = binding.page_size(query)
        list_scope = paging.scope(
            "events",
            tenant_id,
            exact=event_filter.exact_types,
            prefixes=event_filter.type_prefixes,
            status=event_filter.status,
            since=event_filter.since,
            until=event_filter.until,
        )
        before = paging.text_field(self._pager.position(list_scope, query.get("cursor")), "before")
        self._tenants.require(tenant_id)
        records: list[EventRecord] = []
        more = False
        deadline = time.monotonic() + SEARCH_SECONDS
        found = self._search.records(
            tenant_id, event_filter, before=before, page_hint=limit, deadline=deadline
        )
        try:
            for record in found:
                if len(records) == limit:
                    more = True
                    break
                records.append(record)
        except SearchBudgetExceeded:
            if not records:
                raise _too_broad() from None
            more = True
        shown: list[EventRecord] = []
        for record in records:
            if shown and time.monotonic() >= deadline:  # completing large fan-outs costs a read each
                more = True
                break
            shown.append(self._complete(record))
        records = shown
        position = {"before": records[-1].event.event_id} if more else None
        return EventPage(
            data=[event_view(record) for record in shown],
            next_cursor=self._pager.cursor(list_scope, position),
            has_more=more,
        )

    def _complete(self, record: EventRecord) -> EventRecord:
        """A record with every delivery: a large fan-out keeps them in items that a plain search skips."""
        if not record.overflow:
            return record
        return self._log.get(record.event.tenant_id, record.event.event_id) or record

    # --- one event ------------------------------------------------------------------------------------

    def record(self, tenant_id: str, event_id: str) -> EventRecord:
        """The event's record. An id minted moments ago may not be recorded yet (dispatch writes it), so a
        young id is waited for briefly before the 404."""
        binding.event_id(event_id)
        minted = ids.event_id_unix_seconds(event_id) or 0.0
        deadline = time.monotonic() + FRESH_EVENT_WAIT_SECONDS
        while True:
            record = self._log.get(tenant_id, event_id)
            if record is not None:
                return record
            if time.time() - minted > FRESH_EVENT_SECONDS or time.monotonic() >= deadline:
                raise NotFoundError(f"event {event_id!r} does not exist")
            time.sleep(_POLL_SECONDS)

    def event(self, tenant_id: str, event_id: str) -> EventOut:
        return event_view(self.record(tenant_id, event_id))

    def event_attempts(self, tenant_id: str, event_id: str, query: Mapping[str, str]) -> AttemptPage:
        limit = binding.page_size(query)
        list_scope = paging.scope("event-attempts", tenant_id, event=event_id)
        offset = paging.int_field(self._pager.position(list_scope, query.get("cursor")), "offset")
        record = self.record(tenant_id, event_id)
        attempts = sorted(
            (
                (attempt.attempted_at, attempt.number, endpoint_id, attempt)
                for endpoint_id, delivery in record.deliveries.items()
                for attempt in delivery.history
            ),
            key=lambda entry: (entry[0], entry[1], entry[2]),
            reverse=True,
        )
        page = attempts[offset : offset + limit]
        more = offset + limit < len(attempts)
        return AttemptPage(
            data=[attempt_view(event_id, endpoint_id, attempt) for _, _, endpoint_id, attempt in page],
            next_cursor=self._pager.cursor(list_scope, {"offset": offset + limit} if more else None),
            has_more=more,
        )

    # --- an endpoint's attempts -----------------------------------------------------------------------

    def endpoint_attempts(self, tenant_id: str, endpoint_id: str, query: Mapping[str, str]) -> AttemptPage:
        """The endpoint's attempts, newest event first; ``status`` filters before the page is cut."""
        status = binding.delivery_status(query, ATTEMPT_STATUSES)
        limit = binding.page_size(query)
        list_scope = paging.scope("endpoint-attempts", tenant_id, endpoint=endpoint_id, status=status)
        position = self._pager.position(list_scope, query.get("cursor"))
        before, skip = paging.text_field(position, "before"), paging.int_field(position, "skip")
        stream = self._attempts(tenant_id, endpoint_id, status, before, skip)
        shown: list[tuple[str, int, AttemptOut]] = []
        more = False
        try:
            for entry in stream:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(entry)
        except SearchBudgetExceeded:
            if not shown:
                raise _too_broad() from None
            more = True
        last = shown[-1] if shown else None
        next_position = {"before": last[0], "skip": last[1] + 1} if more and last else None
        return AttemptPage(
            data=[attempt for _, _, attempt in shown],
            next_cursor=self._pager.cursor(list_scope, next_position),
            has_more=more,
        )

    def _attempts(
        self, tenant_id: str, endpoint_id: str, status: DeliveryStatus | None, before: str | None, skip: int
    ) -> Iterator[tuple[str, int, AttemptOut]]:
        """(event id, index among the event's shown attempts, attempt), newest event first."""
        records = self._search.records(
            tenant_id,
            EventFilter(endpoint_id=endpoint_id),
            before=before,
            inclusive=skip > 0,
            deadline=time.monotonic() + SEARCH_SECONDS,
        )
        for record in records:
            delivery = record.deliveries.get(endpoint_id)
            if delivery is None:
                continue
            event_id = record.event.event_id
            wanted = [
                attempt
                for attempt in reversed(delivery.history)
                if status is None
                or (attempt.outcome is AttemptOutcome.SUCCEEDED) == (status is DeliveryStatus.SUCCEEDED)
            ]
            first = skip if event_id == before else 0
            for index in range(first, len(wanted)):
                yield event_id, index, attempt_view(event_id, endpoint_id, wanted[index])


def _event_filter(query: Mapping[str, str]) -> EventFilter:
    exact: list[str] = []
    prefixes: list[str] = []
    patterns = binding.csv_values(query, "type")
    if len(patterns) > MAX_SEARCH_TYPES:
        raise InvalidRequestError(f"type: at most {MAX_SEARCH_TYPES} types or prefixes per search")
    for pattern in patterns:
        if pattern == "*":
            return _with_types(query, (), ())
        if pattern.endswith(".*") and is_valid_event_type(pattern[:-2]):
            prefixes.append(pattern[:-1])
        elif is_valid_event_type(pattern):
            exact.append(pattern)
        else:
            raise InvalidRequestError(
                f"type: {pattern!r} is neither an event type (order.created) nor a prefix wildcard (order.*)"
            )
    return _with_types(query, tuple(sorted(set(exact))), tuple(sorted(set(prefixes))))


def _with_types(query: Mapping[str, str], exact: tuple[str, ...], prefixes: tuple[str, ...]) -> EventFilter:
    return EventFilter(
        exact_types=exact,
        type_prefixes=prefixes,
        status=binding.delivery_status(query, tuple(DeliveryStatus)),
        since=binding.iso_param(query, "since"),
        until=binding.iso_param(query, "until"),
    )


def _too_broad() -> UnprocessableError:
    return UnprocessableError(
        "the search read its limit of pages without finding a match; narrow it with since and until"
    )
