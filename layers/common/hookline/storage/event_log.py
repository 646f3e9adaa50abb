"""The delivery log: event records, their deliveries, and the index of failed deliveries.

Every change to a delivery is a compare-and-swap on what the writer last saw (status, attempt count and
claim owner), so two carriers of one delivery can never both record — or, with claims, both send — the
same attempt. A lost race is an answer (``False``), never an exception.

Where a change is written: the event's first round (the event job) writes the record's inline deliveries;
a large fan-out's deliveries are items from the start (``overflow``); any later change (``DeliveryRef.of``:
a claim, a retry's outcome, a resend, a dead letter) goes to an item of the delivery's own when the record is
larger than one write unit (``EventRecord.changes_kept_apart``), so that it does not rewrite the record. That
item is created by the first such change, on the condition that it does not exist yet (the inline entry,
which no later change writes, is then what the writer saw), and wins over the inline entry on every read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hookline.core.clock import event_expiry
from hookline.core.errors import ConditionNotMet
from hookline.core.ids import event_shard
from hookline.core.models import Delivery, DeliveryChange, DeliveryRef, EventRecord, FailureEntry, FanoutState
from hookline.storage.records import (
    APART_KIND,
    STATUS_COUNTERS,
    delivery_attributes,
    delivery_from_item,
    delivery_item,
    delivery_owner,
    is_delivery_item,
    record_from_item,
    record_item,
)
from hookline.storage.table import (
    Item,
    Table,
    delivery_key,
    event_key,
    events_pk,
    failures_pk,
    key,
    n,
    s,
)


class EventLog:
    def __init__(self, table: Table, retention_days: int) -> None:
        self._table = table
        self._retention_days = retention_days  # for the items that deliveries kept apart are written to

    # --- records ----------------------------------------------------------------------------------------

    def create(self, record: EventRecord, expires_at: int, failures: Sequence[FailureEntry] = ()) -> bool:
        """Write a new record (with any failed deliveries filed in the failure index, in one transaction);
        False if a record already exists (a repeated job got there first)."""
        item = record_item(record, expires_at)
        try:
            if failures:
                self._table.transact(
                    [
                        {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                        *({"Put": {"Item": _failure_item(entry, expires_at)}} for entry in failures),
                    ],
                    "create event record",
                )
            else:
                self._table.put(item, "create event record", "attribute_not_exists(pk)")
        except ConditionNotMet:
            return False
        return True

    def create_overflow_delivery(self, record: EventRecord, delivery: Delivery, expires_at: int) -> bool:
        try:
            self._table.put(
                delivery_item(record.event, delivery, expires_at),
                "create delivery",
                "attribute_not_exists(pk)",
            )
        except ConditionNotMet:
            return False
        return True

    def get(self, tenant_id: str, event_id: str) -> EventRecord | None:
        """The record with every delivery, inline or not: one Query over the event's items."""
        return assemble(event_items(self._table, tenant_id, event_id)).get((tenant_id, event_id))

    def load(self, refs: Iterable[tuple[str, str, str | None]]) -> dict[tuple[str, str], EventRecord]:
        """Records for (tenant, event, endpoint or None) in one BatchGetItem; a named endpoint's delivery item
        is read too, in case the record keeps its deliveries apart."""
        keys: list[Item] = []
        for tenant_id, event_id, endpoint_id in refs:
            keys.append(event_key(tenant_id, event_id))
            if endpoint_id is not None:
                keys.append(delivery_key(tenant_id, event_id, endpoint_id))
        if not keys:
            return {}
        return assemble(self._table.batch_get(keys, "load event records"))

    def set_fanout(
        self, tenant_id: str, event_id: str, state: FanoutState, endpoint_ids: Sequence[str] | None = None
    ) -> None:
        update = "SET f = :f"
        values: dict[str, Any] = {":f": s(state.value)}
        if endpoint_ids is not None:
            update += ", eps = :eps"
            values[":eps"] = {"L": [s(ep) for ep in endpoint_ids]}
        self._table.update(
            event_key(tenant_id, event_id),
            "record fan-out",
            update,
            condition="attribute_exists(pk)",
            ExpressionAttributeValues=values,
        )

    # --- deliveries -------------------------------------------------------------------------------------

    def swap(
        self,
        ref: DeliveryRef,
        seen: Delivery | None,
        new: Delivery,
        index_failure: FailureEntry | None = None,
        expires_at: int | None = None,
    ) -> bool:
        """Replace the delivery if it is still what ``seen`` says (None: not there yet). False on a lost race.

        ``index_failure`` also files the delivery in the endpoint's failure index, in the same transaction.
        """
        apart = ref.apart and not ref.overflow and seen is not None
        expires = event_expiry(ref.event_id, self._retention_days)
        update, condition, names, values = _swap_expression(ref, seen, new, expires if apart else None)
        item_key = (
            delivery_key(ref.tenant_id, ref.event_id, ref.endpoint_id)
            if ref.overflow or apart
            else event_key(ref.tenant_id, ref.event_id)
        )
        try:
            if index_failure is None:
                self._table.update(
                    item_key,
                    "record delivery",
                    update,
                    condition=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
            else:
                self._table.transact(
                    [
                        {
                            "Update": {
                                "Key": item_key,
                                "UpdateExpression": update,
                                "ConditionExpression": condition,
                                "ExpressionAttributeNames": names,
                                "ExpressionAttributeValues": values,
                            }
                        },
                        {"Put": {"Item": _failure_item(index_failure, expires_at)}},
                    ],
                    "record failed delivery",
                )
        except ConditionNotMet:
            return False
        return True

    def swap_many(self, tenant_id: str, event_id: str, changes: Sequence[DeliveryChange]) -> bool:
        """Replace several inline deliveries of one record in one write, each only if it is still what its
        ``seen`` says; all or none (False: at least one changed meanwhile).

        DynamoDB bills an UpdateItem on the whole record, however little of it changes: ten deliveries
        written one by one cost ten record writes, written together one."""
        names: dict[str, str] = {"#d": "d"}
        values: dict[str, Any] = {}
        sets: list[str] = []
        clauses = ["attribute_exists(pk)"]
        counts: dict[str, int] = {}
        for number, (endpoint_id, seen, new) in enumerate(changes):
            path = f"#d.#ep{number}"
            names[f"#ep{number}"] = endpoint_id
            values[f":d{number}"] = {"M": delivery_attributes(new)}
            sets.append(f"{path} = :d{number}")
            clauses.extend(_seen_clauses(f"{path}.", seen, values, str(number), path))
            if seen is not None:
                names.update({"#s": "s", "#n": "n", "#co": "co", "#rt": "rt"})
            if seen is None or seen.status is not new.status:
                counter = STATUS_COUNTERS[new.status]
                counts[counter] = counts.get(counter, 0) + 1
                if seen is not None:
                    counter = STATUS_COUNTERS[seen.status]
                    counts[counter] = counts.get(counter, 0) - 1
        for counter, change in sorted(counts.items()):
            if change:
                names["#c"] = "c"
                names[f"#c_{counter}"] = counter
                values[f":c_{counter}"] = n(change)
                sets.append(f"#c.#c_{counter} = #c.#c_{counter} + :c_{counter}")
        try:
            self._table.update(
                event_key(tenant_id, event_id),
                "record deliveries",
                "SET " + ", ".join(sets),
                condition=" AND ".join(clauses),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ConditionNotMet:
            return False
        return True

    # --- the failure index (what ``recover`` resends) -----------------------------------------------------

    def failures_since(
        self, tenant_id: str, endpoint_id: str, since: str, limit: int, start: Item | None
    ) -> tuple[list[FailureEntry], Item | None]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND sk >= :since",
            "ExpressionAttributeValues": {":pk": s(failures_pk(tenant_id, endpoint_id)), ":since": s(since)},
            "Limit": limit,
            "ConsistentRead": True,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        items, last = self._table.query("list failed deliveries", **kwargs)
        entries = [
            FailureEntry(
                tenant_id=tenant_id,
                endpoint_id=endpoint_id,
                event_id=item["e"]["S"],
                failed_at=item["sk"]["S"].split("#", 1)[0],
            )
            for item in items
        ]
        return entries, last

    def index_failure(self, entry: FailureEntry, expires_at: int) -> None:
        self._table.put(_failure_item(entry, expires_at), "index failed delivery")

    def forget_failures(self, entries: Sequence[FailureEntry]) -> None:
        self._table.batch_write(
            [
                {"DeleteRequest": {"Key": key(failures_pk(e.tenant_id, e.endpoint_id), e.sort_key)}}
                for e in entries
            ],
            "forget failed deliveries",
        )


def event_items(table: Table, tenant_id: str, event_id: str) -> list[Item]:
    """An event's record and delivery items (they share its sort key's prefix)."""
    return table.query_all(
        "get event record",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :event)",
        ExpressionAttributeValues={
            ":pk": s(events_pk(tenant_id, event_shard(event_id))),
            ":event": s(event_id),
        },
        ConsistentRead=True,
    )


def _failure_item(entry: FailureEntry, expires_at: int | None) -> Item:
    item = key(failures_pk(entry.tenant_id, entry.endpoint_id), entry.sort_key)
    item["e"] = s(entry.event_id)
    if expires_at is not None:
        item["expires_at"] = n(expires_at)
    return item


def assemble(items: Iterable[Item]) -> dict[tuple[str, str], EventRecord]:
    """Records from their items: delivery items join their record's deliveries, and win over an inline
    entry of the same endpoint (an item kept apart holds the changes made after the first round)."""
    records: dict[tuple[str, str], EventRecord] = {}
    apart: list[Item] = []
    for item in items:
        if is_delivery_item(item):
            apart.append(item)
        elif item.get("k", {}).get("S") == "event":
            record = record_from_item(item)
            records[(record.event.tenant_id, record.event.event_id)] = record
    for item in apart:
        owner = records.get(delivery_owner(item))
        if owner is not None:
            delivery = delivery_from_item(item)
            owner.deliveries[delivery.endpoint_id] = delivery
    return records


def _seen_clauses(
    prefix: str, seen: Delivery | None, values: dict[str, Any], tag: str, path: str
) -> list[str]:
    """The conditions that a delivery is still as ``seen`` (names ``#s``, ``#n``, ``#co``, ``#rt`` set)."""
    if seen is None:
        return [f"attribute_not_exists({path})"]
    values[f":seen_s{tag}"] = s(seen.status.value)
    values[f":seen_n{tag}"] = n(seen.attempts)
    clauses = [f"{prefix}#s = :seen_s{tag}", f"{prefix}#n = :seen_n{tag}"]
    if seen.claim is None:
        clauses.append(f"attribute_not_exists({prefix}#co)")
    else:
        values[f":seen_co{tag}"] = s(seen.claim.owner)
        clauses.append(f"{prefix}#co = :seen_co{tag}")
    if seen.resend is None:
        clauses.append(f"attribute_not_exists({prefix}#rt)")
    else:
        values[f":seen_rt{tag}"] = s(seen.resend.token)
        clauses.append(f"{prefix}#rt = :seen_rt{tag}")
    return clauses


def _swap_expression(
    ref: DeliveryRef, seen: Delivery | None, new: Delivery, apart_expires: int | None
) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    """The update and its condition; ``apart_expires`` (the item's TTL) when the delivery is kept apart."""
    own_item = ref.overflow or apart_expires is not None
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if own_item:
        prefix = ""
    else:
        names["#d"], names["#ep"] = "d", ref.endpoint_id
        prefix = "#d.#ep."
    attributes = delivery_attributes(new)
    removed = [
        name for name in ("rb", "nx", "ek", "em", "cl", "cu", "co", "rt", "ru") if name not in attributes
    ]
    if apart_expires is not None:
        attributes = {"k": s(APART_KIND), "expires_at": n(apart_expires), **attributes}
    if own_item:
        sets = []
        for name, value in attributes.items():
            names[f"#f_{name}"] = name
            values[f":f_{name}"] = value
            sets.append(f"#f_{name} = :f_{name}")
        removes = []
        for name in removed:
            names[f"#f_{name}"] = name
            removes.append(f"#f_{name}")
    else:
        values[":delivery"] = {"M": attributes}
        sets = ["#d.#ep = :delivery"]
        removes = []
    if not own_item and (seen is None or seen.status is not new.status):
        names["#c"] = "c"
        names["#new"] = STATUS_COUNTERS[new.status]
        values[":one"] = n(1)
        sets.append("#c.#new = #c.#new + :one")
        if seen is not None:
            names["#old"] = STATUS_COUNTERS[seen.status]
            sets.append("#c.#old = #c.#old - :one")
    update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    if seen is None:
        path = "#d.#ep" if not ref.overflow else "pk"
        condition = (
            "attribute_exists(pk)"
            if ref.overflow
            else f"attribute_exists(pk) AND attribute_not_exists({path})"
        )
        return update, condition, names, values
    names["#s"], names["#n"], names["#co"], names["#rt"] = "s", "n", "co", "rt"
    condition = " AND ".join(_seen_clauses(prefix, seen, values, "", ""))
    if apart_expires is not None:
        # No item yet: the first change after the first round creates it, from the inline entry it saw
        # (which nothing writes any more). Two such writers race on the item's existence.
        condition = f"attribute_not_exists(pk) OR ({condition})"
    return update, condition, names, values
