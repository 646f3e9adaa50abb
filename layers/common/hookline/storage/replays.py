"""Replays in the table, and what a replay job reads.

- ``T#{t}`` / ``RPL#{replay id}``: the replay (its filter, state and counters), kept for the retention;
- ``RPLD#{replay id}#{event id}#{endpoint id}`` / ``RPLD``: one marker per delivery the replay has taken,
  written conditionally, so a page that runs twice re-sends (and counts) each delivery once;
- the events themselves are read a shard at a time (``events_page``), in id order within the time range.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from hookline.core.errors import ConditionNotMet
from hookline.core.ids import EVENT_SHARDS, event_id_ceiling, event_id_floor
from hookline.core.models import EventRecord
from hookline.storage.event_log import assemble, event_items
from hookline.storage.event_search import EventFilter, _QueryShape
from hookline.storage.table import (
    Item,
    Table,
    event_id_in_key,
    events_pk,
    get_opt_str,
    get_str,
    key,
    n,
    s,
    tenant_pk,
)

PREFIX = "RPL#"
_AFTER_EVERY_KEY_CHARACTER = "~"


@dataclass(frozen=True, slots=True)
class Replay:
    tenant_id: str
    replay_id: str
    since: float
    until: float
    exact_types: tuple[str, ...]
    type_prefixes: tuple[str, ...]
    status: str | None  # "failed" or "succeeded"
    endpoint_id: str | None
    done: bool = False
    matched: int = 0
    queued: int = 0
    skipped: int = 0


def replay_key(tenant_id: str, replay_id: str) -> Item:
    return key(tenant_pk(tenant_id), PREFIX + replay_id)


class ReplayStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, replay: Replay, expires_at: int) -> None:
        item: Item = replay_key(replay.tenant_id, replay.replay_id) | {
            "since": n(replay.since),
            "until": n(replay.until),
            "filter": s(
                json.dumps(
                    {
                        "exact": list(replay.exact_types),
                        "prefixes": list(replay.type_prefixes),
                        "status": replay.status,
                        "endpoint_id": replay.endpoint_id,
                    }
                )
            ),
            "state": s("running"),
            "m": n(0),
            "q": n(0),
            "x": n(0),
            "expires_at": n(expires_at),
        }
        self._table.put(item, "create a replay", condition="attribute_not_exists(pk)")

    def get(self, tenant_id: str, replay_id: str) -> Replay | None:
        item = self._table.get(replay_key(tenant_id, replay_id), "read a replay")
        if item is None:
            return None
        spec = json.loads(get_str(item, "filter", "{}"))
        return Replay(
            tenant_id=tenant_id,
            replay_id=replay_id,
            since=float(item["since"]["N"]),
            until=float(item["until"]["N"]),
            exact_types=tuple(spec.get("exact") or ()),
            type_prefixes=tuple(spec.get("prefixes") or ()),
            status=spec.get("status"),
            endpoint_id=spec.get("endpoint_id"),
            done=get_opt_str(item, "state") == "done",
            matched=int(item.get("m", {"N": "0"})["N"]),
            queued=int(item.get("q", {"N": "0"})["N"]),
            skipped=int(item.get("x", {"N": "0"})["N"]),
        )

    def forget(self, tenant_id: str, replay_id: str) -> None:
        self._table.delete(replay_key(tenant_id, replay_id), "forget a replay")

    def progress(self, replay: Replay, matched: int, queued: int, skipped: int, done: bool) -> None:
        update = "ADD m :m, q :q, x :x" + (" SET #state = :done" if done else "")
        values: Item = {":m": n(matched), ":q": n(queued), ":x": n(skipped)}
        names = {"#state": "state"} if done else None
        if done:
            values[":done"] = s("done")
        self._table.update(
            replay_key(replay.tenant_id, replay.replay_id),
            "record a replay's progress",
            update,
            ExpressionAttributeValues=values,
            ExpressionAttributeNames=names,
        )

    def take(self, replay_id: str, event_id: str, endpoint_id: str, expires_at: int) -> bool:
        """Mark a delivery as taken by this replay; False if an earlier run of the page took it."""
        try:
            self._table.put(
                key(f"RPLD#{replay_id}#{event_id}#{endpoint_id}", "RPLD") | {"expires_at": n(expires_at)},
                "mark a replayed delivery",
                condition="attribute_not_exists(pk)",
            )
        except ConditionNotMet:
            return False
        return True

    def untake(self, replay_id: str, event_id: str, endpoint_id: str) -> None:
        self._table.delete(key(f"RPLD#{replay_id}#{event_id}#{endpoint_id}", "RPLD"), "unmark a delivery")

    def events_page(
        self, replay: Replay, shard: int, start: Item | None, limit: int
    ) -> tuple[list[EventRecord], Item | None]:
        """One page of the replay's events in one shard (type filters applied by DynamoDB)."""
        low = event_id_floor(replay.since)
        high = event_id_ceiling(replay.until) + _AFTER_EVERY_KEY_CHARACTER
        shape = _QueryShape.of(EventFilter(replay.exact_types, replay.type_prefixes), low, high)
        kwargs = shape.kwargs(events_pk(replay.tenant_id, shard), limit)
        kwargs["ScanIndexForward"] = True
        if start is not None:
            kwargs["ExclusiveStartKey"] = start
        items, last = self._table.query("read a replay's events", **kwargs)
        records = assemble(items)
        tail = records.get((replay.tenant_id, event_id_in_key(get_str(items[-1], "sk")))) if items else None
        if last is not None and tail is not None and tail.changes_kept_apart:
            # The page may end between a record and its deliveries kept apart (they sort after it): read
            # that event whole. The next page's items of it find no record there and are left out.
            records |= assemble(event_items(self._table, replay.tenant_id, tail.event.event_id))
        return list(records.values()), last


SHARDS = EVENT_SHARDS
