"""The local stack: moto's server, the template deployed into it, the functions, the API and the pollers.

Everything about resources, handlers, environments and event sources is read from the deployed
template (``local_stack.cloudformation``); nothing here names a queue, a table or a handler.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_stack.apigw import ApiGatewayServer
from local_stack.control import ControlServer, CrashLog
from local_stack.logs import LogRenderer
from local_stack.moto_server import LOOPBACK, MotoServer, MotoStartError, connect_host, http_url, is_wildcard
from local_stack.roles import RoleError, prepare_roles, role_credentials
from local_stack.runtime import CredentialSource, FunctionConfig, FunctionPool, PoolClosed, WorkerError
from local_stack.sam_env import write_env_json
from local_stack.scheduler import LocalScheduler
from local_stack.sqs_poller import EventSourceConfig, SqsEventSource
from local_stack.summary import render_banner, state_document

if TYPE_CHECKING:
    from local_stack.cloudformation import DeployedStack, FunctionSpec

DEFAULT_API_PORT = 3000
DEFAULT_MOTO_PORT = 4566
DEFAULT_MAX_CONCURRENCY = 4
# Concurrency of an event source without ScalingConfig.MaximumConcurrency (Lambda's smallest allowed value).
UNSET_CONCURRENCY = 2
STATE_FILE_NAME = ".aws-sam/local-stack.json"
ENV_JSON_NAME = ".aws-sam/sam-local/env.json"
FAKE_ACCESS_KEY = FAKE_SECRET_KEY = "testing"  # noqa: S105 - moto accepts any credentials

# What the local stack changes in the template's defaults: loopback receivers are the point locally.
# Revoked keys, endpoint and catalog changes take effect at once locally (AWS keeps them up to 30 s, 10 s
# and 10 s).
LOCAL_PARAMETER_DEFAULTS = {
    "AllowHttp": "true",
    "AllowedPrivateCidrs": "127.0.0.0/8,::1/128",
    "ApiKeyCacheSeconds": "0",
    "EndpointCacheSeconds": "0",
    "EventTypeCacheSeconds": "0",
}


class StackError(Exception):
    """The stack cannot start (bad options, bad template, a port in use...)."""


@dataclass
class StackOptions:
    template: Path = Path("template.yaml")
    port: int = DEFAULT_API_PORT
    moto_port: int = DEFAULT_MOTO_PORT
    api_key: str | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    block_private_targets: bool = False
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    state_file: Path | None = None
    stack_name: str = "hookline"
    region: str = "us-east-1"
    host: str = LOOPBACK  # where moto and the API listen
    pollers: bool = True  # play the template's SQS event sources
    enforce_iam: bool = True  # each function (and its pollers) may do only what its role allows
    env_json: Path | None = None  # where to write sam local's --env-vars file
    container_host: str | None = None  # how a container reaches this machine (default: host)
    fair_queues: bool = True  # play SQS fair queues on standard queues (docs/fairness.md)

    def container_endpoint_host(self) -> str:
        host = self.container_host or self.host
        if is_wildcard(host):
            raise StackError(
                f"a container cannot connect to {host}: give --container-host (the address containers "
                "reach this machine by, e.g. the Docker bridge's gateway or host.docker.internal)"
            )
        return host

    # Chaos-run knobs (local only; see docs/local-development.md, "Chaos and fuzz runs").
    aws_fault_rate: float | None = None
    aws_fault_seed: int | None = None
    crashed_batch_visibility_seconds: int | None = None
    control_port: int = 0
    # Local only: recurring schedules' clock runs this many times faster (local_stack.scheduler).
    schedule_time_scale: float = 1.0

    def effective_overrides(self) -> dict[str, str]:
        overrides = dict(LOCAL_PARAMETER_DEFAULTS)
        if self.block_private_targets:
            if self.parameter_overrides.get("AllowedPrivateCidrs"):
                raise StackError("--block-private-targets conflicts with an AllowedPrivateCidrs override")
            overrides["AllowedPrivateCidrs"] = ""
        overrides.update(self.parameter_overrides)
        return overrides


def crash_log_path(state_file: Path | None) -> Path | None:
    """The crash log lives next to the state file: ``local-stack.json`` -> ``local-stack.crashes.jsonl``."""
    return None if state_file is None else state_file.with_name(state_file.stem + ".crashes.jsonl")


def function_label(spec: FunctionSpec, taken: set[str]) -> str:
    """A short name for logs: the code directory's name (``functions/dispatch`` -> ``dispatch``)."""
    label = spec.code_dir.name if spec.code_dir.name not in taken else spec.logical_id
    taken.add(label)
    return label


