"""The ``hookline`` command through its entry point (``.venv/bin/hookline``), against the running stack.

Commands find the API the ways a user's would: the local stack's state file, ``HOOKLINE_URL`` /
``HOOKLINE_API_KEY``, or flags.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest

from cli.client import ApiError, HooklineClient
from tests.e2e.conftest import Api, Target
from tests.receivers import Receiver, RecordedRequest, Reply

ENTRY_POINT = Path(sys.executable).with_name("hookline")


def hookline_command() -> list[str]:
    """The installed command (``make setup`` puts it in the venv); ``python -m cli`` where it is not."""
    return [str(ENTRY_POINT)] if ENTRY_POINT.exists() else [sys.executable, "-m", "cli"]


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """Runs ``hookline`` as a user would, with the API's URL and key in the environment."""

    def __init__(self, target: Target, **env: str) -> None:
        self.env = {name: value for name, value in os.environ.items() if not name.startswith("HOOKLINE_")}
        self.env |= {"HOOKLINE_URL": target.api_url, "HOOKLINE_API_KEY": target.api_key, **env}

    def __call__(self, *argv: str, ok: bool = True) -> Ran:
        done = subprocess.run(  # noqa: S603 - our own command, with arguments the test chose
            [*hookline_command(), *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        ran = Ran(done.returncode, done.stdout, done.stderr)
        if ok:
            assert ran.code == 0, f"hookline {' '.join(argv)} -> {ran.code}: {ran.err}"
        return ran

    def start(self, *argv: str) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603 - our own command
            [*hookline_command(), *argv],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def cli(target: Target) -> Cli:
    return Cli(target)


def one_error_line(ran: Ran) -> str:
    assert ran.out == ""
    [line] = ran.err.splitlines()
    return line


# ------------------------------------------------------------------------------------------ finding the API


def test_the_running_local_stack_is_found_through_its_state_file(local_target: Target, tenant: str) -> None:
    assert local_target.process is not None
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOOKLINE_")}
    env["HOOKLINE_STATE_FILE"] = str(local_target.process.state_file)

    done = subprocess.run(  # noqa: S603 - our own command
        [*hookline_command(), "--json", "tenants", "get", tenant],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == tenant


def test_flags_override_the_environment(target: Target, tenant: str) -> None:
    cli = Cli(target, HOOKLINE_URL="http://127.0.0.1:9", HOOKLINE_API_KEY="wrong")

    ran = cli("--url", target.api_url, "--api-key", target.api_key, "tenants", "get", tenant)

    assert ran.out.splitlines()[0].split() == ["id", tenant]


# --------------------------------------------------------------------------------------------- errors


def test_an_api_error_is_one_line_and_a_non_zero_exit(cli: Cli) -> None:
    ran = cli("endpoints", "list", "--tenant", "no-such-tenant-anywhere", ok=False)

    assert ran.code == 1
    assert one_error_line(ran).startswith("error: not_found: ")


def test_a_wrong_key_is_one_unauthorized_line(target: Target, tenant: str) -> None:
    ran = Cli(target, HOOKLINE_API_KEY="not-a-key")("tenants", "get", tenant, ok=False)

    assert ran.code == 1
    assert one_error_line(ran).startswith("error: unauthorized: ")


def test_an_unreachable_api_is_one_clear_line(target: Target) -> None:
    ran = Cli(target, HOOKLINE_URL="http://127.0.0.1:9")("tenants", "get", "x", ok=False)

    assert ran.code == 3
    assert one_error_line(ran) == "error: cannot reach http://127.0.0.1:9: Connection refused"


# ---------------------------------------------------------------------------------------- what exists today


def test_tenants_and_endpoints_from_creation_to_removal(cli: Cli) -> None:
    tenant = f"cli-{os.urandom(4).hex()}"
    assert cli("tenants", "put", tenant, "--name", "CLI Tenant").out.splitlines()[1].split() == [
        "name", "CLI", "Tenant",
    ]  # fmt: skip
    added = cli(
        "--json", "endpoints", "add", "--tenant", tenant, "--url", "https://example.com/hooks",
        "--event-type", "order.*", "--description", "orders", "--rate-limit", "5",
    ).json()  # fmt: skip
    endpoint_id = added["id"]
    assert (added["event_types"], added["description"], added["rate_limit"]) == (["order.*"], "orders", 5)

    listed = cli("endpoints", "list", "--tenant", tenant).out.splitlines()
    assert listed[0].split()[:2] == ["ID", "URL"]
    assert listed[2].split()[:3] == [endpoint_id, "https://example.com/hooks", "order.*"]
    updated = cli(
        "--json", "endpoints", "update", "--tenant", tenant, endpoint_id, "--disable", "--all-event-types"
    )
    assert (updated.json()["enabled"], updated.json()["event_types"]) == (False, None)
    assert "(all)" in cli("endpoints", "show", "--tenant", tenant, endpoint_id).out
    secret = cli("--json", "endpoints", "secret", "--tenant", tenant, endpoint_id).json()["secret"]
    rotated = cli("endpoints", "rotate", "--tenant", tenant, endpoint_id, "--json").json()["secret"]
    assert secret.startswith("whsec_") and rotated.startswith("whsec_") and rotated != secret

    assert (
        cli("endpoints", "remove", "--tenant", tenant, endpoint_id).out
        == f"Removed endpoint {endpoint_id}.\n"
    )
    gone = cli("endpoints", "show", "--tenant", tenant, endpoint_id, ok=False)
    assert one_error_line(gone).startswith("error: not_found: ")
    assert cli("tenants", "delete", tenant).out == f"Deleted tenant {tenant}.\n"


class FailFirst:
    """Answers 503 to each event's first delivery, then 200."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply:
        with self.lock:
            event_id = request.headers["webhook-id"]
            first = event_id not in self.seen
            self.seen.add(event_id)
        return Reply(503 if first else 200)


def test_send_show_attempts_retry_and_recover(local_target: Target, cli: Cli, api: Api, tenant: str) -> None:
    since = datetime.now(UTC).isoformat()
    with Receiver(FailFirst()) as receiver:
        endpoint_id, _ = api.endpoint(tenant, receiver.url + "/hook", description="flaky")
        first = cli("--json", "send", "--tenant", tenant, "order.created", "--data", '{"n": 1}',
                    "--idempotency-key", "order-1").json()  # fmt: skip
        again = cli("--json", "send", "--tenant", tenant, "order.created", "--data", '{"n": 1}',
                    "--idempotency-key", "order-1").json()  # fmt: skip
        assert again["id"] == first["id"]
        api.wait_settled(tenant, first["id"])

        shown = cli("events", "show", "--tenant", tenant, first["id"]).out
        attempts = cli("--json", "attempts", "--tenant", tenant, "--event", first["id"]).json()["data"]
        failed = cli(
            "--json", "attempts", "--tenant", tenant, "--endpoint", endpoint_id, "--status", "failed"
        )
        retried = cli("--json", "retry", "--tenant", tenant, first["id"], "--endpoint", endpoint_id).json()
        receiver.wait_for_requests(3, timeout=15)
        recovered = cli("--json", "recover", "--tenant", tenant, endpoint_id, "--since", since).json()

    assert '{"n":1}' in shown
    assert [line.split()[:4] for line in shown.splitlines() if line.startswith(endpoint_id)] == [
        [endpoint_id, "succeeded", "2", "200"]
    ]
    assert sorted((a["attempt"], a["status_code"]) for a in attempts) == [(1, 503), (2, 200)]
    assert [(a["attempt"], a["status_code"]) for a in failed.json()["data"]] == [(1, 503)]
    assert retried["endpoint_ids"] == [endpoint_id]
    assert recovered["endpoint_id"] == endpoint_id


def test_dead_letters_list_and_redrive(cli: Cli) -> None:
    listed = cli("--json", "dead-letters", "list", "--limit", "5").json()

    assert set(listed) == {"data", "next_cursor", "has_more"}
    assert cli("--json", "dead-letters", "redrive").json()["status"] == "queued"


# --------------------------------------------------------------------------------------------- tail


class Lines:
    """A child's output lines, read by a thread, waited for with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def until(self, predicate: Any, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while not predicate(self.seen):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"not seen within {timeout} s; got {self.seen}")
            try:
                self.seen.append(self.lines.get(timeout=remaining))
            except queue.Empty:
                continue
        return self.seen


@pytest.fixture
def tails() -> Iterator[list[tuple[subprocess.Popen[str], Lines, Lines]]]:
    started: list[tuple[subprocess.Popen[str], Lines, Lines]] = []
    yield started
    for process, _, _ in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def start_tail(cli: Cli, tenant: str, *flags: str) -> tuple[subprocess.Popen[str], Lines, Lines]:
    process = cli.start("tail", "--tenant", tenant, "--interval", "0.2", *flags)
    assert process.stdout is not None and process.stderr is not None
    out, err = Lines(process.stdout), Lines(process.stderr)
    err.until(lambda lines: any(line.startswith("Following delivery attempts") for line in lines))
    return process, out, err


def test_tail_shows_each_attempt_once_as_it_happens_and_stops_on_ctrl_c(
    local_target: Target, cli: Cli, api: Api, tenant: str, tails: list[Any]
) -> None:
    with Receiver(FailFirst()) as flaky, Receiver() as healthy:
        flaky_id, _ = api.endpoint(tenant, flaky.url, description="flaky")
        healthy_id, _ = api.endpoint(tenant, healthy.url, description="healthy")
        api.wait_settled(tenant, api.send(tenant, "before.tail", {})["id"])  # history tail must not show
        as_json = start_tail(cli, tenant, "--json")
        as_text = start_tail(cli, tenant)
        tails += [as_json, as_text]

        event_id = api.send(tenant, "order.created", {"n": 1})["id"]
        expected = {(event_id, flaky_id, 1), (event_id, flaky_id, 2), (event_id, healthy_id, 1)}
        api.wait_settled(tenant, event_id)
        # A marker: once its attempt shows, any repeat of the earlier ones would have shown too.
        marker_id = api.send(tenant, "marker.sent", {})["id"]
        json_lines = as_json[1].until(lambda lines: any(marker_id in line for line in lines))
        text_lines = as_text[1].until(lambda lines: any(marker_id in line for line in lines))

    attempts = [json.loads(line) for line in json_lines]
    before_marker = [
        (a["event_id"], a["endpoint_id"], a["attempt"]) for a in attempts if a["event_id"] != marker_id
    ]
    assert sorted(before_marker) == sorted(expected)
    order = [(a["endpoint_id"], a["attempt"]) for a in attempts if a["endpoint_id"] == flaky_id]
    assert order[:2] == [(flaky_id, 1), (flaky_id, 2)]
    assert {(a["status_code"], a["outcome"]) for a in attempts if a["event_id"] == event_id} == {
        (503, "retry"), (200, "succeeded"),
    }  # fmt: skip
    event_lines = [line for line in text_lines if event_id in line]
    assert len(event_lines) == 3
    assert all("order.created" in line for line in event_lines)
    assert sorted(line.split("#", 1)[1].split()[1] for line in event_lines) == ["200", "200", "503"]
    assert sum("-> flaky" in line for line in event_lines) == 2

    for process, _, err in (as_json, as_text):
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert not any("Traceback" in line for line in err.seen)


# ------------------------------------------------------------------------------------------- issue 9 routes


def test_keys_are_created_listed_used_and_revoked(target: Target, cli: Cli, tenant: str) -> None:
    created = cli(
        "--json", "keys", "create", "--tenant", tenant, "--name", "ci", "--scope", "events:write"
    ).json()
    assert created["id"].startswith("key_") and created["key"].startswith("hk_")
    assert created["scopes"] == ["events:write"]

    listed = cli("--json", "keys", "list", "--tenant", tenant).json()["data"]
    assert [key["id"] for key in listed] == [created["id"]]
    assert "key" not in listed[0]
    as_tenant = Cli(target, HOOKLINE_API_KEY=created["key"])
    assert as_tenant("--json", "send", "--tenant", tenant, "order.created").json()["id"].startswith("evt_")
    forbidden = as_tenant("endpoints", "list", "--tenant", tenant, ok=False)
    assert one_error_line(forbidden).startswith("error: forbidden: ")

    assert cli("keys", "revoke", "--tenant", tenant, created["id"]).out == f"Revoked key {created['id']}.\n"
    revoked = as_tenant("send", "--tenant", tenant, "order.created", ok=False)
    assert one_error_line(revoked).startswith("error: unauthorized: ")


def test_events_list_searches_newest_first_with_filters(cli: Cli, api: Api, tenant: str) -> None:
    since = datetime.now(UTC).isoformat()
    sent = [
        api.send(tenant, event_type, {})["id"]
        for event_type in ("order.created", "user.created", "order.paid")
    ]
    for event_id in sent:  # the search finds an event once dispatch has recorded it
        api.wait_settled(tenant, event_id)

    everything = cli("--json", "events", "list", "--tenant", tenant, "--since", since).json()
    orders = cli("--json", "events", "list", "--tenant", tenant, "--type", "order.*", "--limit", "1").json()
    table = cli("events", "list", "--tenant", tenant, "--type", "user.created").out.splitlines()

    assert [event["id"] for event in everything["data"]] == sent[::-1]
    assert [event["id"] for event in orders["data"]] == [sent[2]]
    assert orders["has_more"] is True and orders["next_cursor"]
    assert table[2].split()[:2] == [sent[1], "user.created"]


def test_endpoints_test_delivers_an_example_to_that_endpoint_only(
    local_target: Target, cli: Cli, api: Api, tenant: str
) -> None:
    with Receiver() as tested, Receiver() as other:
        endpoint_id, _ = api.endpoint(tenant, tested.url)
        api.endpoint(tenant, other.url)

        accepted = cli("--json", "endpoints", "test", "--tenant", tenant, endpoint_id).json()
        [request] = tested.wait_for_requests(1, timeout=15)
        api.wait_settled(tenant, accepted["id"])
        # A marker to both: once the other endpoint has it, a stray test delivery would have arrived too.
        marker = api.send(tenant, "marker.sent", {})["id"]
        [seen_by_other] = other.wait_for_requests(1, timeout=15)

    assert accepted["id"].startswith("evt_")
    assert request.headers["webhook-id"] == accepted["id"]
    assert seen_by_other.headers["webhook-id"] == marker


def test_batch_ingest_answers_each_event_in_order(api: Api, tenant: str) -> None:
    answer = api.client.send_events(
        tenant, [{"type": "order.created", "data": {"n": 1}}, {"type": "", "data": {}}]
    )

    first, second = answer["data"]
    assert first["status"] == 202 and first["id"].startswith("evt_")
    assert second["status"] == 400 and second["error"]["code"] == "invalid_request"


def test_the_openapi_document_is_served_without_a_key(target: Target) -> None:
    try:
        document = HooklineClient(target.api_url, api_key=None).openapi()
    except ApiError as exc:
        pytest.fail(f"GET /v1/openapi.json: {exc}")

    assert document["openapi"].startswith("3.1")
    assert any("/events" in path for path in document["paths"])
