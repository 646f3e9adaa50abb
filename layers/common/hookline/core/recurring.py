"""A recurring schedule: what it sends and when. Its firing times come from ``core.recurrence``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookline.core import clock, recurrence


@dataclass(frozen=True, slots=True)
class Schedule:
    tenant_id: str
    schedule_id: str
    event_type: str
    data: dict[str, Any]
    cron: str | None  # as the caller wrote it (one of cron and rate)
    rate: str | None
    timezone: str
    ordering_key: str | None
    start_at: str | None
    end_at: str | None
    enabled: bool
    created_at: str
    updated_at: str

    @property
    def recurrence(self) -> recurrence.Recurrence:
        return recurrence.parse(self.cron, self.rate)

    @property
    def aws_expression(self) -> str:
        return self.recurrence.aws

    def next_run(self, after: datetime) -> datetime | None:
        """The next firing after ``after`` (None while disabled, or after its end)."""
        if not self.enabled:
            return None
        return recurrence.next_run(
            self.recurrence,
            recurrence.parse_timezone(self.timezone),
            after,
            anchor=clock.parse_iso(self.updated_at),
            start=clock.parse_iso(self.start_at) if self.start_at else None,
            end=clock.parse_iso(self.end_at) if self.end_at else None,
        )