class LocalStack:
    def __init__(self, options: StackOptions, log: LogRenderer) -> None:
        self.options = options
        self.log = log
        self.moto = MotoServer(
            options.host,
            options.moto_port,
            log,
            options.aws_fault_rate,
            options.aws_fault_seed,
            fair_queues=options.fair_queues,
            enforce_iam=options.enforce_iam,
        )
        self.crash_log = CrashLog(crash_log_path(options.state_file))
        self.control: ControlServer | None = None
        self.deployed: DeployedStack | None = None
        self.api_key = ""
        self.pools: dict[str, FunctionPool] = {}
        self.sources: list[SqsEventSource] = []
        self.scheduler: LocalScheduler | None = None
        self.api: ApiGatewayServer | None = None
        self.labels: dict[str, str] = {}
        self.started_in = 0.0
        self.written_state_file: Path | None = None
        self.env_json_written: Path | None = None

    # ---------------------------------------------------------------- start

    def start(self) -> None:
        started = time.perf_counter()
        template = self.options.template.resolve()
        if not template.is_file():
            raise StackError(f"template not found: {template}")
        overrides = self.options.effective_overrides()
        if self.options.env_json is not None:
            self.options.container_endpoint_host()  # fail before starting anything
        self.moto.start()
        try:
            # While moto starts, import what the deployment needs.
            import samtranslator.parser.parser
            import samtranslator.translator.translator  # noqa: F401

            from local_stack import cloudformation

            try:
                self.moto.wait_ready()
            except MotoStartError as exc:
                raise StackError(str(exc)) from exc
            clients = cloudformation.client_factory(endpoint_url=self.moto.url, region=self.options.region)
            try:
                deployed = cloudformation.deploy_stack(clients, template, self.options.stack_name, overrides)
            except ValueError as exc:
                raise StackError(str(exc)) from exc
            self.deployed = deployed
            self.api_key = self._set_up_api_key(clients("secretsmanager"), deployed)
            credentials = self._role_credentials(clients, deployed)
            self._start_functions(deployed, credentials)
            self._start_api(deployed)
            if self.options.pollers:
                self._start_pollers(deployed, credentials)
                self._start_scheduler(clients)
            self._write_env_json(deployed)
            self._start_control()
        except BaseException:
            self.stop()
            raise
        self.started_in = time.perf_counter() - started
        self._write_state()
        threading.Thread(target=self._warm_up, name="warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        """After "ready", start the rest of each function's workers (as provisioned concurrency would),
        so that the first bursts of traffic do not wait for cold starts."""
        for pool in self.pools.values():
            try:
                pool.prewarm(pool.max_workers)
            except (PoolClosed, WorkerError, OSError):
                return

    def _set_up_api_key(self, secretsmanager: Any, deployed: DeployedStack) -> str:
        """The admin key lives in the secret that the API function's ``ADMIN_API_KEY_SECRET_ARN`` names."""
        secret_ids = {
            spec.environment["ADMIN_API_KEY_SECRET_ARN"]
            for spec in deployed.functions.values()
            if spec.environment.get("ADMIN_API_KEY_SECRET_ARN")
        }
        if len(secret_ids) != 1:
            raise StackError(f"expected one admin API key secret in the template, got {sorted(secret_ids)}")
        secret_id = secret_ids.pop()
        if self.options.api_key:
            secretsmanager.put_secret_value(SecretId=secret_id, SecretString=self.options.api_key)
            return self.options.api_key
        return str(secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"])

    def _pool_size(self, spec: FunctionSpec) -> int:
        cap = max(1, self.options.max_concurrency)
        if spec.event_sources:
            wanted = sum(
                min(source.maximum_concurrency or UNSET_CONCURRENCY, cap)
                for source in spec.event_sources
                if source.enabled
            )
            return max(1, min(wanted, cap))
        return cap

    def _role_credentials(
        self, clients: Callable[[str], Any], deployed: DeployedStack
    ) -> dict[str, CredentialSource]:
        """Under IAM enforcement, where each function's credentials come from (its role, assumed)."""
        if not self.options.enforce_iam:
            return {}
        try:
            prepare_roles(clients("iam"), deployed)
        except RoleError as exc:
            raise StackError(str(exc)) from exc
        sts = clients("sts")
        return {
            logical_id: functools.partial(role_credentials, sts, spec.role_arn)
            for logical_id, spec in deployed.functions.items()
        }

    def _start_functions(self, deployed: DeployedStack, credentials: Mapping[str, CredentialSource]) -> None:
        taken: set[str] = set()
        for logical_id, spec in sorted(deployed.functions.items()):
            label = function_label(spec, taken)
            self.labels[logical_id] = label
            config = FunctionConfig(
                label=label,
                function_name=spec.function_name,
                function_arn=spec.function_arn,
                handler=spec.handler,
                code_dir=spec.code_dir,
                layer_dirs=spec.layer_dirs,
                timeout_seconds=float(spec.timeout_seconds),
                memory_mb=spec.memory_mb,
                environment=spec.environment,
                region=deployed.region,
                endpoint_url=self.moto.function_url,
                credentials=credentials.get(logical_id),
            )
            self.pools[logical_id] = FunctionPool(config, self._pool_size(spec), self.log.sink)
        # One warm worker per function, started in parallel (init = importing the handler module).
        errors: list[str] = []

        def prewarm(pool: FunctionPool) -> None:
            try:
                pool.prewarm(1)
            except Exception as exc:  # noqa: BLE001 - reported below, the stack still starts
                errors.append(str(exc))

        threads = [
            threading.Thread(target=prewarm, args=(pool,), daemon=True) for pool in self.pools.values()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for error in errors:
            self.log.warn(f"a function failed to initialise (each invocation will retry): {error}")

    def _start_api(self, deployed: DeployedStack) -> None:
        routes: list[tuple[str, Any]] = []
        for logical_id, spec in deployed.functions.items():
            if not spec.http_api_routes:
                continue
            if spec.http_api_payload_format_version != "2.0":
                raise StackError(
                    f"{logical_id}: API payload format {spec.http_api_payload_format_version} is not "
                    "supported locally (HTTP API payload format 2.0 is)"
                )
            routes.extend((route, self.pools[logical_id].invoke) for route in spec.http_api_routes)
        try:
            self.api = ApiGatewayServer(
                self.options.host, self.options.port, routes, deployed.account_id, self.log.warn
            )
        except OSError as exc:
            where = f"{self.options.host}:{self.options.port}"
            raise StackError(f"cannot listen on {where}: {exc.strerror}") from exc
        self.api.start()

    def _start_pollers(self, deployed: DeployedStack, credentials: Mapping[str, CredentialSource]) -> None:
        import boto3
        from botocore.config import Config

        def sqs_client(keys: Mapping[str, str], sources: int) -> Any:
            session = boto3.session.Session(
                aws_access_key_id=keys.get("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY),
                aws_secret_access_key=keys.get("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY),
                aws_session_token=keys.get("AWS_SESSION_TOKEN"),
                region_name=deployed.region,
            )
            return session.client(
                "sqs",
                endpoint_url=self.moto.url,
                config=Config(
                    read_timeout=30,
                    connect_timeout=5,
                    retries={"max_attempts": 2},
                    max_pool_connections=max(10, sources * self.options.max_concurrency + 4),
                ),
            )

        stack_client = sqs_client({}, 1)  # the stack's own keys
        for logical_id, spec in sorted(deployed.functions.items()):
            if not spec.event_sources:
                continue
            # As Lambda's event source mappings do, the pollers use the function's role.
            role = credentials.get(logical_id)
            keys = role(f"{self.labels[logical_id]}-poller") if role is not None else {}
            client = sqs_client(keys, len(spec.event_sources))
            pool = self.pools[logical_id]
            for source in spec.event_sources:
                if not source.enabled:
                    self.log.info(f"{logical_id}/{source.logical_id} is disabled in the template: not polled")
                    continue
                concurrency = min(source.maximum_concurrency or UNSET_CONCURRENCY, pool.max_workers)
                config = EventSourceConfig(
                    label=f"{self.labels[logical_id]}<-{_queue_name(source.queue_arn)}",
                    queue_url=source.queue_url,
                    queue_arn=source.queue_arn,
                    batch_size=source.batch_size,
                    batching_window_seconds=float(source.batching_window_seconds),
                    report_batch_item_failures=source.report_batch_item_failures,
                    concurrency=concurrency,
                    region=deployed.region,
                    crashed_batch_visibility_seconds=self.options.crashed_batch_visibility_seconds,
                )
                label = self.labels[logical_id]

                def on_crash(
                    source: str, records: list[dict[str, Any]], invocation: Any, label: str = label
                ) -> None:
                    self.crash_log.record(label, source, records, invocation)

                event_source = SqsEventSource(
                    config,
                    client,
                    pool.invoke,
                    self.log.warn,
                    on_crash,
                    crash_client=stack_client,
                    await_capacity=pool.await_capacity,
                )
                event_source.start()
                self.sources.append(event_source)

    def _start_scheduler(self, clients: Any) -> None:
        """Play EventBridge Scheduler: moto stores schedules, ``local_stack.scheduler`` fires them."""
        self.scheduler = LocalScheduler(
            clients("scheduler"),
            clients("sqs"),
            on_fire=self.log.info,
            on_error=self.log.warn,
            time_scale=self.options.schedule_time_scale,
        )
        self.scheduler.start()

    def _start_control(self) -> None:
        def workers() -> dict[str, list[dict[str, Any]]]:
            return {self.labels[logical_id]: pool.worker_states() for logical_id, pool in self.pools.items()}

        try:
            self.control = ControlServer(LOOPBACK, self.options.control_port, workers, self.crash_log)
        except OSError as exc:
            raise StackError(
                f"cannot listen on {LOOPBACK}:{self.options.control_port}: {exc.strerror}"
            ) from exc
        self.control.start()

    # ---------------------------------------------------------------- state

    @property
    def api_url(self) -> str:
        return http_url(connect_host(self.options.host), self.api.port) if self.api is not None else ""

    @property
    def container_aws_endpoint_url(self) -> str:
        """moto's URL as a container sees it (what env.json gives every function)."""
        return http_url(self.options.container_endpoint_host(), self.moto.port)

    def _write_env_json(self, deployed: DeployedStack) -> None:
        if self.options.env_json is None:
            return
        write_env_json(self.options.env_json, deployed, self.container_aws_endpoint_url)
        self.env_json_written = self.options.env_json

    def state(self) -> dict[str, Any]:
        return state_document(self)

    def _write_state(self) -> None:
        path = self.options.state_file
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        # It holds the admin key: readable by this user alone (the CLI refuses a state file that is not).
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.state(), indent=2) + "\n")
        temporary.replace(path)
        self.written_state_file = path

    def child_pids(self) -> list[int]:
        pids = [pid for pool in self.pools.values() for pid in pool.worker_pids()]
        if self.moto.pid is not None:
            pids.append(self.moto.pid)
        return pids

    # ---------------------------------------------------------------- stop

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        for source in self.sources:
            source.stop()
        if self.api is not None:
            self.api.stop()
        if self.control is not None:
            self.control.stop()
        closers = [threading.Thread(target=pool.close, daemon=True) for pool in self.pools.values()]
        for thread in closers:
            thread.start()
        for source in self.sources:
            source.join(timeout=5)
        for thread in closers:
            thread.join(timeout=10)
        self.moto.stop()
        # Both files name this run's resources and ports: stale after it stops.
        for written in (self.written_state_file, self.env_json_written):
            if written is not None:
                with contextlib.suppress(OSError):
                    written.unlink()
        self.written_state_file = self.env_json_written = None

    # ---------------------------------------------------------------- banner

    def banner(self) -> str:
        return render_banner(self)


def _queue_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]
