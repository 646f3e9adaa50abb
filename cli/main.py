"""``hookline``: the v1 API from a shell. Tables by default, the API's own JSON with ``--json``.

    hookline [--url URL] [--api-key KEY] [--json] GROUP VERB [ARGS]

Any error is one line on stderr (``error: <code>: <message>`` for the API's) and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from cli import output
from cli.client import (
    ApiError,
    ApiUnreachable,
    ConfigurationError,
    EndpointChanges,
    EndpointSettings,
    HooklineClient,
    HooklineError,
    Page,
)
from cli.parser import MAX_PAGE, build_parser
from cli.tail import AttemptFollower, follow

EXIT_API_ERROR = 1
EXIT_USAGE = 2  # as argparse's own
EXIT_UNREACHABLE = 3

type ClientFactory = Callable[[argparse.Namespace], HooklineClient]


class UsageError(Exception):
    """A command line that argparse accepts but that asks for nothing sensible."""


@dataclass
class Shown:
    """What a command shows: the API's JSON (for ``--json``) and its plain-text form."""

    body: Any
    text: str
    note: str | None = None  # for people only: goes to stderr, so stdout stays the table


@dataclass
class Context:
    args: argparse.Namespace
    client: HooklineClient
    out: TextIO
    err: TextIO
    stop: threading.Event


# --------------------------------------------------------------------------------------------- helpers


def collect(fetch: Callable[[int, str | None], Page], args: argparse.Namespace) -> Page:
    """Pages until ``--limit`` items (or all of them with ``--all``), as one page-shaped answer whose
    ``next_cursor`` continues exactly where the shown items end."""
    wanted: int | None = None if args.all else args.limit
    items: list[dict[str, Any]] = []
    cursor: str | None = args.cursor
    while True:
        size = MAX_PAGE if wanted is None else min(MAX_PAGE, wanted - len(items))
        page = fetch(size, cursor)
        items += page["data"]
        cursor = page["next_cursor"] if page["has_more"] else None
        if cursor is None or (wanted is not None and len(items) >= wanted):
            return Page(data=items, next_cursor=cursor, has_more=cursor is not None)


def listing(page: Page, render: Callable[[Sequence[Mapping[str, Any]]], str], what: str) -> Shown:
    if not page["data"]:
        return Shown(page, f"No {what}.")
    note = f"(more: --cursor {page['next_cursor']}, or --all)" if page["has_more"] else None
    return Shown(page, render(page["data"]), note)


def done(message: str) -> Shown:
    """A route that answers 204: nothing for ``--json``, one sentence otherwise."""
    return Shown(None, message)


# --------------------------------------------------------------------------------------------- commands


def tenants(ctx: Context) -> Shown:
    args, client = ctx.args, ctx.client
    if args.verb == "put":
        body = client.put_tenant(args.tenant_id, args.name)
        return Shown(body, output.tenant(body))
    if args.verb == "get":
        body = client.get_tenant(args.tenant_id)
        return Shown(body, output.tenant(body))
    client.delete_tenant(args.tenant_id)
    return done(f"Deleted tenant {args.tenant_id}.")


def fill_endpoint_settings(args: argparse.Namespace, settings: EndpointSettings) -> None:
    """Copy the endpoint flags given (``add`` and ``update`` share them); absent flags stay out."""
    if args.event_types is not None:
        settings["event_types"] = args.event_types
    if getattr(args, "all_event_types", False):
        settings["event_types"] = None
    if args.description is not None:
        settings["description"] = args.description
    if args.filter is not None:
        settings["filter"] = args.filter
    if args.headers is not None:
        settings["headers"] = dict(args.headers)
    if args.rate_limit is not None:
        settings["rate_limit"] = args.rate_limit


def endpoints(ctx: Context) -> Shown:
    args, client, tenant = ctx.args, ctx.client, ctx.args.tenant
    if args.verb == "add":
        settings = EndpointSettings()
        fill_endpoint_settings(args, settings)
        if args.disabled:
            settings["enabled"] = False
        body = client.create_endpoint(
            tenant, args.endpoint_url, secret=args.secret, signature=args.signature, **settings
        )
        return Shown(body, output.endpoint(body))
    if args.verb == "list":
        page = collect(lambda size, cursor: client.list_endpoints(tenant, limit=size, cursor=cursor), args)
        return listing(page, output.endpoints, "endpoints")
    if args.verb == "show":
        body = client.get_endpoint(tenant, args.endpoint_id)
        return Shown(body, output.endpoint(body))
    if args.verb == "update":
        changes = EndpointChanges()
        fill_endpoint_settings(args, changes)
        if args.endpoint_url is not None:
            changes["url"] = args.endpoint_url
        if args.enabled is not None:
            changes["enabled"] = args.enabled
        if not changes:
            raise UsageError("nothing to change: give at least one of the flags (see --help)")
        body = client.update_endpoint(tenant, args.endpoint_id, **changes)
        return Shown(body, output.endpoint(body))
    if args.verb == "remove":
        client.delete_endpoint(tenant, args.endpoint_id)
        return done(f"Removed endpoint {args.endpoint_id}.")
    if args.verb == "secret":
        body = client.endpoint_secret(tenant, args.endpoint_id)
        return Shown(body, output.fields(list(body.items())))
    if args.verb == "rotate":
        body = client.rotate_secret(tenant, args.endpoint_id, args.secret)
        return Shown(body, output.fields(list(body.items())))
    body = client.test_endpoint(tenant, args.endpoint_id, args.event_type, args.data)
    return Shown(body, output.fields(list(body.items())))


