"""cli.client without a network: where it finds the API, what it sends, and how it reads answers."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from cli.client import (
    ApiError,
    ApiUnreachable,
    ConfigurationError,
    HooklineClient,
    Page,
    paginate,
    resolve_connection,
)
from tests.unit.fake_transport import Sent, fake_client

# --------------------------------------------------------------------------------------------- where


def _state_file(tmp_path: Path, pid: int | None = None, url: str = "http://127.0.0.1:3000") -> Path:
    path = tmp_path / "local-stack.json"
    path.write_text(json.dumps({"pid": pid or os.getpid(), "api_url": url, "api_key": "k_stack"}))
    path.chmod(0o600)
    return path


def resolve(url: str | None = None, api_key: str | None = None, env: dict[str, str] | None = None) -> Any:
    """``resolve_connection`` with this test process standing in for the running local stack."""
    return resolve_connection(url, api_key, env, is_local_stack=lambda pid: pid == os.getpid())


def test_flags_win_over_the_environment_and_the_state_file(tmp_path: Path) -> None:
    env = {
        "HOOKLINE_URL": "http://env.test",
        "HOOKLINE_API_KEY": "k_env",
        "HOOKLINE_STATE_FILE": str(_state_file(tmp_path)),
    }

    connection = resolve("http://flag.test/", "k_flag", env)

    assert (connection.url, connection.api_key) == ("http://flag.test", "k_flag")


def test_the_environment_wins_over_the_state_file(tmp_path: Path) -> None:
    env = {"HOOKLINE_URL": "http://env.test", "HOOKLINE_API_KEY": "k_env"}
    env["HOOKLINE_STATE_FILE"] = str(_state_file(tmp_path))

    assert resolve(env=env).url == "http://env.test"
    assert resolve(env=env).api_key == "k_env"


def test_the_running_local_stacks_state_file_gives_url_and_key(tmp_path: Path) -> None:
    env = {"HOOKLINE_STATE_FILE": str(_state_file(tmp_path))}

    connection = resolve(env=env)

    assert (connection.url, connection.api_key) == ("http://127.0.0.1:3000", "k_stack")
    assert connection.source == env["HOOKLINE_STATE_FILE"]


def test_the_state_files_key_goes_only_with_its_own_url(tmp_path: Path) -> None:
    env = {"HOOKLINE_STATE_FILE": str(_state_file(tmp_path))}

    elsewhere = resolve("https://api.example.com", env=env)
    same_stack = resolve("http://127.0.0.1:3000/", env=env)

    assert elsewhere.api_key is None
    assert same_stack.api_key == "k_stack"


def test_a_state_file_left_by_a_stopped_stack_is_ignored(tmp_path: Path) -> None:
    gone = 2**22 + 12345  # above Linux's default pid_max
    env = {"HOOKLINE_STATE_FILE": str(_state_file(tmp_path, pid=gone))}

    with pytest.raises(ConfigurationError, match="no API URL"):
        resolve(env=env)


def test_no_url_anywhere_says_where_to_put_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"--url.*HOOKLINE_URL.*make dev"):
        resolve(env={"HOOKLINE_STATE_FILE": str(tmp_path / "absent.json")})


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o660, 0o606], ids=oct)
def test_a_state_file_others_may_read_or_write_is_ignored(tmp_path: Path, mode: int) -> None:
    path = _state_file(tmp_path)
    path.chmod(mode)
    with pytest.raises(ConfigurationError, match="no API URL"):
        resolve(env={"HOOKLINE_STATE_FILE": str(path)})


def test_a_state_file_naming_a_url_off_this_machine_is_ignored(tmp_path: Path) -> None:
    path = _state_file(tmp_path, url="http://attacker.example:3000")
    with pytest.raises(ConfigurationError, match="no API URL"):
        resolve(env={"HOOKLINE_STATE_FILE": str(path)})


@pytest.mark.parametrize("process", ["init", "this test"])
def test_a_running_process_that_is_not_the_local_stack_does_not_vouch_for_a_state_file(
    tmp_path: Path, process: str
) -> None:
    pid = 1 if process == "init" else os.getpid()
    env = {"HOOKLINE_STATE_FILE": str(_state_file(tmp_path, pid=pid))}
    with pytest.raises(ConfigurationError, match="no API URL"):
        resolve_connection(env=env)  # the real check: pid 1 and pytest are no local stack


def test_a_state_file_planted_in_the_current_directory_is_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / ".aws-sam"
    planted.mkdir()
    _state_file(planted, url="http://127.0.0.1:6666")
    monkeypatch.chdir(tmp_path)
    try:
        connection = resolve(api_key="k_mine", env={})
    except ConfigurationError:
        return
    assert connection.url != "http://127.0.0.1:6666"


def test_a_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="http:// or https://"):
        HooklineClient("127.0.0.1:3000")


# --------------------------------------------------------------------------------------------- what it sends


def test_requests_carry_the_key_a_user_agent_and_the_timeout() -> None:
    client, transport = fake_client(lambda sent: (200, {"id": "acme"}), timeout=7.0)

    client.get_tenant("acme")

    [sent] = transport.sent
    assert (sent.method, sent.path) == ("GET", "/v1/tenants/acme")
    assert sent.headers["Authorization"] == "Bearer k_test"
    assert sent.headers["User-Agent"].startswith("hookline-cli/")
    assert sent.timeout == 7.0


def test_without_a_key_no_authorization_header_is_sent() -> None:
    client, transport = fake_client(lambda sent: (200, {}), api_key=None)

    client.openapi()

    assert "Authorization" not in transport.sent[0].headers
    assert transport.sent[0].path == "/v1/openapi.json"


def test_ids_are_percent_encoded_so_no_id_reaches_another_route() -> None:
    client, transport = fake_client(lambda sent: (200, {}))

    client.get_endpoint("a/../b", "ep 1?x")
    client.get_tenant("org:acme.eu")

    assert transport.sent[0].path == "/v1/tenants/a%2F..%2Fb/endpoints/ep%201%3Fx"
    assert transport.sent[1].path == "/v1/tenants/org:acme.eu"


def test_event_search_sends_only_the_filters_given() -> None:
    client, transport = fake_client(lambda sent: (200, {"data": [], "next_cursor": None, "has_more": False}))

    client.search_events(
        "acme", event_type="order.*", status="failed", since="2026-11-27T08:00:00Z", limit=10
    )

    assert transport.sent[0].query == {
        "type": "order.*",
        "status": "failed",
        "since": "2026-11-27T08:00:00Z",
        "limit": "10",
    }


def test_an_endpoint_is_created_with_only_the_fields_given() -> None:
    client, transport = fake_client(lambda sent: (201, {"id": "ep_1"}))

    client.create_endpoint("acme", "https://example.com/h", event_types=["order.*"], rate_limit=5)
    client.update_endpoint("acme", "ep_1", event_types=None)

    assert transport.sent[0].body == {
        "url": "https://example.com/h",
        "event_types": ["order.*"],
        "rate_limit": 5,
    }
    assert (transport.sent[1].method, transport.sent[1].body) == ("PATCH", {"event_types": None})


def test_send_puts_the_idempotency_key_in_its_header() -> None:
    client, transport = fake_client(lambda sent: (202, {"id": "evt_1"}))

    client.send_event("acme", "order.created", {"n": 1}, idempotency_key="order-1")
    client.send_event("acme", "order.created", {"n": 2})

    assert transport.sent[0].headers["Idempotency-Key"] == "order-1"
    assert transport.sent[0].body == {"type": "order.created", "data": {"n": 1}}
    assert "Idempotency-Key" not in transport.sent[1].headers


@pytest.mark.parametrize(
    ("call", "method", "path", "body"),
    [
        (lambda c: c.retry_event("t", "evt_1"), "POST", "/v1/tenants/t/events/evt_1/retry", None),
        (lambda c: c.retry_event("t", "evt_1", "ep_1"), "POST", "/v1/tenants/t/events/evt_1/retry",
         {"endpoint_id": "ep_1"}),
        (lambda c: c.recover_endpoint("t", "ep_1", "2026-11-27T08:00:00Z"), "POST",
         "/v1/tenants/t/endpoints/ep_1/recover", {"since": "2026-11-27T08:00:00Z"}),
        (lambda c: c.rotate_secret("t", "ep_1"), "POST", "/v1/tenants/t/endpoints/ep_1/secret/rotate", None),
        (lambda c: c.test_endpoint("t", "ep_1"), "POST", "/v1/tenants/t/endpoints/ep_1/test", {}),
        (lambda c: c.test_endpoint("t", "ep_1", "order.created", {"a": 1}), "POST",
         "/v1/tenants/t/endpoints/ep_1/test", {"type": "order.created", "data": {"a": 1}}),
        (lambda c: c.create_key("t", "ci", ["events:write"], expires_in=60), "POST", "/v1/tenants/t/keys",
         {"name": "ci", "scopes": ["events:write"], "expires_in": 60}),
        (lambda c: c.send_events("t", [{"type": "a.b", "data": {}, "idempotency_key": "k"}]), "POST",
         "/v1/tenants/t/events/batch", {"events": [{"type": "a.b", "data": {}, "idempotency_key": "k"}]}),
        (lambda c: c.redrive_dead_letters(), "POST", "/v1/admin/dead-letters/redrive", None),
        (lambda c: c.put_tenant("t", "T"), "PUT", "/v1/tenants/t", {"name": "T"}),
    ],
)  # fmt: skip
def test_each_route_is_called_as_the_contract_says(call: Any, method: str, path: str, body: Any) -> None:
    client, transport = fake_client(lambda sent: (202, {"ok": True}))

    call(client)

    assert (transport.sent[0].method, transport.sent[0].path, transport.sent[0].body) == (method, path, body)


# --------------------------------------------------------------------------------------------- answers


def test_an_error_body_becomes_an_api_error_with_status_code_and_message() -> None:
    client, _ = fake_client(lambda sent: (404, {"error": {"code": "not_found", "message": "no tenant x"}}))

    with pytest.raises(ApiError) as raised:
        client.get_tenant("x")

    assert (raised.value.status, raised.value.code, raised.value.message) == (404, "not_found", "no tenant x")
    assert not raised.value.retryable


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (413, {"message": "Request Entity Too Large"}, "payload_too_large", "Request Entity Too Large"),
        (502, b"<html>Bad Gateway</html>", "bad_gateway", "<html>Bad Gateway</html>"),
        (418, None, "http_418", "Fake"),
    ],
)
def test_answers_without_an_error_body_still_get_a_code(
    status: int, body: Any, code: str, message: str
) -> None:
    client, _ = fake_client(lambda sent: (status, body))

    with pytest.raises(ApiError) as raised:
        client.get_tenant("x")

    assert (raised.value.code, raised.value.message) == (code, message)


def test_throttling_and_faults_are_retryable() -> None:
    assert ApiError(429, "too_many_requests", "").retryable
    assert ApiError(503, "service_unavailable", "").retryable
    assert not ApiError(400, "invalid_request", "").retryable


def test_a_refused_connection_is_unreachable_with_a_short_reason() -> None:
    def refuse(sent: Sent) -> tuple[int, Any]:
        raise requests.ConnectionError(
            "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /v1/tenants/x "
            "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object>: Failed to establish "
            "a new connection: [Errno 111] Connection refused'))"
        )

    client, _ = fake_client(refuse)

    with pytest.raises(ApiUnreachable, match=r"^cannot reach http://hookline.test: Connection refused$"):
        client.get_tenant("x")


def test_a_timeout_is_unreachable_and_names_the_limit() -> None:
    def slow(sent: Sent) -> tuple[int, Any]:
        raise requests.ReadTimeout("read timed out")

    client, _ = fake_client(slow, timeout=2.5)

    with pytest.raises(ApiUnreachable, match=r"no answer from http://hookline.test within 2.5 s"):
        client.get_tenant("x")


def test_a_204_is_none_and_raw_requests_never_raise_on_status() -> None:
    client, _ = fake_client(lambda sent: (204, None))
    failing, _ = fake_client(lambda sent: (400, {"error": {"code": "invalid_request", "message": "no"}}))

    assert client.delete_endpoint("t", "ep_1") is None  # type: ignore[func-returns-value]
    assert failing.request("POST", "/v1/tenants/t/events", json={}).status_code == 400


def test_a_list_that_is_not_a_page_is_an_error_not_a_crash() -> None:
    client, _ = fake_client(lambda sent: (200, {"items": []}))

    with pytest.raises(Exception, match="expected a page"):
        client.list_endpoints("t")


def test_paginate_follows_next_cursor_and_fetches_only_what_is_read() -> None:
    pages = {
        None: Page(data=[{"n": 1}, {"n": 2}], next_cursor="c2", has_more=True),
        "c2": Page(data=[{"n": 3}], next_cursor="c3", has_more=True),
        "c3": Page(data=[{"n": 4}], next_cursor=None, has_more=False),
    }
    asked: list[str | None] = []

    def fetch(cursor: str | None) -> Page:
        asked.append(cursor)
        return pages[cursor]

    first_three = list(itertools.islice(paginate(fetch), 3))
    assert [item["n"] for item in first_three] == [1, 2, 3]
    assert asked == [None, "c2"]
    assert [item["n"] for item in paginate(fetch)] == [1, 2, 3, 4]
