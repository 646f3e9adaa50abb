"""``hookline tail`` without a network: which attempts it shows, once each, and how it stops."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

from cli.client import JsonObject
from cli.main import run
from cli.tail import AttemptFollower, follow
from tests.unit.fake_transport import Handler, Sent, fake_client, routes


class FakeLog:
    """A tenant with endpoints whose delivery logs grow while ``tail`` polls them (newest first)."""

    def __init__(self, endpoints: int) -> None:
        self.logs: dict[str, list[JsonObject]] = {f"ep_{n}": [] for n in range(endpoints)}
        self.clock = 0

    def attempt(self, endpoint_id: str, event_id: str, attempt: int = 1) -> None:
        self.clock += 1
        self.logs[endpoint_id].insert(0, {
            "event_id": event_id, "endpoint_id": endpoint_id, "attempt": attempt,
            "attempted_at": f"2026-11-27T08:{self.clock // 60:02d}:{self.clock % 60:02d}.000Z",
            "outcome": "succeeded", "status_code": 200, "latency_ms": 3,
        })  # fmt: skip

    def handler(self) -> Handler:
        def endpoints(sent: Sent) -> tuple[int, Any]:
            data = [{"id": endpoint_id, "url": f"https://{endpoint_id}.test"} for endpoint_id in self.logs]
            return 200, {"data": data, "next_cursor": None, "has_more": False}

        def log(endpoint_id: str) -> Handler:
            def page(sent: Sent) -> tuple[int, Any]:
                start, size = int(sent.query.get("cursor") or 0), int(sent.query["limit"])
                items = self.logs[endpoint_id][start : start + size]
                more = start + size < len(self.logs[endpoint_id])
                return 200, {
                    "data": items,
                    "next_cursor": str(start + size) if more else None,
                    "has_more": more,
                }

            return page

        table: dict[tuple[str, str], Handler] = {("GET", "/v1/tenants/acme/endpoints"): endpoints}
        for endpoint_id in self.logs:
            table["GET", f"/v1/tenants/acme/endpoints/{endpoint_id}/attempts"] = log(endpoint_id)
        return routes(table)


def test_tail_shows_only_attempts_after_it_started_each_once_oldest_first() -> None:
    log = FakeLog(endpoints=2)
    for n in range(60):  # more history than one page
        log.attempt("ep_0", f"evt_old{n}")
    client, _ = fake_client(log.handler())
    follower = AttemptFollower(client, "acme")

    assert follower.start() == 2
    log.attempt("ep_1", "evt_a")
    log.attempt("ep_0", "evt_b")
    first = follower.poll()
    log.attempt("ep_0", "evt_b", attempt=2)
    second = follower.poll()

    assert [(a["event_id"], a["endpoint_id"], a["attempt"]) for a in first] == [
        ("evt_a", "ep_1", 1),
        ("evt_b", "ep_0", 1),
    ]
    assert [(a["event_id"], a["attempt"]) for a in second] == [("evt_b", 2)]
    assert follower.poll() == []


def test_tail_pages_through_a_burst_and_sees_endpoints_added_later() -> None:
    log = FakeLog(endpoints=1)
    client, _ = fake_client(log.handler())
    follower = AttemptFollower(client, "acme")
    follower.start()
    for n in range(120):
        log.attempt("ep_0", f"evt_{n:03d}")
    log.logs["ep_new"] = []
    client, _ = fake_client(log.handler())
    follower.client = client
    log.attempt("ep_new", "evt_late")

    shown = follower.poll()

    assert len(shown) == 121
    assert shown[-1]["event_id"] == "evt_late"
    assert follower.endpoint_label("ep_new") == "https://ep_new.test"


def test_tail_prints_lines_until_stopped_and_reports_an_outage_once() -> None:
    log = FakeLog(endpoints=1)
    handle = log.handler()
    down = {"now": False}

    def flaky(sent: Sent) -> tuple[int, Any]:
        if down["now"]:
            return 503, {"error": {"code": "service_unavailable", "message": "retry"}}
        return handle(sent)

    client, _ = fake_client(flaky)
    follower = AttemptFollower(client, "acme")
    follower.start()
    shown: list[JsonObject] = []
    warnings: list[str] = []
    script = [
        lambda: log.attempt("ep_0", "evt_1"),
        lambda: down.update(now=True),
        lambda: None,
        lambda: down.update(now=False) or log.attempt("ep_0", "evt_2"),
    ]

    def wait(interval: float) -> bool:  # one scripted step per poll, then stop
        if not script:
            return True
        script.pop(0)()
        return False

    follow(follower, 0.01, shown.append, warnings.append, wait)

    assert [a["event_id"] for a in shown] == ["evt_1", "evt_2"]
    assert len(warnings) == 2
    assert warnings[0].startswith("service_unavailable: retry; still trying")
    assert warnings[1] == "the API answers again"


def test_the_tail_command_stops_cleanly_and_prints_json_lines() -> None:
    log = FakeLog(endpoints=1)
    client, _ = fake_client(log.handler())
    out, err = io.StringIO(), io.StringIO()
    stop = threading.Event()
    runner = threading.Thread(
        target=lambda: results.append(
            run(["tail", "-t", "acme", "--json", "--interval", "0.01"], client_factory=lambda a: client,
                out=out, err=err, stop=stop)
        )
    )  # fmt: skip
    results: list[int] = []
    runner.start()
    try:
        _wait_until(lambda: "Following" in err.getvalue())
        log.attempt("ep_0", "evt_1")
        _wait_until(lambda: "evt_1" in out.getvalue())
    finally:
        stop.set()
        runner.join(timeout=10)

    assert results == [0]
    [line] = out.getvalue().splitlines()
    assert json.loads(line)["event_id"] == "evt_1"


def _wait_until(condition: Any, timeout: float = 10.0) -> None:
    stopped = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        stopped.wait(0.01)
    raise AssertionError("condition not met in time")
