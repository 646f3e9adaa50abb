"""schemathesis against the local stack, from the API's own document (``GET /v1/openapi.json``).

``contract_stack`` starts the local stack as the e2e tests do (free ports, a fixed admin key), a receiver on
127.0.0.1, and seeds what the routes' path parameters need: a tenant, an endpoint aimed at the receiver, a
delivered event, a tenant key with every scope, and a second tenant that ``DELETE /v1/tenants/{tenant_id}``
may delete. ``run_pass`` then runs ``schemathesis run`` (its CLI, in a child process) against the stack as
one caller: the admin key, the tenant key, or nobody at all (so every 401 is exercised too).

Path parameters come from the config file schemathesis reads (``[parameters]``), pinned per operation so
that the ones that delete can only delete what was seeded for them: ``DELETE .../endpoints/{endpoint_id}``
and ``DELETE .../keys/{key_id}`` get generated ids (404s), and the stateful phase creates endpoints and keys
and deletes those through the document's inferred links. Endpoint URLs that the API would accept are
pointed at the receiver before they are sent (``tests.contract.hooks``), so no delivery leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.client import HooklineClient
from local_stack.process import REPO_ROOT, StackProcess
from tests.receivers import Receiver

ADMIN_KEY = "contract-admin-" + "k" * 24  # fixed, as the e2e tests' key is: it is in the config file anyway
TENANT = "contract-acme"
DOOMED_TENANT = "contract-doomed"  # the one tenant DELETE /v1/tenants/{tenant_id} is given
RECEIVER_ENV = "HOOKLINE_CONTRACT_RECEIVER"  # read by tests.contract.hooks
SCOPES = ("endpoints:read", "endpoints:write", "events:read", "events:write")

# Checks whose verdict follows from the document alone. Left out, with why:
# - positive_data_acceptance: a schema-valid body can still be refused, rightly, by rules no JSON Schema
#   holds (the SSRF rules on endpoint URLs, content-filter grammar, cursors that are opaque tokens).
# - unsupported_method: it wants 405 for a method a path does not declare; the API answers 404, as API
#   Gateway does for a route that is not declared, and issue 9 keeps the current status codes.
# - max_response_time: timing is not part of the contract.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)
# The coverage phase also tries methods no path declares. Not TRACE: the local stack's HTTP server (it
# plays API Gateway, local_stack/apigw.py) has no handler for it and answers 501 itself, without ever
# calling the API; a deployed stack's API Gateway refuses it before Lambda too.
UNEXPECTED_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH")

ENDPOINT_OPERATIONS = (
    "get_endpoint",
    "update_endpoint",
    "get_endpoint_secret",
    "rotate_endpoint_secret",
    "list_endpoint_attempts",
    "recover_endpoint",
    "test_endpoint",
)
EVENT_OPERATIONS = ("get_event", "list_event_attempts", "retry_event")


@dataclass(frozen=True)
class Seed:
    api_url: str
    admin_key: str
    tenant_key: str
    receiver_url: str
    tenant_id: str
    endpoint_id: str
    event_id: str

    @property
    def document_url(self) -> str:
        return self.api_url + "/v1/openapi.json"


@dataclass(frozen=True)
class Budget:
    """How hard each pass tries: ``max_examples`` per operation and phase, a fixed ``seed`` or a new one."""

    max_examples: int
    seed: int | None
    stateful_steps: int


SHORT = Budget(max_examples=8, seed=20261130, stateful_steps=6)
FULL = Budget(max_examples=150, seed=None, stateful_steps=20)


@dataclass(frozen=True)
class Pass:
    """One ``schemathesis run``: who calls (``caller``), which phases, and whether endpoint and event ids are
    pinned to the seeded ones. The stateful phase runs unpinned and last: its scenarios take ids from what
    they create and list (and may delete the seeded endpoint), and a pinned id would override theirs."""

    name: str
    caller: str  # admin, tenant or anonymous
    phases: tuple[str, ...]
    pinned: bool = True

    def token(self, seed: Seed) -> str | None:
        return {"admin": seed.admin_key, "tenant": seed.tenant_key}.get(self.caller)


STATELESS = ("examples", "coverage", "fuzzing")
PASSES = (
    Pass("admin", "admin", STATELESS),
    Pass("tenant", "tenant", STATELESS),
    Pass("anonymous", "anonymous", STATELESS),  # every call but the document's own is a 401
    Pass("admin-stateful", "admin", ("stateful",), pinned=False),
    Pass("tenant-stateful", "tenant", ("stateful",), pinned=False),
)


@dataclass(frozen=True)
class PassResult:
    name: str
    command: list[str]
    exit_code: int
    output: str
    report: dict[str, Any]

    @property
    def cases(self) -> int:
        return int(self.report.get("test_cases", {}).get("generated", 0))

    @property
    def failures(self) -> list[dict[str, Any]]:
        return list(self.report.get("failures") or [])

    def summary(self) -> str:
        cases = self.report.get("test_cases", {})
        failed = ", ".join(f"{item['code']} {item['title']}: {item['count']}" for item in self.failures)
        return (
            f"{self.name}: {cases.get('generated', '?')} cases, {cases.get('with_failures', '?')} failing, "
            f"{len(self.report.get('errors') or [])} errors, exit {self.exit_code}"
            + (f" ({failed})" if failed else "")
        )


# --- the stack and its seed data ------------------------------------------------------------------------


@contextmanager
def contract_stack(work_dir: Path) -> Iterator[Seed]:
    process = StackProcess(
        ["--api-key", ADMIN_KEY, "--parameter-overrides", "RetrySchedule=0,1,1"],
        log_file=work_dir / "stack.log",
    )
    info = process.start()
    receiver = Receiver().start()
    try:
        yield _seed(HooklineClient(info.api_url, ADMIN_KEY, timeout=30), info.api_url, receiver.url)
    finally:
        receiver.stop()
        code = process.stop()
        if code != 0:
            raise RuntimeError(f"the local stack exited with {code}: {process.tail()}")


def _seed(client: HooklineClient, api_url: str, receiver_url: str) -> Seed:
    client.put_tenant(TENANT, "Contract tests")
    client.put_tenant(DOOMED_TENANT, "Deleted by the contract run")
    endpoint = client.create_endpoint(TENANT, receiver_url + "/hook")
    event = client.send_event(TENANT, "order.created", {"order_id": "ord_1"})
    tenant_key = client.create_key(TENANT, "contract", list(SCOPES))
    _wait_delivered(client, event["id"])
    return Seed(
        api_url=api_url,
        admin_key=ADMIN_KEY,
        tenant_key=tenant_key["key"],
        receiver_url=receiver_url + "/hook",
        tenant_id=TENANT,
        endpoint_id=endpoint["id"],
        event_id=event["id"],
    )


def _wait_delivered(client: HooklineClient, event_id: str, timeout: float = 30.0) -> None:
    """Until the seeded event has an attempt, so its attempts routes answer a full page."""
    deadline = time.monotonic() + timeout
    while not client.list_event_attempts(TENANT, event_id)["data"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the seeded event {event_id} was not delivered within {timeout:.0f} s")
        time.sleep(0.1)


# --- one schemathesis run -------------------------------------------------------------------------------


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: the same escapes as JSON's
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def config_text(seed: Seed, run: Pass, budget: Budget) -> str:
    """The schemathesis config file for one pass: what to generate, which ids to use, who calls."""
    lines = [
        "[generation]",
        'database = "none"',
        "",
        "[phases.coverage]",
        f"unexpected-methods = {_toml(UNEXPECTED_METHODS)}",
        "",
        "[phases.stateful]",
        f"max-steps = {budget.stateful_steps}",
        "",
        "[parameters]",
        f'"path.tenant_id" = {_toml(seed.tenant_id)}',
    ]
    token = run.token(seed)
    if token is not None:
        lines += ["", "[auth.openapi.bearer]", f"bearer = {_toml(token)}"]
    pinned = [("delete_tenant", {"path.tenant_id": DOOMED_TENANT})]
    if run.pinned:
        pinned += [(operation, {"path.endpoint_id": seed.endpoint_id}) for operation in ENDPOINT_OPERATIONS]
        pinned += [(operation, {"path.event_id": seed.event_id}) for operation in EVENT_OPERATIONS]
    for operation, parameters in pinned:
        lines += [
            "",
            "[[operations]]",
            f"include-operation-id = {_toml(operation)}",
            f"parameters = {_toml({'path.tenant_id': seed.tenant_id} | parameters)}",
        ]
    return "\n".join(lines) + "\n"


def schemathesis_command(
    seed: Seed, run: Pass, budget: Budget, config: Path, report: Path, extra: tuple[str, ...] = ()
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        seed.document_url,
        "--checks",
        ",".join(CHECKS),
        "--phases",
        ",".join(run.phases),
        "--max-examples",
        str(budget.max_examples),
        "--workers",
        "1",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    if budget.seed is not None:
        command += ["--seed", str(budget.seed)]
    return [*command, *extra]


def run_pass(
    seed: Seed, run: Pass, budget: Budget, work_dir: Path, extra: tuple[str, ...] = ()
) -> PassResult:
    config = work_dir / f"schemathesis-{run.name}.toml"
    config.write_text(config_text(seed, run, budget))
    report = work_dir / f"schemathesis-{run.name}.json"
    command = schemathesis_command(seed, run, budget, config, report, extra)
    env = dict(os.environ)
    env.update(
        {
            "SCHEMATHESIS_HOOKS": "tests.contract.hooks",
            RECEIVER_ENV: seed.receiver_url,
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "layers" / "common"), str(REPO_ROOT)]),
            "NO_COLOR": "1",
        }
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter running schemathesis
        command, cwd=work_dir, env=env, capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    (work_dir / f"schemathesis-{run.name}.txt").write_text(output)
    loaded = json.loads(report.read_text()) if report.exists() else {}
    return PassResult(run.name, command, done.returncode, output, loaded)