def keys(ctx: Context) -> Shown:
    args, client, tenant = ctx.args, ctx.client, ctx.args.tenant
    if args.verb == "create":
        body = client.create_key(tenant, args.name, args.scopes, expires_in=args.expires_in)
        note = "The key is shown only now: store it somewhere safe."
        return Shown(body, output.fields(list(body.items())), note)
    if args.verb == "list":
        page = collect(lambda size, cursor: client.list_keys(tenant, limit=size, cursor=cursor), args)
        return listing(page, output.keys, "keys")
    client.revoke_key(tenant, args.key_id)
    return done(f"Revoked key {args.key_id}.")


def send(ctx: Context) -> Shown:
    args = ctx.args
    body = ctx.client.send_event(
        args.tenant,
        args.event_type,
        args.data,
        idempotency_key=args.idempotency_key,
        ordering_key=args.ordering_key,
        deliver_at=args.deliver_at,
    )
    return Shown(body, output.fields(list(body.items())))


def events(ctx: Context) -> Shown:
    args, client, tenant = ctx.args, ctx.client, ctx.args.tenant
    if args.verb == "show":
        body = client.get_event(tenant, args.event_id)
        return Shown(body, output.event(body))
    if args.verb == "cancel":
        client.cancel_event(tenant, args.event_id)
        return done(f"Cancelled event {args.event_id}.")
    filters = {"event_type": args.event_type, "status": args.status, "since": args.since, "until": args.until}
    page = collect(
        lambda size, cursor: client.search_events(tenant, limit=size, cursor=cursor, **filters), args
    )
    return listing(page, output.events, "events")


def attempts(ctx: Context) -> Shown:
    args, client, tenant = ctx.args, ctx.client, ctx.args.tenant
    if args.event_id is not None:
        if args.status is not None:
            raise UsageError("--status goes with --endpoint (an event's attempts are all listed)")
        page = collect(
            lambda size, cursor: client.list_event_attempts(tenant, args.event_id, limit=size, cursor=cursor),
            args,
        )
    else:
        page = collect(
            lambda size, cursor: client.list_endpoint_attempts(
                tenant, args.endpoint_id, status=args.status, limit=size, cursor=cursor
            ),
            args,
        )
    return listing(page, output.attempts, "attempts")


_SCHEDULE_FLAGS = ("cron", "rate", "data", "timezone", "ordering_key", "start_at", "end_at", "enabled")


def schedules(ctx: Context) -> Shown:
    args, client, tenant = ctx.args, ctx.client, ctx.args.tenant
    if args.verb in {"create", "update"}:
        fields = {name: getattr(args, name) for name in _SCHEDULE_FLAGS if getattr(args, name) is not None}
        if args.event_type is not None:
            fields["type"] = args.event_type
        if args.verb == "create":
            body = client.create_schedule(tenant, fields)
        elif not fields:
            raise UsageError("nothing to change: give at least one of the flags (see --help)")
        else:
            body = client.update_schedule(tenant, args.schedule_id, fields)
        return Shown(body, output.fields(list(body.items())))
    if args.verb == "list":
        page = collect(lambda size, cursor: client.list_schedules(tenant, limit=size, cursor=cursor), args)
        return listing(page, output.schedules, "schedules")
    if args.verb == "show":
        body = client.get_schedule(tenant, args.schedule_id)
        return Shown(body, output.fields(list(body.items())))
    client.delete_schedule(tenant, args.schedule_id)
    return done(f"Deleted schedule {args.schedule_id}.")


def replays(ctx: Context) -> Shown:
    args, client, tenant = ctx.args, ctx.client, ctx.args.tenant
    if args.verb == "create":
        request = {"since": args.since, "until": args.until}
        for name in ("types", "status", "endpoint_id"):
            if getattr(args, name) is not None:
                request[name] = getattr(args, name)
        body = client.create_replay(tenant, request)
    else:
        body = client.get_replay(tenant, args.replay_id)
    return Shown(body, output.fields(list(body.items())))


def retry(ctx: Context) -> Shown:
    body = ctx.client.retry_event(ctx.args.tenant, ctx.args.event_id, ctx.args.endpoint_id)
    return Shown(body, output.fields(list(body.items())))


def recover(ctx: Context) -> Shown:
    body = ctx.client.recover_endpoint(ctx.args.tenant, ctx.args.endpoint_id, ctx.args.since)
    return Shown(body, output.fields(list(body.items())))


