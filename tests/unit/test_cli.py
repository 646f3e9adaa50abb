"""The ``hookline`` command without a network: its arguments, its tables and its one-line errors.

Every command runs through ``cli.main.run`` with a client whose transport answers from Python.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from cli import output
from cli.client import JsonObject
from cli.main import run
from tests.unit.fake_transport import Handler, Sent, fake_client


class Ran:
    def __init__(self, code: int, out: str, err: str, sent: list[Sent]) -> None:
        self.code, self.out, self.err, self.sent = code, out, err, sent


def hookline(*argv: str, handler: Handler = lambda sent: (200, {})) -> Ran:
    client, transport = fake_client(handler)
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), client_factory=lambda args: client, out=out, err=err)
    return Ran(code, out.getvalue(), err.getvalue(), transport.sent)


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        hookline(*argv)
    assert exited.value.code == 2
    return capsys.readouterr().err


# --------------------------------------------------------------------------------------------- arguments


def test_endpoints_add_sends_every_flag_given_and_nothing_else() -> None:
    ran = hookline(
        "endpoints", "add", "--tenant", "acme", "--url", "https://example.com/h",
        "--event-type", "order.*", "--event-type", "invoice.paid",
        "--header", "X-Env=prod", "--header", "X-Team=a=b", "--rate-limit", "5", "--disabled",
        handler=lambda sent: (201, {"id": "ep_1"}),
    )  # fmt: skip

    assert ran.code == 0, ran.err
    [sent] = ran.sent
    assert (sent.method, sent.path) == ("POST", "/v1/tenants/acme/endpoints")
    assert sent.body == {
        "url": "https://example.com/h",
        "event_types": ["order.*", "invoice.paid"],
        "headers": {"X-Env": "prod", "X-Team": "a=b"},
        "rate_limit": 5,
        "enabled": False,
    }


def test_the_api_url_goes_before_the_group_and_the_endpoint_url_after_the_verb() -> None:
    captured: dict[str, Any] = {}

    def factory(args: Any) -> Any:
        captured["api_url"] = args.url
        return fake_client(lambda sent: (201, {"id": "ep_1"}))[0]

    code = run(
        ["--url", "http://api.test", "endpoints", "add", "-t", "acme", "--url", "https://example.com/h"],
        client_factory=factory,
        out=io.StringIO(),
        err=io.StringIO(),
    )

    assert code == 0
    assert captured["api_url"] == "http://api.test"


def test_endpoints_update_sends_only_the_changes_and_refuses_none() -> None:
    ran = hookline(
        "endpoints", "update", "-t", "acme", "ep_1", "--enable", "--all-event-types",
        handler=lambda sent: (200, {"id": "ep_1"}),
    )  # fmt: skip
    empty = hookline("endpoints", "update", "-t", "acme", "ep_1")

    assert ran.sent[0].method == "PATCH"
    assert ran.sent[0].body == {"enabled": True, "event_types": None}
    assert (empty.code, empty.sent) == (2, [])
    assert empty.err.startswith("error: nothing to change")


def test_send_takes_a_json_object_and_an_idempotency_key() -> None:
    ran = hookline(
        "send", "-t", "acme", "order.created", "--data", '{"order_id": "o1"}', "--idempotency-key", "k1",
        handler=lambda sent: (202, {"id": "evt_1", "type": "order.created", "timestamp": "t"}),
    )  # fmt: skip

    assert ran.sent[0].body == {"type": "order.created", "data": {"order_id": "o1"}}
    assert ran.sent[0].headers["Idempotency-Key"] == "k1"
    assert ran.out.splitlines()[0].split() == ["id", "evt_1"]


def test_send_without_data_sends_an_empty_object() -> None:
    ran = hookline("send", "-t", "acme", "ping", handler=lambda sent: (202, {"id": "evt_1"}))

    assert ran.sent[0].body == {"type": "ping", "data": {}}


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["send", "-t", "a", "x", "--data", "[1]"], "must be a JSON object"),
        (["send", "-t", "a", "x", "--data", "{oops"], "not valid JSON"),
        (["send", "x"], "--tenant"),
        (["endpoints", "add", "-t", "a", "--url", "https://x", "--header", "nohvalue"], "NAME=VALUE"),
        (["endpoints", "add", "-t", "a", "--url", "https://x", "--rate-limit", "0"], "1 or more"),
        (["keys", "create", "-t", "a", "--name", "ci"], "--scope"),
        (["keys", "create", "-t", "a", "--name", "ci", "--scope", "everything"], "invalid choice"),
        (["events", "list", "-t", "a", "--status", "lost"], "invalid choice"),
        (["attempts", "-t", "a"], "one of the arguments --event --endpoint"),
        (["attempts", "-t", "a", "--event", "e", "--endpoint", "p"], "not allowed with"),
        (["recover", "-t", "a", "ep_1"], "--since"),
        (["tenants", "put", "acme"], "--name"),
        (["events", "list", "-t", "a", "--limit", "5", "--all"], "not allowed with"),
        (["--timeout", "0", "tenants", "get", "a"], "more than 0"),
        (["endpoints", "add", "-t", "a", "--url", "https://x", "--rate-limit", "9" * 5000], "too large"),
    ],
)
def test_bad_arguments_are_usage_errors_before_any_request(
    capsys: pytest.CaptureFixture[str], argv: list[str], complaint: str
) -> None:
    assert complaint in usage_error(capsys, *argv)


def test_status_goes_with_endpoint_attempts_only() -> None:
    ran = hookline("attempts", "-t", "a", "--event", "evt_1", "--status", "failed")

    assert (ran.code, ran.sent) == (2, [])
    assert ran.err == "error: --status goes with --endpoint (an event's attempts are all listed)\n"


def test_keys_create_sends_name_scopes_and_expiry_and_warns_the_key_is_shown_once() -> None:
    answer = {"id": "key_1", "key": "hk_secret", "name": "ci", "scopes": ["events:write"]}
    ran = hookline(
        "keys", "create", "-t", "acme", "--name", "ci", "--scope", "events:write", "--scope", "events:read",
        "--expires-in", "3600", handler=lambda sent: (201, answer),
    )  # fmt: skip

    assert ran.sent[0].body == {"name": "ci", "scopes": ["events:write", "events:read"], "expires_in": 3600}
    assert "hk_secret" in ran.out
    assert "shown only now" in ran.err


def test_events_list_passes_the_search_filters() -> None:
    page = {"data": [], "next_cursor": None, "has_more": False}
    ran = hookline(
        "events", "list", "-t", "acme", "--type", "order.*", "--status", "failed",
        "--since", "2026-11-27T08:00:00Z", "--until", "2026-11-28T08:00:00Z",
        handler=lambda sent: (200, page),
    )  # fmt: skip

    assert ran.sent[0].query == {
        "type": "order.*",
        "status": "failed",
        "since": "2026-11-27T08:00:00Z",
        "until": "2026-11-28T08:00:00Z",
        "limit": "50",
    }
    assert ran.out == "No events.\n"


# --------------------------------------------------------------------------------------------- output


def test_json_prints_the_apis_answer_wherever_the_flag_is() -> None:
    body = {"id": "acme", "name": "Acme", "created_at": "x", "updated_at": "y"}
    before = hookline("--json", "tenants", "get", "acme", handler=lambda sent: (200, body))
    after = hookline("tenants", "get", "acme", "--json", handler=lambda sent: (200, body))

    assert json.loads(before.out) == json.loads(after.out) == body


def test_a_204_prints_a_sentence_or_nothing_with_json() -> None:
    plain = hookline("endpoints", "remove", "-t", "acme", "ep_1", handler=lambda sent: (204, None))
    quiet = hookline("--json", "keys", "revoke", "-t", "acme", "key_1", handler=lambda sent: (204, None))

    assert plain.out == "Removed endpoint ep_1.\n"
    assert (quiet.code, quiet.out) == (0, "")
    assert (quiet.sent[0].method, quiet.sent[0].path) == ("DELETE", "/v1/tenants/acme/keys/key_1")


def test_an_api_error_is_one_line_on_stderr_and_exit_1() -> None:
    error = {"error": {"code": "not_found", "message": "tenant 'nope'\ndoes not exist"}}

    ran = hookline("send", "-t", "nope", "x", handler=lambda sent: (404, error))

    assert ran.code == 1
    assert ran.out == ""
    assert ran.err == "error: not_found: tenant 'nope' does not exist\n"


def test_an_unreachable_api_is_one_line_and_exit_3() -> None:
    import requests

    def refuse(sent: Sent) -> tuple[int, Any]:
        raise requests.ConnectionError("... [Errno 111] Connection refused')")

    ran = hookline("tenants", "get", "a", handler=refuse)

    assert (ran.code, ran.out) == (3, "")
    assert ran.err == "error: cannot reach http://hookline.test: Connection refused\n"


def _endpoint(n: int, **extra: Any) -> JsonObject:
    return {"id": f"ep_{n}", "url": f"https://example.com/{'x' * n}", "event_types": None, "enabled": True,
            "description": None, **extra}  # fmt: skip


def test_lists_are_aligned_tables_with_dashes_for_nothing() -> None:
    page = {"data": [_endpoint(1), _endpoint(12, event_types=["order.*", "a.b"], enabled=False)]}
    ran = hookline("endpoints", "list", "-t", "acme", handler=lambda sent: (200, page | {"has_more": False}))

    lines = ran.out.splitlines()
    assert lines[0].split() == ["ID", "URL", "EVENT", "TYPES", "ENABLED", "DESCRIPTION"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["ep_1", "https://example.com/x", "(all)", "yes", "-"]
    assert lines[3].split() == ["ep_12", "https://example.com/xxxxxxxxxxxx", "order.*,", "a.b", "no", "-"]
    columns = [line.index("ENABLED") if n == 0 else None for n, line in enumerate(lines)]
    assert lines[2][columns[0] :].startswith("yes") and lines[3][columns[0] :].startswith("no")


def test_limit_is_met_exactly_across_pages_and_the_cursor_continues_after_it() -> None:
    def pages(sent: Sent) -> tuple[int, Any]:
        start = int(sent.query.get("cursor") or 0)
        size = int(sent.query["limit"])
        items = [_endpoint(n) for n in range(start, min(start + size, 10))]
        more = start + size < 10
        return 200, {"data": items, "next_cursor": str(start + size) if more else None, "has_more": more}

    ran = hookline("--json", "endpoints", "list", "-t", "a", "--limit", "3", handler=pages)
    everything = hookline("--json", "endpoints", "list", "-t", "a", "--all", handler=pages)
    table = hookline("endpoints", "list", "-t", "a", "--limit", "3", handler=pages)

    shown = json.loads(ran.out)
    assert [item["id"] for item in shown["data"]] == ["ep_0", "ep_1", "ep_2"]
    assert (shown["next_cursor"], shown["has_more"]) == ("3", True)
    assert len(json.loads(everything.out)["data"]) == 10
    assert table.err == "(more: --cursor 3, or --all)\n"


def test_cells_are_one_line_cut_to_width_and_show_values_readably() -> None:
    assert output.cell(None) == "-"
    assert output.cell(True) == "yes"
    assert output.cell(["a", "b"]) == "a, b"
    assert output.cell({"k": [1, 2]}) == '{"k":[1,2]}'
    assert output.cell("line one\nline two") == "line one line two"
    assert output.cell("x" * 100) == "x" * 59 + "…"
    assert output.cell("x" * 100, width=None) == "x" * 100


def test_times_are_shown_in_utc_to_the_second_or_millisecond() -> None:
    assert output.timestamp("2026-11-27T08:00:01.234Z") == "2026-11-27 08:00:01Z"
    assert output.timestamp("2026-11-27T09:00:01.234+01:00", milliseconds=True) == "2026-11-27 08:00:01.234Z"
    assert output.timestamp(None) == "-"
    assert output.timestamp("soon") == "soon"


def test_an_event_shows_its_fields_and_one_row_per_delivery() -> None:
    event = {
        "id": "evt_1", "type": "order.created", "timestamp": "2026-11-27T08:00:00.000Z", "data": {"n": 1},
        "deliveries": [
            {"endpoint_id": "ep_1", "status": "succeeded", "attempts": 1, "last_status_code": 200},
            {"endpoint_id": "ep_2", "status": "retrying", "attempts": 2, "last_status_code": None,
             "last_error_kind": "timeout", "next_attempt_at": "2026-11-27T08:05:00.000Z"},
        ],
    }  # fmt: skip

    text = output.event(event)

    assert text.splitlines()[0].split() == ["id", "evt_1"]
    assert '{"n":1}' in text
    rows = [line.split() for line in text.splitlines()[-2:]]
    assert rows[0][:4] == ["ep_1", "succeeded", "1", "200"]
    assert rows[1][:4] == ["ep_2", "retrying", "2", "timeout"]
    assert output.delivery_summary(event) in {"succeeded 1, retrying 1", "retrying 1, succeeded 1"}


def test_a_tail_line_reads_as_one_sentence_of_facts() -> None:
    attempt = {"event_id": "evt_1", "endpoint_id": "ep_1", "attempt": 2,
               "attempted_at": "2026-11-27T08:00:01.5Z", "outcome": "retry", "status_code": 503,
               "latency_ms": 12}  # fmt: skip

    line = output.attempt_line(attempt, "order.created", "https://example.com/h")

    assert line.split() == ["08:00:01.500Z", "order.created", "evt_1", "->", "https://example.com/h", "#2",
                            "503", "retry", "12", "ms"]  # fmt: skip


# --------------------------------------------------------------------------------------------- the catalog


def test_event_types_put_sends_the_flags_given_with_a_schema_from_a_file(tmp_path: Any) -> None:
    schema = {"type": "object", "required": ["amount"]}
    schema_file = tmp_path / "order.json"
    schema_file.write_text(json.dumps(schema))
    ran = hookline(
        "event-types", "put", "order.created", "--description", "An order was placed.",
        "--schema-file", str(schema_file), "--example", '{"amount": 1}', "--example", '{"amount": 2}',
        handler=lambda sent: (201, {"name": "order.created", **(sent.body or {})}),
    )  # fmt: skip

    assert ran.code == 0, ran.err
    [sent] = ran.sent
    assert (sent.method, sent.path) == ("PUT", "/v1/event-types/order.created")
    assert sent.body == {
        "description": "An order was placed.",
        "schema": schema,
        "examples": [{"amount": 1}, {"amount": 2}],
        "deprecated": False,
    }
    assert ran.out.splitlines()[0].split() == ["name", "order.created"]


def test_event_types_list_get_and_delete() -> None:
    page = {"data": [{"name": "a.b", "schema": {}, "examples": [{}], "deprecated": True}], "has_more": False}
    listed = hookline("event-types", "list", handler=lambda sent: (200, page | {"next_cursor": None}))
    assert listed.sent[0].path == "/v1/event-types"
    assert listed.out.splitlines()[2].split()[:4] == ["a.b", "yes", "1", "yes"]
    assert hookline("event-types", "get", "a.b").sent[0].path == "/v1/event-types/a.b"
    removed = hookline("event-types", "delete", "a.b", handler=lambda sent: (204, None))
    assert (removed.sent[0].method, removed.out.strip()) == ("DELETE", "Removed event type a.b.")


def test_endpoints_add_asks_for_a_v1a_signature() -> None:
    ran = hookline(
        "endpoints", "add", "-t", "acme", "--url", "https://example.com/h", "--signature", "v1a",
        handler=lambda sent: (201, {"id": "ep_1", "signature": "v1a"}),
    )  # fmt: skip
    assert ran.sent[0].body == {"url": "https://example.com/h", "signature": "v1a"}
    assert "signature  v1a" in ran.out


# --------------------------------------------------------------------------------------------- escapes

HOSTILE = "Acme\x1b]0;pwned\x07\x1b[2J\x7f\x9b31m\u202egnp.exe\r"


def _no_raw_controls(text: str) -> None:
    assert not any((ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in text), repr(text)
    assert "\u202e" not in text


@pytest.mark.parametrize(
    ("argv", "body"),
    [
        (("tenants", "get", "acme"), {"id": "acme", "name": HOSTILE, "created_at": "x", "updated_at": "y"}),
        (("keys", "list", "-t", "acme"), {"data": [{"id": "key_1", "name": HOSTILE, "scopes": []}]}),
        (("endpoints", "list", "-t", "acme"), {"data": [{"id": "ep_1", "url": "u", "description": HOSTILE}]}),
        (("endpoints", "show", "-t", "acme", "ep_1"), {"id": "ep_1", "url": "u", "description": HOSTILE}),
    ],
)
def test_terminal_control_characters_from_the_api_are_shown_escaped(
    argv: tuple[str, ...], body: JsonObject
) -> None:
    ran = hookline(*argv, handler=lambda sent: (200, body | {"has_more": False, "next_cursor": None}))
    assert ran.code == 0
    _no_raw_controls(ran.out)
    assert "\\x1b]0;pwned\\x07" in ran.out and "\\u202e" in ran.out
    as_json = hookline("--json", *argv, handler=lambda sent: (200, body))
    _no_raw_controls(as_json.out)
    decoded = json.loads(as_json.out)
    assert {name: value for name, value in decoded.items() if name in body} == body


def test_an_error_message_and_a_tail_line_are_escaped_too() -> None:
    error = {"error": {"code": "not_found", "message": HOSTILE}}
    ran = hookline("send", "-t", "nope", "x", handler=lambda sent: (404, error))
    _no_raw_controls(ran.err)
    line = output.attempt_line(
        {"event_id": HOSTILE, "error_kind": HOSTILE, "outcome": "failed", "attempt": HOSTILE},
        HOSTILE,
        HOSTILE,
    )
    _no_raw_controls(output.printable(line))
