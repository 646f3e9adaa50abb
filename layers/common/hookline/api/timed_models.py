"""Request bodies of the timed routes (``api.timed_routes``): recurring schedules and replays. The same
conventions as ``api.models``: closed, strict, one rule per field, built on first use."""

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from hookline.api.models import (
    EVENT_TYPE_SCHEMA,
    RequestModel,
    check_event_type,
    check_event_types,
    check_iso_time,
    check_optional_iso_time,
)


def check_optional_event_type(value: str | None) -> str | None:
    return None if value is None else check_event_type(value)


MAX_SCHEDULE_DATA_BYTES = 65_536  # a schedule's data travels in every firing's job
MAX_ORDERING_KEY = 128
_ORDERING_KEY = re.compile(r"[^\x00-\x1f\x7f]{1,128}")


def check_ordering_key(value: str | None) -> str | None:
    if value is not None and not _ORDERING_KEY.fullmatch(value):
        raise ValueError(f"must be 1 to {MAX_ORDERING_KEY} characters, none of them control characters")
    return value


class _ScheduleFields(RequestModel):
    type: str | None = Field(default=None, examples=["report.daily"], json_schema_extra=EVENT_TYPE_SCHEMA)
    data: dict[str, Any] | None = Field(default=None, examples=[{"report": "daily"}])
    cron: str | None = Field(
        default=None,
        description="5 fields (minute hour day-of-month month day-of-week, like `0 9 * * MON-FRI`) or "
        "EventBridge's 6 (`cron(0 9 ? * MON-FRI *)`). Give `cron` or `rate`, not both.",
        examples=["0 9 * * MON-FRI"],
    )
    rate: str | None = Field(
        default=None, description="`N minutes`, `N hours` or `N days`.", examples=["5 minutes"]
    )
    timezone: str | None = Field(
        default=None, description="IANA time zone of `cron`.", examples=["Europe/Berlin"]
    )
    ordering_key: str | None = Field(default=None, json_schema_extra={"minLength": 1, "maxLength": 128})
    start_at: str | None = Field(default=None, description="No firing before this time (ISO-8601).")
    end_at: str | None = Field(default=None, description="No firing after this time (ISO-8601).")
    enabled: bool | None = None

    _type = field_validator("type")(check_optional_event_type)
    _key = field_validator("ordering_key")(check_ordering_key)
    _times = field_validator("start_at", "end_at")(check_optional_iso_time)


class ScheduleIn(_ScheduleFields):
    """A recurring event: each firing sends `{"type", "data"}` as a new event, through the normal path."""

    type: str = Field(examples=["report.daily"], json_schema_extra=EVENT_TYPE_SCHEMA)
    data: dict[str, Any] = Field(default_factory=dict, examples=[{"report": "daily"}])
    timezone: str = Field(default="UTC", examples=["Europe/Berlin"])
    enabled: bool = True


class SchedulePatch(_ScheduleFields):
    """Change any subset of a schedule's fields; `cron` replaces a `rate` and the other way round. `null`
    clears `ordering_key`, `start_at` and `end_at`."""


class ReplayIn(RequestModel):
    """Re-send the deliveries of the events in a time range that match the filters, once each."""

    since: str = Field(examples=["2026-12-01T00:00:00Z"], json_schema_extra={"format": "date-time"})
    until: str = Field(examples=["2026-12-02T00:00:00Z"], json_schema_extra={"format": "date-time"})
    types: list[str] | None = Field(
        default=None, description="Event types and `prefix.*` wildcards.", examples=[["order.*"]]
    )
    status: Literal["failed", "succeeded"] | None = Field(
        default=None, description="Only deliveries that ended this way."
    )
    endpoint_id: str | None = None

    _times = field_validator("since", "until")(check_iso_time)
    _types = field_validator("types")(check_event_types)
