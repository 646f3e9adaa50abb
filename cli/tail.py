"""``hookline tail``: follow a tenant's delivery attempts as they happen, by polling the API.

Each round lists the tenant's endpoints and reads each endpoint's delivery log, newest first, until it
reaches an attempt it has already shown. Attempts that existed when ``tail`` started are not shown; every
later one is shown once, oldest first. Polling the endpoint logs (rather than the newest events) also
catches the late retries of old events: an attempt five hours into the retry schedule still shows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from cli.client import ApiError, ApiUnreachable, HooklineClient, JsonObject, paginate

type AttemptKey = tuple[str, str, str, str]

PAGE_SIZE = 50
MAX_PAGES_PER_ROUND = 5  # a burst of more than 250 attempts to one endpoint within one interval is cut
REMEMBERED_ATTEMPTS = 50_000
REMEMBERED_EVENT_TYPES = 5_000


def attempt_key(attempt: Mapping[str, Any]) -> AttemptKey:
    return (
        str(attempt.get("event_id")),
        str(attempt.get("endpoint_id")),
        str(attempt.get("attempt")),
        str(attempt.get("attempted_at")),
    )


class _BoundedSet:
    """Insertion-ordered keys; the oldest are forgotten past ``limit`` (they have scrolled off by then)."""

    def __init__(self, limit: int) -> None:
        self._keys: OrderedDict[AttemptKey, None] = OrderedDict()
        self._limit = limit

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: AttemptKey) -> None:
        self._keys[key] = None
        while len(self._keys) > self._limit:
            self._keys.popitem(last=False)


class AttemptFollower:
    def __init__(self, client: HooklineClient, tenant_id: str) -> None:
        self.client = client
        self.tenant_id = tenant_id
        self.endpoints: dict[str, JsonObject] = {}
        self._seen = _BoundedSet(REMEMBERED_ATTEMPTS)
        self._event_types: OrderedDict[str, str | None] = OrderedDict()

    def _refresh_endpoints(self) -> dict[str, JsonObject]:
        """The tenant's endpoints now; the ones not known before are returned as new."""
        current = {
            str(item["id"]): item
            for item in paginate(
                lambda cursor: self.client.list_endpoints(self.tenant_id, limit=250, cursor=cursor)
            )
        }
        new = {
            endpoint_id: item for endpoint_id, item in current.items() if endpoint_id not in self.endpoints
        }
        self.endpoints = current
        return new

    def _unseen(self, endpoint_id: str, max_pages: int) -> list[JsonObject]:
        fresh: list[JsonObject] = []
        cursor: str | None = None
        for _ in range(max_pages):
            try:
                page = self.client.list_endpoint_attempts(
                    self.tenant_id, endpoint_id, limit=PAGE_SIZE, cursor=cursor
                )
            except ApiError as exc:
                if exc.status == 404:  # removed since the endpoint list was read
                    return fresh
                raise
            unseen = [item for item in page["data"] if attempt_key(item) not in self._seen]
            fresh += unseen
            if len(unseen) < len(page["data"]) or not page["has_more"]:
                break
            cursor = page["next_cursor"]
        return fresh

    def start(self) -> int:
        """Mark every attempt logged so far as shown; return how many endpoints are followed."""
        self._refresh_endpoints()
        for endpoint_id in self.endpoints:
            for item in self._unseen(endpoint_id, max_pages=1):
                self._seen.add(attempt_key(item))
        return len(self.endpoints)

    def poll(self) -> list[JsonObject]:
        """The attempts logged since the last call, oldest first."""
        self._refresh_endpoints()
        fresh = [
            item for endpoint_id in self.endpoints for item in self._unseen(endpoint_id, MAX_PAGES_PER_ROUND)
        ]
        fresh.sort(key=lambda item: (str(item.get("attempted_at")), str(item.get("attempt"))))
        for item in fresh:
            self._seen.add(attempt_key(item))
        return fresh

    def event_type(self, event_id: str) -> str | None:
        """The event's type (one lookup per event, remembered), or None if it cannot be read."""
        if event_id not in self._event_types:
            try:
                found = self.client.get_event(self.tenant_id, event_id).get("type")
            except ApiError:
                found = None
            self._event_types[event_id] = found if isinstance(found, str) else None
            while len(self._event_types) > REMEMBERED_EVENT_TYPES:
                self._event_types.popitem(last=False)
        return self._event_types[event_id]

    def endpoint_label(self, endpoint_id: str) -> str:
        """The endpoint's description, else its URL (its id once it is gone): they say more than an id."""
        found = self.endpoints.get(endpoint_id)
        if not found:
            return endpoint_id
        return str(found.get("description") or found.get("url") or endpoint_id)

    def label_width(self) -> int:
        return max((len(self.endpoint_label(endpoint_id)) for endpoint_id in self.endpoints), default=0)


def follow(
    follower: AttemptFollower,
    interval: float,
    emit: Callable[[JsonObject], None],
    warn: Callable[[str], None],
    wait: Callable[[float], bool],
) -> None:
    """Poll every ``interval`` seconds and ``emit`` each new attempt, until ``wait`` returns True.

    An outage (no answer, or a 429/5xx) is reported once and polled through; any other API error ends it.
    """
    failing = False
    while not wait(interval):
        try:
            fresh = follower.poll()
        except (ApiUnreachable, ApiError) as exc:
            if isinstance(exc, ApiError) and not exc.retryable:
                raise
            if not failing:
                warn(f"{exc}; still trying every {interval:g} s")
            failing = True
            continue
        if failing:
            warn("the API answers again")
            failing = False
        for attempt in fresh:
            emit(attempt)