def event_types(ctx: Context) -> Shown:
    args, client = ctx.args, ctx.client
    if args.verb == "put":
        body = client.put_event_type(args.name, event_type_body(args))
        return Shown(body, output.event_type(body))
    if args.verb == "get":
        body = client.get_event_type(args.name)
        return Shown(body, output.event_type(body))
    if args.verb == "list":
        page = collect(lambda size, cursor: client.list_event_types(limit=size, cursor=cursor), args)
        return listing(page, output.event_types, "event types")
    client.delete_event_type(args.name)
    return done(f"Removed event type {args.name}.")


def event_type_body(args: argparse.Namespace) -> dict[str, Any]:
    """The PUT body from the flags given (a PUT replaces the whole entry: absent flags mean none)."""
    body: dict[str, Any] = {"deprecated": args.deprecated}
    if args.description is not None:
        body["description"] = args.description
    if args.schema_file is not None:
        try:
            with open(args.schema_file, encoding="utf-8") as schema_file:
                body["schema"] = json.load(schema_file)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--schema-file: {exc}") from exc
    elif args.schema is not None:
        body["schema"] = args.schema
    if args.examples:
        body["examples"] = args.examples
    return body


def portal(ctx: Context) -> Shown:
    args = ctx.args
    body = ctx.client.create_portal_session(args.tenant, expires_in=args.expires_in, scopes=args.scopes)
    return Shown(body, str(body["url"]), f"(works until {body['expires_at']}; keep it private: it signs in)")


def dead_letters(ctx: Context) -> Shown:
    client = ctx.client
    if ctx.args.verb == "list":
        page = collect(lambda size, cursor: client.list_dead_letters(limit=size, cursor=cursor), ctx.args)
        return listing(page, output.dead_letters, "dead letters")
    body = client.redrive_dead_letters()
    return Shown(body, output.fields(list(body.items())))


def tail(ctx: Context) -> Shown | None:
    args = ctx.args
    follower = AttemptFollower(ctx.client, args.tenant)
    count = follower.start()  # a mistyped tenant fails here (404), not as an endless quiet
    print(
        output.printable(
            f"Following delivery attempts for tenant {args.tenant} ({count} endpoint(s)); Ctrl-C stops."
        ),
        file=ctx.err,
        flush=True,
    )

    def emit(attempt: dict[str, Any]) -> None:
        if args.json:
            line = json.dumps(attempt, separators=(",", ":"))
        else:
            event_id = str(attempt.get("event_id"))
            endpoint = follower.endpoint_label(str(attempt.get("endpoint_id")))
            width = follower.label_width()
            line = output.attempt_line(attempt, follower.event_type(event_id), endpoint, width)
        print(output.printable(line), file=ctx.out, flush=True)

    def warn(message: str) -> None:
        print(output.printable(f"warning: {message}"), file=ctx.err, flush=True)

    follow(follower, args.interval, emit, warn, ctx.stop.wait)
    return None


COMMANDS: dict[str, Callable[[Context], Shown | None]] = {
    "tenants": tenants,
    "endpoints": endpoints,
    "keys": keys,
    "send": send,
    "events": events,
    "attempts": attempts,
    "tail": tail,
    "retry": retry,
    "recover": recover,
    "event-types": event_types,
    "portal": portal,
    "schedules": schedules,
    "replays": replays,
    "dead-letters": dead_letters,
}


# --------------------------------------------------------------------------------------------- running


def default_client(args: argparse.Namespace) -> HooklineClient:
    return HooklineClient.from_environment(args.url, args.api_key, timeout=args.timeout)


def _one_line(text: str) -> str:
    return output.printable(" ".join(text.split()))


def run(
    argv: Sequence[str] | None = None,
    *,
    client_factory: ClientFactory = default_client,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        ctx = Context(args, client_factory(args), out, err, stop or threading.Event())
        shown = COMMANDS[args.group](ctx)
    except ApiError as exc:
        print(_one_line(f"error: {exc.code}: {exc.message}"), file=err)
        return EXIT_API_ERROR
    except (ApiUnreachable, ConfigurationError) as exc:
        print(_one_line(f"error: {exc}"), file=err)
        return EXIT_UNREACHABLE
    except HooklineError as exc:
        print(_one_line(f"error: {exc}"), file=err)
        return EXIT_API_ERROR
    except UsageError as exc:
        print(_one_line(f"error: {exc}"), file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C: the natural end of ``tail``, a clean stop for anything else
        print(file=err)
        return 0 if args.group == "tail" else 130
    if shown is not None:
        if args.json:
            if shown.body is not None:
                print(output.json_text(shown.body), file=out)
        else:
            print(output.printable(shown.text), file=out)
            if shown.note:
                print(output.printable(shown.note), file=err)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except BrokenPipeError:  # ``hookline ... | head``: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 0


__all__ = ["Shown", "UsageError", "collect", "main", "run"]
