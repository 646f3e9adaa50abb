"""schemathesis against the local stack, from the API's own document (``GET /v1/openapi.json``).

``contract_stack`` starts the local stack as the e2e tests do (free ports, a fixed admin key) and a receiver
on 127.0.0.1, and seeds what the routes' path parameters need. ``run_pass`` then runs ``schemathesis run``
(its CLI, in a child process) against the stack as one caller: the admin key, a tenant key, or nobody at
all (so every 401 is exercised too).

Two tenants keep the run's own load bounded. Every event is sent in the *events* tenant, which has one
endpoint (aimed at the receiver) and a delivered event; endpoints are created in the *manage* tenant. Were
they one tenant, each of the thousands of generated events and batches would fan out to every endpoint
the run had created before it, and the run would spend itself on deliveries.

Path parameters come from the config file schemathesis reads (``[parameters]``), pinned per operation.
The stateless passes pin endpoint and event ids to the seeded ones, and pin ``DELETE .../{tenant_id}`` to a
tenant seeded to be deleted; ``DELETE .../endpoints/{endpoint_id}`` and ``.../keys/{key_id}`` get generated
ids (404s). The stateful passes pin no ids: their scenarios create endpoints, keys and events and use and
delete those through the document's inferred links (a pinned id would override the linked one). Endpoint
URLs that the API would accept are pointed at the receiver before they are sent (``tests.contract.hooks``),
so no delivery leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.client import ApiError, HooklineClient
from local_stack.process import REPO_ROOT, StackProcess
from tests.receivers import Receiver
from tests.waiting import wait_until

ADMIN_KEY = "contract-admin-" + "k" * 24  # fixed, as the e2e tests' key is: it is in the config file anyway
MANAGE_TENANT = "contract-manage"  # endpoints and keys are created here
EVENTS_TENANT = "contract-events"  # events are sent here: one endpoint, one delivered event
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
# calling the API.
UNEXPECTED_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH")

# Operations on the seeded endpoint (pinned in the stateless passes)...
ENDPOINT_OPERATIONS = (
    "get_endpoint",
    "update_endpoint",
    "get_endpoint_secret",
    "rotate_endpoint_secret",
    "list_endpoint_attempts",
    "recover_endpoint",
    "test_endpoint",
)
# ...on the seeded event (pinned in the stateless passes)...
EVENT_OPERATIONS = ("get_event", "list_event_attempts", "retry_event")
# ...and every operation that runs in the events tenant, always.
EVENTS_TENANT_OPERATIONS = ("post_event", "post_event_batch", "search_events", *EVENT_OPERATIONS)


@dataclass(frozen=True)
class Seed:
    api_url: str
    admin_key: str
    tenant_keys: Mapping[str, str]  # tenant id -> a key with every scope
    receiver_url: str
    endpoint_id: str  # in the events tenant
    event_id: str  # in the events tenant, delivered

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
FULL = Budget(max_examples=100, seed=None, stateful_steps=12)


@dataclass(frozen=True)
class Pass:
    """One ``schemathesis run``: who calls (the admin key, a tenant's key, or nobody), which phases, and
    which operations. Stateless passes pin ids to the seeded ones; stateful passes run last, unpinned."""

    name: str
    key: str | None  # "admin", a tenant id (that tenant's key), or None: no key at all
    phases: tuple[str, ...]
    included: tuple[str, ...] = ()  # only these operation ids (none: every one)...
    excluded: tuple[str, ...] = ()  # ...but not these

    @property
    def stateful(self) -> bool:
        return "stateful" in self.phases

    def token(self, seed: Seed) -> str | None:
        if self.key is None:
            return None
        return seed.admin_key if self.key == "admin" else seed.tenant_keys[self.key]


STATELESS = ("examples", "coverage", "fuzzing")
# What the stateless passes run in the events tenant. A tenant key works under its own tenant's path only,
# so each tenant's operations get a pass of their own.
EVENTS_SIDE = tuple(sorted(set(ENDPOINT_OPERATIONS) | set(EVENTS_TENANT_OPERATIONS)))
PASSES = (
    Pass("admin", "admin", STATELESS),
    Pass("tenant-events", EVENTS_TENANT, STATELESS, included=EVENTS_SIDE),
    Pass("tenant-manage", MANAGE_TENANT, STATELESS, excluded=EVENTS_SIDE),
    Pass("anonymous", None, STATELESS),  # every call but the document's own is a 401
    Pass("admin-stateful", "admin", ("stateful",)),
    Pass("tenant-stateful", MANAGE_TENANT, ("stateful",), excluded=EVENTS_TENANT_OPERATIONS),
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
    keys: dict[str, str] = {}
    for tenant_id in (MANAGE_TENANT, EVENTS_TENANT, DOOMED_TENANT):
        client.put_tenant(tenant_id, tenant_id.replace("-", " ").capitalize())
        keys[tenant_id] = client.create_key(tenant_id, "contract", list(SCOPES))["key"]
    endpoint = client.create_endpoint(EVENTS_TENANT, receiver_url + "/hook")
    event = client.send_event(EVENTS_TENANT, "order.created", {"order_id": "ord_1"})
    _wait_delivered(client, event["id"])
    return Seed(
        api_url=api_url,
        admin_key=ADMIN_KEY,
        tenant_keys=keys,
        receiver_url=receiver_url + "/hook",
        endpoint_id=endpoint["id"],
        event_id=event["id"],
    )


def _wait_delivered(client: HooklineClient, event_id: str, timeout: float = 30.0) -> None:
    """Until the seeded event has an attempt, so its attempts routes answer a full page."""
    wait_until(lambda: _attempts(client, event_id), timeout, f"the seeded event {event_id} is delivered", 0.1)


def _attempts(client: HooklineClient, event_id: str) -> list[Any]:
    try:
        return list(client.list_event_attempts(EVENTS_TENANT, event_id)["data"])
    except ApiError as exc:
        if exc.status == 404:  # not recorded yet: dispatch on a busy machine takes longer than the API waits
            return []
        raise


# --- one schemathesis run -------------------------------------------------------------------------------


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: the same escapes as JSON's
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def pinned_parameters(seed: Seed, run: Pass) -> dict[str, dict[str, str]]:
    """Operation id -> the path parameters it is given (besides the default tenant, the manage one)."""
    pinned: dict[str, dict[str, str]] = {"delete_tenant": {"path.tenant_id": DOOMED_TENANT}}
    for operation in EVENTS_TENANT_OPERATIONS:
        pinned[operation] = {"path.tenant_id": EVENTS_TENANT}
    if not run.stateful:
        for operation in EVENT_OPERATIONS:
            pinned[operation]["path.event_id"] = seed.event_id
        for operation in ENDPOINT_OPERATIONS:
            pinned[operation] = {"path.tenant_id": EVENTS_TENANT, "path.endpoint_id": seed.endpoint_id}
    return pinned


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
        f'"path.tenant_id" = {_toml(MANAGE_TENANT)}',
    ]
    token = run.token(seed)
    if token is not None:
        lines += ["", "[auth.openapi.bearer]", f"bearer = {_toml(token)}"]
    for operation, parameters in pinned_parameters(seed, run).items():
        lines += [
            "",
            "[[operations]]",
            f"include-operation-id = {_toml(operation)}",
            f"parameters = {_toml(parameters)}",
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
    for operation in run.included:
        command += ["--include-operation-id", operation]
    for operation in run.excluded:
        command += ["--exclude-operation-id", operation]
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
