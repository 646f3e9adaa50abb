"""Recurring schedules in the table: ``T#{t}`` / ``SCH#{schedule id}``, listed in id (creation) order."""

from __future__ import annotations

import json

from hookline.core import jsonsafe
from hookline.core.errors import ConditionNotMet, NotFoundError
from hookline.core.recurring import Schedule
from hookline.storage.table import (
    Item,
    Table,
    boolean,
    get_bool,
    get_opt_str,
    get_str,
    key,
    put_optional,
    s,
    tenant_pk,
)

PREFIX = "SCH#"


def schedule_key(tenant_id: str, schedule_id: str) -> Item:
    return key(tenant_pk(tenant_id), PREFIX + schedule_id)


def _item(schedule: Schedule) -> Item:
    item: Item = schedule_key(schedule.tenant_id, schedule.schedule_id) | {
        "ty": s(schedule.event_type),
        "data": s(jsonsafe.dumps(schedule.data)),
        "tz": s(schedule.timezone),
        "on": boolean(schedule.enabled),
        "ca": s(schedule.created_at),
        "ua": s(schedule.updated_at),
    }
    put_optional(item, "cron", schedule.cron)
    put_optional(item, "rate", schedule.rate)
    put_optional(item, "ok", schedule.ordering_key)
    put_optional(item, "start", schedule.start_at)
    put_optional(item, "end", schedule.end_at)
    return item


def _schedule(tenant_id: str, item: Item) -> Schedule:
    return Schedule(
        tenant_id=tenant_id,
        schedule_id=get_str(item, "sk").removeprefix(PREFIX),
        event_type=get_str(item, "ty"),
        data=json.loads(get_str(item, "data", "{}")),
        cron=get_opt_str(item, "cron"),
        rate=get_opt_str(item, "rate"),
        timezone=get_str(item, "tz", "UTC"),
        ordering_key=get_opt_str(item, "ok"),
        start_at=get_opt_str(item, "start"),
        end_at=get_opt_str(item, "end"),
        enabled=get_bool(item, "on", True),
        created_at=get_str(item, "ca"),
        updated_at=get_str(item, "ua"),
    )


class ScheduleStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, schedule: Schedule, new: bool) -> None:
        """Write it: a new one only if its id is free, a changed one only if it still exists."""
        condition = "attribute_not_exists(pk)" if new else "attribute_exists(pk)"
        try:
            self._table.put(_item(schedule), "write a schedule", condition=condition)
        except ConditionNotMet:
            raise NotFoundError(f"schedule {schedule.schedule_id!r} does not exist") from None

    def get(self, tenant_id: str, schedule_id: str) -> Schedule | None:
        item = self._table.get(schedule_key(tenant_id, schedule_id), "read a schedule")
        return None if item is None else _schedule(tenant_id, item)

    def page(self, tenant_id: str, limit: int, start: Item | None) -> tuple[list[Schedule], Item | None]:
        items, last = self._table.prefix_page(
            "list schedules", tenant_pk(tenant_id), PREFIX, limit, start, consistent=True
        )
        return [_schedule(tenant_id, item) for item in items], last

    def page_after(self, tenant_id: str, limit: int, after: str | None) -> list[Schedule]:
        """Up to ``limit`` schedules in id order, after the schedule ``after`` (from the first: None)."""
        start = None if after is None else schedule_key(tenant_id, after)
        return self.page(tenant_id, limit, start)[0]

    def delete(self, tenant_id: str, schedule_id: str) -> None:
        self._table.delete(schedule_key(tenant_id, schedule_id), "delete a schedule")
