"""A stack that blocks private targets (as a deployed one does by default) refuses loopback endpoints,
and Ctrl-C stops every process the local stack started.

Locally this module starts its own stack with ``--block-private-targets``; against a deployed stack it
uses that one (its default AllowedPrivateCidrs is empty).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.client import ApiError
from local_stack.process import pid_alive
from tests.e2e.conftest import Api, Target, start_local_stack
from tests.receivers import Receiver
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def blocking_target(target: Target, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if not target.local:
        yield target
        return
    blocking = start_local_stack(Path(tmp_path_factory.mktemp("blocking")), "--block-private-targets")
    assert blocking.process is not None
    try:
        yield blocking
    finally:
        blocking.process.stop()


@pytest.fixture
def blocking_api(blocking_target: Target) -> Api:
    return Api(blocking_target)


def test_a_loopback_ip_endpoint_is_refused_at_registration(blocking_api: Api) -> None:
    tenant = blocking_api.tenant()
    for url in ("https://127.0.0.1:8443/hook", "https://[::1]/hook", "https://169.254.169.254/latest"):
        response = blocking_api.request("POST", f"/v1/tenants/{tenant}/endpoints", json={"url": url})

        assert response.status_code == 400, (url, response.text)
        assert response.json()["error"]["code"] == "invalid_request"


def _loopback_host_name() -> str | None:
    """A name other than ``localhost`` that resolves to loopback here (usually the machine's own name)."""
    name = socket.gethostname()
    try:
        address = ipaddress.ip_address(socket.gethostbyname(name))
    except (OSError, ValueError):
        return None
    return name if address.is_loopback and name.split(".")[-1] != "localhost" else None


def test_a_name_that_resolves_to_loopback_is_blocked_at_delivery(
    blocking_target: Target, blocking_api: Api
) -> None:
    if not blocking_target.local:
        pytest.skip("needs a receiver on 127.0.0.1")
    name = _loopback_host_name()
    if name is None:
        pytest.skip("this machine's host name does not resolve to a loopback address")
    tenant = blocking_api.tenant()
    with Receiver() as receiver:
        # Names are only resolved (and vetted) when delivering, so registration accepts this one.
        endpoint_id, _ = blocking_api.endpoint(tenant, f"http://{name}:{receiver.port}/hook")
        event_id = blocking_api.send(tenant, "order.created", {"order_id": "ord_2"})["id"]

        # (wait_settled tolerates the 404 an accepted event answers until dispatch records it)
        blocking_api.wait_settled(tenant, event_id, timeout=30)
        attempts = blocking_api.attempts(tenant, event_id)

        assert attempts, "no delivery attempt was logged"
        assert attempts[0]["endpoint_id"] == endpoint_id
        assert attempts[0]["error_kind"] == "ssrf_blocked"
        assert attempts[0]["status_code"] is None
        assert receiver.requests == []


def _recorded_attempts(api: Api, tenant: str, event_id: str) -> list[Any]:
    """The event's attempts; none while it is not recorded yet (a cold stack on a busy machine takes longer
    than the API's own 2 s wait for a young event, which then answers 404)."""
    try:
        return list(api.attempts(tenant, event_id))
    except ApiError as exc:
        if exc.status == 404:
            return []
        raise


def test_ctrl_c_stops_every_process_of_the_local_stack(blocking_target: Target) -> None:
    if blocking_target.process is None:
        pytest.skip("only the local stack has processes to stop")
    children = blocking_target.process.children()
    assert len(children) >= 4, "expected moto and a worker per function"

    code = blocking_target.process.stop()

    assert code == 0
    wait_until(lambda: not any(pid_alive(pid) for pid in children), 5, "every child process exits")
