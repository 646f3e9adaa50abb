"""Plain-text rendering of the API's JSON: aligned tables, field lists and one-line attempts.

No dependency: columns are padded to their widest cell, long cells are cut with an ellipsis, absent values
show as ``-``, and every time is UTC as the API gives it, shortened to what a person reads.

Values come from the API, and so from whoever named a tenant, a key or an endpoint: terminal control
characters (C0 but newline and tab, DEL, C1, bidirectional overrides) are shown as escapes (``\x1b``), never
sent to the terminal raw. ``--json`` output escapes them the JSON way (``\u001b``) and stays valid JSON.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

type JsonObject = dict[str, Any]

MAX_CELL = 60
TAIL_TYPE_WIDTH = 20
TAIL_ENDPOINT_WIDTH = 40
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_JSON_UNESCAPED_CONTROL = re.compile(f"[\x7f-\x9f{_BIDI}]")  # json.dumps escapes the C0 ones itself


def printable(text: str) -> str:
    """``text`` with every terminal control character but newline and tab shown as an escape."""
    return _CONTROL.sub(lambda found: _escape(found.group(), json_style=False), text)


def json_text(value: Any, indent: int | None = 2) -> str:
    """``value`` as JSON, non-ASCII text kept readable and control characters escaped."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return _JSON_UNESCAPED_CONTROL.sub(lambda found: _escape(found.group(), json_style=True), text)


def _escape(char: str, json_style: bool) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if json_style or code > 0xFF else f"\\x{code:02x}"


