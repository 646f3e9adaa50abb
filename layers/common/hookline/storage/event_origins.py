"""Where an event came from, for the events that need to remember it: a delayed event (its job, its due time,
whether it was cancelled or started) and a schedule's firing (which schedule made it).

One item per such event, in a partition of its own (``EVX#{t}#{event id}`` / ``EVX``), so millions of pending
events spread over partitions and nothing ever lists them: the queue (or EventBridge Scheduler) brings each
one back when it is due. Events sent for now write nothing here.

A delayed event's state moves ``scheduled`` -> ``started`` (dispatch, when it is due) or ``scheduled`` ->
``cancelled`` (the API), each a conditional write, so exactly one of them wins.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hookline.core.errors import ConditionNotMet
from hookline.storage.table import Item, Table, get_opt_str, get_str, key, n, put_optional, s


class OriginState(enum.StrEnum):
    SCHEDULED = "scheduled"
    STARTED = "started"
    CANCELLED = "cancelled"
    FIRED = "fired"  # made by a recurring schedule (not delayed)


@dataclass(frozen=True, slots=True)
class EventOrigin:
    tenant_id: str
    event_id: str
    state: OriginState
    deliver_at: str | None = None  # ISO-8601 as the caller gave it
    due_at: float | None = None  # Unix seconds
    job: str | None = None  # the encoded event job, sent when due
    schedule_name: str | None = None  # the one-time EventBridge Scheduler schedule, if one carries it
    schedule_id: str | None = None  # the Hookline schedule whose firing made the event


def origin_key(tenant_id: str, event_id: str) -> Item:
    return key(f"EVX#{tenant_id}#{event_id}", "EVX")


class EventOrigins:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, origin: EventOrigin, expires_at: int) -> bool:
        """Write it unless one exists (a repeated firing, a repeated request). True if this call wrote it."""
        item: Item = origin_key(origin.tenant_id, origin.event_id) | {
            "st": s(origin.state.value),
            "expires_at": n(expires_at),
        }
        put_optional(item, "at", origin.deliver_at)
        put_optional(item, "due", origin.due_at)
        put_optional(item, "job", origin.job)
        put_optional(item, "aws", origin.schedule_name)
        put_optional(item, "sch", origin.schedule_id)
        try:
            self._table.put(item, "record an event's origin", condition="attribute_not_exists(pk)")
        except ConditionNotMet:
            return False
        return True

    def get(self, tenant_id: str, event_id: str) -> EventOrigin | None:
        item = self._table.get(origin_key(tenant_id, event_id), "read an event's origin")
        if item is None:
            return None
        due = item.get("due")
        return EventOrigin(
            tenant_id=tenant_id,
            event_id=event_id,
            state=OriginState(get_str(item, "st")),
            deliver_at=get_opt_str(item, "at"),
            due_at=None if due is None else float(due["N"]),
            job=get_opt_str(item, "job"),
            schedule_name=get_opt_str(item, "aws"),
            schedule_id=get_opt_str(item, "sch"),
        )

    def move(self, tenant_id: str, event_id: str, to: OriginState) -> bool:
        """``scheduled`` -> ``to``, only if it is still scheduled. True if this call moved it."""
        try:
            self._table.update(
                origin_key(tenant_id, event_id),
                "change a delayed event's state",
                "SET st = :to",
                condition="st = :scheduled",
                ExpressionAttributeValues={":to": s(to.value), ":scheduled": s(OriginState.SCHEDULED.value)},
            )
        except ConditionNotMet:
            return False
        return True

    def forget(self, tenant_id: str, event_id: str) -> None:
        self._table.delete(origin_key(tenant_id, event_id), "forget an event's origin")
