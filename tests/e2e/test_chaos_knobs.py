"""The local stack's chaos-run knobs, through a stack of their own: the control server lists workers,
a worker killed mid-invocation is written to the crash log with the records it held, and those records
come back after ``--crashed-batch-visibility`` seconds instead of the queue's six minutes.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Api, Target, start_local_stack
from tests.receivers import Receiver, RecordedRequest, Reply
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def chaos_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if os.environ.get("AWS_SAM_STACK_NAME"):
        pytest.skip("the chaos knobs belong to the local stack")
    target = start_local_stack(tmp_path_factory.mktemp("chaos-stack"), "--crashed-batch-visibility", "1")
    assert target.process is not None
    try:
        yield target
    finally:
        assert target.process.stop() == 0


def _state(target: Target) -> dict[str, Any]:
    assert target.process is not None and target.process.info is not None
    return target.process.info.state


def _busy_dispatch_workers(control_url: str) -> list[int]:
    workers = requests.get(f"{control_url}/workers", timeout=10).json()["functions"]["dispatch"]
    return [worker["pid"] for worker in workers if worker["busy"]]


def test_the_control_server_lists_every_functions_workers(chaos_target: Target) -> None:
    state = _state(chaos_target)

    functions = requests.get(f"{state['control_url']}/workers", timeout=10).json()["functions"]

    assert set(functions) == {"ingest", "dispatch", "dlq_handler"}
    pids = [worker["pid"] for workers in functions.values() for worker in workers]
    assert pids and all(isinstance(pid, int) for pid in pids)
    assert Path(state["crash_log"]).name.endswith(".crashes.jsonl")
    assert state["aws_faults_url"] is None  # no --inject-aws-faults: the functions use the clean port
    assert state["aws_function_endpoint_url"] == state["aws_endpoint_url"]


def test_a_killed_dispatch_worker_is_logged_with_its_records_which_come_back_quickly(
    chaos_target: Target,
) -> None:
    api = Api(chaos_target)
    state = _state(chaos_target)
    held = threading.Event()
    release = threading.Event()

    def hold_the_first_request(request: RecordedRequest) -> Reply:
        if not held.is_set():
            held.set()
            release.wait(30)
        return Reply(200)

    with Receiver(hold_the_first_request) as receiver:
        tenant = api.tenant()
        api.endpoint(tenant, receiver.url + "/hook")
        event_id = api.send(tenant, "order.created", {"n": 1})["id"]
        assert held.wait(30), "the delivery never arrived"
        [pid] = _busy_dispatch_workers(state["control_url"])

        os.kill(pid, signal.SIGKILL)
        release.set()

        crash = _wait_for_crash(state["control_url"], event_id)
        # With the queue's 360 s visibility timeout this would take six minutes.
        requests_seen = receiver.wait_for_requests(2, timeout=30)
    assert crash["function"] == "dispatch"
    assert crash["worker_pid"] == pid
    assert crash["error_type"] == "Runtime.ExitError"
    assert {request.headers["webhook-id"] for request in requests_seen} == {event_id}
    logged = [json.loads(line) for line in Path(state["crash_log"]).read_text().splitlines()]
    assert crash in logged
    assert api.wait_settled(tenant, event_id)["deliveries"][0]["status"] == "succeeded"


def _wait_for_crash(control_url: str, event_id: str, timeout: float = 30.0) -> dict[str, Any]:
    def crash_of_the_event() -> dict[str, Any] | None:
        for crash in requests.get(f"{control_url}/crashes", timeout=10).json()["crashes"]:
            if any(event_id in (record["body"] or "") for record in crash["records"]):
                return dict(crash)
        return None

    return wait_until(crash_of_the_event, timeout, f"a crash record holds {event_id}", poll=0.1)