def cell(value: Any, width: int | None = MAX_CELL) -> str:
    if value is None or value == "":
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        text = ", ".join(value) or "-"
    elif isinstance(value, dict | list):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    else:
        text = str(value)
    text = printable(" ".join(text.split()))  # one line per row, whatever the value holds
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> str:
    """Columns aligned to their widest cell, under a header and a rule."""
    cells = [[cell(value) for value in row] for row in rows]
    widths = [max([len(header)] + [len(row[index]) for row in cells]) for index, header in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return (
            indent + "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in cells)])


def fields(pairs: Sequence[tuple[str, Any]]) -> str:
    """One ``name  value`` line per field, values aligned and shown whole."""
    width = max((len(name) for name, _ in pairs), default=0)
    return "\n".join(f"{name.ljust(width)}  {cell(value, width=None)}" for name, value in pairs)


def timestamp(value: Any, *, milliseconds: bool = False) -> str:
    """``2026-11-27T08:00:00.123Z`` as ``2026-11-27 08:00:00Z`` (or with ``.123``); other values as given."""
    if not isinstance(value, str) or not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return value
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return (text[:-3] if milliseconds else text[:-7]) + "Z"


def answer(attempt: Mapping[str, Any]) -> str:
    """What the endpoint answered (an attempt's, or a delivery's last): its status code, else the kind of
    error, else ``-``."""
    for name in ("status_code", "last_status_code", "error_kind", "last_error_kind"):
        if attempt.get(name) is not None:
            return str(attempt[name])
    return "-"


def latency(attempt: Mapping[str, Any]) -> str:
    value = attempt.get("latency_ms")
    return "-" if value is None else f"{value} ms"


def delivery_summary(event: Mapping[str, Any]) -> str:
    """``succeeded 2, failed 1`` from an event's deliveries, or the event's own ``status``."""
    deliveries = event.get("deliveries")
    if isinstance(deliveries, list) and deliveries:
        counts = Counter(str(item.get("status")) for item in deliveries if isinstance(item, dict))
        return ", ".join(f"{status} {count}" for status, count in counts.most_common())
    if isinstance(deliveries, list):
        return "no endpoint"
    return cell(event.get("status"))


# --------------------------------------------------------------------------------------------- resources


def tenant(body: Mapping[str, Any]) -> str:
    return fields([(name, body.get(name)) for name in ("id", "name", "created_at", "updated_at")])


def endpoints(items: Sequence[Mapping[str, Any]]) -> str:
    return table(
        ["ID", "URL", "EVENT TYPES", "ENABLED", "DESCRIPTION"],
        [
            (item.get("id"), item.get("url"), item.get("event_types") or "(all)", item.get("enabled"),
             item.get("description"))
            for item in items
        ],
    )  # fmt: skip


def endpoint(body: Mapping[str, Any]) -> str:
    order = ["id", "tenant_id", "url", "event_types", "filter", "description", "enabled", "disabled_reason"]
    order += ["headers", "rate_limit", "signature", "created_at", "updated_at"]
    rest = [name for name in body if name not in order]
    pairs = [(name, body.get(name)) for name in order + rest if name in body]
    return fields(
        [(name, "(all)" if name == "event_types" and value is None else value) for name, value in pairs]
    )


def event(body: Mapping[str, Any]) -> str:
    shown = ("id", "type", "timestamp", "status", "deliver_at", "schedule_id", "data")
    head = fields([(name, body.get(name)) for name in shown if name in body])
    deliveries = body.get("deliveries")
    if not isinstance(deliveries, list):
        return head
    if not deliveries:
        waiting = body.get("status") in {"scheduled", "cancelled"}
        return head if waiting else head + "\n\nNo endpoint matched this event."
    rows = [
        (item.get("endpoint_id"), item.get("status"), item.get("attempts"), answer(item),
         timestamp(item.get("last_attempt_at")), timestamp(item.get("next_attempt_at")))
        for item in deliveries
    ]  # fmt: skip
    return (
        head + "\n\n" + table(["ENDPOINT", "STATUS", "ATTEMPTS", "LAST ANSWER", "LAST ATTEMPT", "NEXT"], rows)
    )


def events(items: Sequence[Mapping[str, Any]]) -> str:
    return table(
        ["ID", "TYPE", "TIMESTAMP", "DELIVERIES"],
        [
            (item.get("id"), item.get("type"), timestamp(item.get("timestamp")), delivery_summary(item))
            for item in items
        ],
    )


def attempts(items: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        (timestamp(item.get("attempted_at"), milliseconds=True), item.get("event_id"),
         item.get("endpoint_id"), item.get("attempt"), answer(item), latency(item), item.get("outcome"))
        for item in items
    ]  # fmt: skip
    return table(["TIME", "EVENT", "ENDPOINT", "#", "ANSWER", "LATENCY", "OUTCOME"], rows)


def keys(items: Sequence[Mapping[str, Any]]) -> str:
    return table(
        ["ID", "NAME", "SCOPES", "CREATED", "EXPIRES"],
        [
            (item.get("id"), item.get("name"), item.get("scopes"), timestamp(item.get("created_at")),
             timestamp(item.get("expires_at")) if item.get("expires_at") else "never")
            for item in items
        ],
    )  # fmt: skip


def schedules(items: Sequence[Mapping[str, Any]]) -> str:
    return table(
        ["ID", "TYPE", "WHEN", "ZONE", "ENABLED", "NEXT RUN"],
        [
            (item.get("id"), item.get("type"), item.get("cron") or item.get("rate"), item.get("timezone"),
             "yes" if item.get("enabled") else "no",
             timestamp(item.get("next_run_at")) if item.get("next_run_at") else "-")
            for item in items
        ],
    )  # fmt: skip


def dead_letters(items: Sequence[Mapping[str, Any]]) -> str:
    return table(
        ["DEAD-LETTERED", "TENANT", "EVENT", "ENDPOINT"],
        [
            (timestamp(item.get("dead_lettered_at")), item.get("tenant_id"), item.get("event_id"),
             item.get("endpoint_id"))
            for item in items
        ],
    )  # fmt: skip


def attempt_line(
    attempt: Mapping[str, Any], event_type: str | None, endpoint: str | None, endpoint_width: int = 0
) -> str:
    """One line per attempt for ``tail``: when, what, where, which attempt, the answer and the outcome."""
    endpoint_width = min(endpoint_width, TAIL_ENDPOINT_WIDTH)
    clock = timestamp(attempt.get("attempted_at"), milliseconds=True)[11:]
    parts = [
        clock,
        cell(event_type or "?", width=TAIL_TYPE_WIDTH).ljust(TAIL_TYPE_WIDTH),
        cell(attempt.get("event_id")),
        "-> " + cell(endpoint or attempt.get("endpoint_id"), width=TAIL_ENDPOINT_WIDTH).ljust(endpoint_width),
        f"#{attempt.get('attempt', '?')}",
        answer(attempt).ljust(10),
        cell(attempt.get("outcome")).ljust(9),
        latency(attempt),
    ]
    return "  ".join(parts)


def event_types(items: Sequence[Mapping[str, Any]]) -> str:
    return table(
        ["NAME", "SCHEMA", "EXAMPLES", "DEPRECATED", "DESCRIPTION"],
        [
            (item.get("name"), item.get("schema") is not None, len(item.get("examples") or []),
             item.get("deprecated"), item.get("description"))
            for item in items
        ],
    )  # fmt: skip


def event_type(body: Mapping[str, Any]) -> str:
    order = ["name", "description", "deprecated", "schema", "examples", "created_at", "updated_at"]
    return fields([(name, body.get(name)) for name in order if name in body])
