"""The ``hookline`` command line's grammar (argparse): groups, verbs, flags and their checks.

``--url``, ``--api-key`` and ``--timeout`` go before the group (``endpoints add --url`` is the endpoint's
URL); ``--json`` goes anywhere.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from cli.client import (
    DEFAULT_TIMEOUT,
    DELIVERY_STATUSES,
    KEY_SCOPES,
    KEY_VARIABLE,
    SCOPES,
    STATE_FILE_VARIABLE,
    URL_VARIABLE,
)

MAX_PAGE = 250
DEFAULT_LIST_LIMIT = 50

EPILOG = f"""\
The API URL and key come from --url/--api-key, else {URL_VARIABLE}/{KEY_VARIABLE}, else the running local
stack's state file ({STATE_FILE_VARIABLE}, default .aws-sam/local-stack.json).
Exit status: 0 done, 1 the API refused (error: <code>: <message>), 2 bad usage, 3 the API could not be
reached or no URL was found.
"""


# --------------------------------------------------------------------------------------------- value types


def json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, like \'{"order_id": "ord_1"}\'')
    return value


def header(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def positive_int(text: str) -> int:
    if len(text.strip()) > 18:  # int() on thousands of digits is slow, then refused past Python's limit
        raise argparse.ArgumentTypeError(f"too large: {text[:20]!r}...")
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from exc
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


# --------------------------------------------------------------------------------------------- the grammar


def _add_json_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps a verb's parser from resetting a --json given before the group.
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the API's JSON instead of a table",
    )


def _verb(group: Any, name: str, help_text: str, *, tenant: bool = True) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text, description=help_text)
    _add_json_flag(parser)
    if tenant:
        parser.add_argument("--tenant", "-t", required=True, metavar="T", help="the tenant id")
    return parser


def _paging(parser: argparse.ArgumentParser) -> None:
    pages = parser.add_mutually_exclusive_group()
    pages.add_argument(
        "--limit", type=positive_int, default=DEFAULT_LIST_LIMIT, help="show at most N (default %(default)s)"
    )
    pages.add_argument("--all", action="store_true", help="show every item, page after page")
    parser.add_argument("--cursor", help="start from this next_cursor (from an earlier --json page)")


def _endpoint_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--event-type", action="append", dest="event_types", metavar="TYPE",
        help="deliver only these types (repeat it; 'order.*' is a prefix wildcard); default: every type",
    )  # fmt: skip
    parser.add_argument("--description", help="a note for people")
    parser.add_argument(
        "--filter", type=json_object, metavar="JSON", help="an EventBridge-style content filter"
    )
    parser.add_argument(
        "--header", action="append", type=header, dest="headers", metavar="NAME=VALUE",
        help="an extra header sent with every delivery (repeat it)",
    )  # fmt: skip
    parser.add_argument("--rate-limit", type=positive_int, metavar="N", help="deliveries per second, at most")


def _schedule_settings(parser: argparse.ArgumentParser) -> None:
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--cron", help="'0 9 * * MON-FRI' (5 fields) or EventBridge's 6")
    when.add_argument("--rate", help="'5 minutes', '1 hour', '2 days'")
    parser.add_argument("--data", type=json_object, metavar="JSON", help="the events' data")
    parser.add_argument("--timezone", metavar="ZONE", help="IANA time zone of --cron (default UTC)")
    parser.add_argument("--ordering-key", metavar="KEY", help="the events' ordering key")
    parser.add_argument("--start-at", metavar="ISO", help="no firing before this time")
    parser.add_argument("--end-at", metavar="ISO", help="no firing after this time")
    enabled = parser.add_mutually_exclusive_group()
    enabled.add_argument("--enable", action="store_const", const=True, dest="enabled", help="run it")
    enabled.add_argument("--disable", action="store_const", const=False, dest="enabled", help="pause it")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hookline",
        description="Operate a Hookline deployment (or the local stack) through its v1 API.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help=f"the API's base URL [{URL_VARIABLE}]")
    parser.add_argument("--api-key", metavar="KEY", help=f"the admin or tenant API key [{KEY_VARIABLE}]")
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="seconds to wait for each answer (%(default)g)",
    )
    parser.add_argument("--json", action="store_true", default=False, help="print the API's JSON")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)

    tenants = groups.add_parser("tenants", help="create, read or delete a tenant").add_subparsers(
        dest="verb", metavar="VERB", required=True
    )
    put = _verb(tenants, "put", "create a tenant, or rename it", tenant=False)
    put.add_argument("tenant_id", metavar="TENANT")
    put.add_argument("--name", required=True, help="the tenant's display name")
    for verb, text in (("get", "show a tenant"), ("delete", "delete a tenant and its endpoints")):
        _verb(tenants, verb, text, tenant=False).add_argument("tenant_id", metavar="TENANT")

    endpoints = groups.add_parser("endpoints", help="manage a tenant's webhook endpoints").add_subparsers(
        dest="verb", metavar="VERB", required=True
    )
    add = _verb(endpoints, "add", "register an endpoint")
    add.add_argument("--url", dest="endpoint_url", required=True, metavar="URL", help="where deliveries go")
    _endpoint_settings(add)
    add.add_argument("--disabled", action="store_true", help="register it disabled")
    add.add_argument("--secret", help="bring your own whsec_ signing secret (v1 only)")
    add.add_argument(
        "--signature", choices=("v1", "v1a"),
        help="v1: HMAC with a shared whsec_ secret (the default); v1a: ed25519, receivers verify with the "
        "public key that 'endpoints secret' shows",
    )  # fmt: skip
    _paging(_verb(endpoints, "list", "list endpoints"))
    for verb, text in (
        ("show", "show an endpoint"),
        ("remove", "delete an endpoint"),
        ("secret", "show an endpoint's signing secret"),
    ):
        _verb(endpoints, verb, text).add_argument("endpoint_id", metavar="ENDPOINT_ID")
    update = _verb(endpoints, "update", "change an endpoint (only the flags given)")
    update.add_argument("endpoint_id", metavar="ENDPOINT_ID")
    update.add_argument("--url", dest="endpoint_url", metavar="URL", help="a new URL")
    _endpoint_settings(update)
    update.add_argument("--all-event-types", action="store_true", help="deliver every type again")
    enabled = update.add_mutually_exclusive_group()
    enabled.add_argument("--enable", action="store_const", const=True, dest="enabled", help="re-enable it")
    enabled.add_argument("--disable", action="store_const", const=False, dest="enabled", help="disable it")
    rotate = _verb(endpoints, "rotate", "rotate the signing secret (the old one signs on for a grace window)")
    rotate.add_argument("endpoint_id", metavar="ENDPOINT_ID")
    rotate.add_argument("--secret", help="the new whsec_ secret (default: a generated one)")
    test = _verb(endpoints, "test", "send an example event to this endpoint only")
    test.add_argument("endpoint_id", metavar="ENDPOINT_ID")
    test.add_argument("--type", dest="event_type", help="the event type (default: the API's example)")
    test.add_argument("--data", type=json_object, metavar="JSON", help="the event's data")

    keys = groups.add_parser("keys", help="tenant API keys (admin only)").add_subparsers(
        dest="verb", metavar="VERB", required=True
    )
    create = _verb(keys, "create", "create a tenant key (its value is shown once)")
    create.add_argument("--name", required=True, help="what the key is for")
    create.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        required=True,
        choices=KEY_SCOPES,
        help="a scope (repeat it)",
    )
    create.add_argument("--expires-in", type=positive_int, metavar="SECONDS", help="expire after this long")
    _paging(_verb(keys, "list", "list a tenant's keys (never their values)"))
    _verb(keys, "revoke", "revoke a key").add_argument("key_id", metavar="KEY_ID")

    send = _verb(groups, "send", "send an event")
    send.add_argument("event_type", metavar="TYPE")
    send.add_argument("--data", type=json_object, default={}, metavar="JSON", help="the event's data ({})")
    send.add_argument("--idempotency-key", metavar="K", help="a repeat with the same key creates nothing")
    send.add_argument(
        "--ordering-key", metavar="K", help="deliveries to each endpoint keep the order of this key's events"
    )
    send.add_argument(
        "--deliver-at", metavar="ISO", help="deliver at this time (ISO-8601, up to 365 days ahead)"
    )

    events = groups.add_parser("events", help="find and show events").add_subparsers(
        dest="verb", metavar="VERB", required=True
    )
    search = _verb(events, "list", "events, newest first")
    search.add_argument("--type", dest="event_type", help="an exact type or a prefix.* pattern")
    search.add_argument("--status", choices=DELIVERY_STATUSES, help="events with a delivery in this status")
    search.add_argument("--since", metavar="ISO", help="at or after this time (ISO-8601)")
    search.add_argument("--until", metavar="ISO", help="before this time (ISO-8601)")
    _paging(search)
    _verb(events, "show", "an event and its delivery to each endpoint").add_argument(
        "event_id", metavar="EVENT_ID"
    )
    _verb(events, "cancel", "cancel a delayed event that is still scheduled").add_argument(
        "event_id", metavar="EVENT_ID"
    )

    schedules = groups.add_parser("schedules", help="recurring events").add_subparsers(
        dest="verb", metavar="VERB", required=True
    )
    create_schedule = _verb(schedules, "create", "send an event on a cron or rate schedule")
    create_schedule.add_argument("event_type", metavar="TYPE")
    _schedule_settings(create_schedule)
    _paging(_verb(schedules, "list", "list schedules"))
    for verb, text in (("show", "show a schedule and its next run"), ("delete", "delete a schedule")):
        _verb(schedules, verb, text).add_argument("schedule_id", metavar="SCHEDULE_ID")
    change_schedule = _verb(schedules, "update", "change a schedule (only the flags given)")
    change_schedule.add_argument("schedule_id", metavar="SCHEDULE_ID")
    change_schedule.add_argument("--type", dest="event_type", help="a new event type")
    _schedule_settings(change_schedule)

    replays = groups.add_parser("replays", help="re-send matching deliveries of a time range").add_subparsers(
        dest="verb", metavar="VERB", required=True
    )
    replay = _verb(replays, "create", "start a replay (it runs in the background)")
    replay.add_argument("--since", required=True, metavar="ISO", help="events at or after this time")
    replay.add_argument("--until", required=True, metavar="ISO", help="events at or before this time")
    replay.add_argument(
        "--type", action="append", dest="types", metavar="TYPE", help="a type or prefix.* (repeat it)"
    )
    replay.add_argument("--status", choices=("failed", "succeeded"), help="deliveries that ended so")
    replay.add_argument("--endpoint", dest="endpoint_id", metavar="ID", help="to this endpoint only")
    _verb(replays, "show", "a replay's progress").add_argument("replay_id", metavar="REPLAY_ID")

    attempts = _verb(groups, "attempts", "delivery attempts of one event or to one endpoint, newest first")
    which = attempts.add_mutually_exclusive_group(required=True)
    which.add_argument("--event", dest="event_id", metavar="ID")
    which.add_argument("--endpoint", dest="endpoint_id", metavar="ID")
    attempts.add_argument("--status", choices=("failed", "succeeded"), help="with --endpoint: only these")
    _paging(attempts)

    tail = _verb(groups, "tail", "follow the tenant's delivery attempts live (Ctrl-C stops)")
    tail.add_argument("--interval", type=seconds, default=1.0, help="seconds between polls (%(default)g)")

    retry = _verb(groups, "retry", "resend an event now, with the same webhook-id")
    retry.add_argument("event_id", metavar="EVENT_ID")
    retry.add_argument("--endpoint", dest="endpoint_id", metavar="ID", help="to this endpoint only")

    recover = _verb(groups, "recover", "resend every delivery to an endpoint that failed since a time")
    recover.add_argument("endpoint_id", metavar="ENDPOINT_ID")
    recover.add_argument("--since", required=True, metavar="ISO", help="ISO-8601, e.g. 2026-11-27T08:00:00Z")

    catalog = groups.add_parser(
        "event-types", help="the event-type catalog (shared by every tenant; writing it is admin only)"
    ).add_subparsers(dest="verb", metavar="VERB", required=True)
    put_type = _verb(catalog, "put", "create or replace an event type (every flag is optional)", tenant=False)
    put_type.add_argument("name", metavar="NAME")
    put_type.add_argument("--description", help="what the event means")
    schema = put_type.add_mutually_exclusive_group()
    schema.add_argument("--schema", type=json_object, metavar="JSON", help="a JSON Schema (2020-12) for data")
    schema.add_argument("--schema-file", metavar="PATH", help="the JSON Schema, read from this file")
    put_type.add_argument(
        "--example", action="append", type=json_object, dest="examples", metavar="JSON",
        help="an example data object (repeat it; test sends use the first)",
    )  # fmt: skip
    put_type.add_argument("--deprecated", action="store_true", help="mark it deprecated")
    _paging(_verb(catalog, "list", "the catalog, by name", tenant=False))
    for verb, text in (("get", "show an event type"), ("delete", "remove an event type")):
        _verb(catalog, verb, text, tenant=False).add_argument("name", metavar="NAME")
    portal = _verb(groups, "portal", "print a fresh signed link to the tenant's portal (a web page)")
    portal.add_argument(
        "--expires-in", type=positive_int, metavar="S", help="seconds the link works, 60-86400 (3600)"
    )
    portal.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        choices=SCOPES,
        help="what it may do (repeat; default: all)",
    )

    dead_letters = groups.add_parser(
        "dead-letters", help="dead-lettered deliveries (admin only)"
    ).add_subparsers(dest="verb", metavar="VERB", required=True)
    _paging(_verb(dead_letters, "list", "dead letters kept for a redrive", tenant=False))
    _verb(dead_letters, "redrive", "move every dead letter back for another round of retries", tenant=False)
    return parser
