"""The local stack: moto's server, the template deployed into it, the functions, the API and the pollers.

Everything about resources, handlers, environments and event sources is read from the deployed
template (``local_stack.cloudformation``); nothing here names a queue, a table or a handler.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from local_stack.apigw import ApiGatewayServer
from local_stack.control import ControlServer, CrashLog
from local_stack.logs import LogRenderer
from local_stack.process import stop_at_eof
from local_stack.runtime import FunctionConfig, FunctionPool, PoolClosed, WorkerError
from local_stack.sqs_poller import EventSourceConfig, SqsEventSource
from local_stack.summary import render_banner, state_document

if TYPE_CHECKING:
    from local_stack.cloudformation import DeployedStack, FunctionSpec

HOST = "127.0.0.1"
DEFAULT_API_PORT = 3000
DEFAULT_MOTO_PORT = 4566
DEFAULT_MAX_CONCURRENCY = 4
# Concurrency of an event source without ScalingConfig.MaximumConcurrency (Lambda's smallest allowed value).
UNSET_CONCURRENCY = 2
STATE_FILE_NAME = ".aws-sam/local-stack.json"
MOTO_RUNNER = Path(__file__).with_name("_moto_runner.py")
FAKE_ACCESS_KEY = FAKE_SECRET_KEY = "testing"  # noqa: S105 - moto accepts any credentials

# What the local stack changes in the template's defaults: loopback receivers are the point locally.
LOCAL_PARAMETER_DEFAULTS = {"AllowHttp": "true", "AllowedPrivateCidrs": "127.0.0.0/8,::1/128"}
SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 - a resource type, not a secret


# moto reports every template resource type its CloudFormation skips (API Gateway v2, alarms): expected.
_MOTO_NOISE = ("CloudFormation support", "not supported by moto", "parse_resource")


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
    # Chaos-run knobs (local only; see README "Chaos and fuzz runs").
    aws_fault_rate: float | None = None
    aws_fault_seed: int | None = None
    crashed_batch_visibility_seconds: int | None = None
    control_port: int = 0

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


class MotoServer:
    """moto's server in a child process that exits when this process closes its stdin (or dies)."""

    def __init__(
        self, port: int, log: LogRenderer, fault_rate: float | None = None, fault_seed: int | None = None
    ) -> None:
        self._requested_port = port
        self._log = log
        self._fault_args = [] if fault_rate is None else ["--fault-rate", str(fault_rate)]
        if fault_rate is not None and fault_seed is not None:
            self._fault_args += ["--fault-seed", str(fault_seed)]
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.fault_port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def function_url(self) -> str:
        """The endpoint the functions get: the fault-injecting port when faults are on."""
        return self.url if self.fault_port is None else f"http://{HOST}:{self.fault_port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        env = dict(os.environ)
        env.pop("AWS_ENDPOINT_URL", None)
        # The runner imports local_stack.aws_faults (and nothing else of the repository).
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(MOTO_RUNNER.parent.parent), env.get("PYTHONPATH")])
        )
        self._process = subprocess.Popen(
            [sys.executable, "-P", str(MOTO_RUNNER), HOST, str(self._requested_port), *self._fault_args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        process = self._process
        assert process is not None and process.stdout is not None and process.stderr is not None
        result: dict[str, Any] = {}

        def read_port() -> None:
            assert process.stdout is not None
            line = process.stdout.readline()
            with contextlib.suppress(ValueError):
                result.update(json.loads(line))

        reader = threading.Thread(target=read_port, daemon=True)
        reader.start()
        reader.join(timeout)
        if "port" not in result:
            errors = b""
            if process.poll() is not None:
                errors = process.stderr.read()
            self.stop()
            detail = errors.decode(errors="replace").strip().splitlines()[-1:] or ["no answer"]
            raise StackError(f"moto's server did not start on port {self._requested_port}: {detail[0]}")
        self.port = int(result["port"])
        self.fault_port = int(result["fault_port"]) if "fault_port" in result else None
        threading.Thread(target=self._drain, args=(process.stdout, "stdout"), daemon=True).start()
        threading.Thread(target=self._drain, args=(process.stderr, "stderr"), daemon=True).start()

    def _drain(self, stream: IO[bytes], name: str) -> None:
        with stream:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                if any(noise in line for noise in _MOTO_NOISE):
                    continue
                if self._log.verbose:
                    self._log.emit(f"moto {name}: {line}")

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        stop_at_eof(process)


class LocalStack:
    def __init__(self, options: StackOptions, log: LogRenderer) -> None:
        self.options = options
        self.log = log
        self.moto = MotoServer(options.moto_port, log, options.aws_fault_rate, options.aws_fault_seed)
        self.crash_log = CrashLog(crash_log_path(options.state_file))
        self.control: ControlServer | None = None
        self.deployed: DeployedStack | None = None
        self.api_key = ""
        self.pools: dict[str, FunctionPool] = {}
        self.sources: list[SqsEventSource] = []
        self.api: ApiGatewayServer | None = None
        self.labels: dict[str, str] = {}
        self.started_in = 0.0
        self.written_state_file: Path | None = None

    # ---------------------------------------------------------------- start

    def start(self) -> None:
        started = time.perf_counter()
        template = self.options.template.resolve()
        if not template.is_file():
            raise StackError(f"template not found: {template}")
        overrides = self.options.effective_overrides()
        self.moto.start()
        try:
            # While moto starts, import what the deployment needs.
            import samtranslator.parser.parser
            import samtranslator.translator.translator  # noqa: F401

            from local_stack import cloudformation

            self.moto.wait_ready()
            clients = cloudformation.client_factory(endpoint_url=self.moto.url, region=self.options.region)
            try:
                deployed = cloudformation.deploy_stack(clients, template, self.options.stack_name, overrides)
            except ValueError as exc:
                raise StackError(str(exc)) from exc
            self.deployed = deployed
            self.api_key = self._set_up_api_key(clients("secretsmanager"), deployed)
            self._start_functions(deployed)
            self._start_api(deployed)
            self._start_pollers(deployed)
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
        secret_ids = [
            physical
            for logical, physical in deployed.resources.items()
            if deployed.resource_types[logical] == SECRET_TYPE
        ]
        if len(secret_ids) != 1:
            raise StackError(
                f"expected one Secrets Manager secret (the admin API key) in the template, got {secret_ids}"
            )
        if self.options.api_key:
            secretsmanager.put_secret_value(SecretId=secret_ids[0], SecretString=self.options.api_key)
            return self.options.api_key
        return str(secretsmanager.get_secret_value(SecretId=secret_ids[0])["SecretString"])

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

    def _start_functions(self, deployed: DeployedStack) -> None:
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
            self.api = ApiGatewayServer(HOST, self.options.port, routes, deployed.account_id, self.log.warn)
        except OSError as exc:
            raise StackError(f"cannot listen on {HOST}:{self.options.port}: {exc.strerror}") from exc
        self.api.start()

    def _start_pollers(self, deployed: DeployedStack) -> None:
        import boto3
        from botocore.config import Config

        sources = sum(len(spec.event_sources) for spec in deployed.functions.values())
        session = boto3.session.Session(
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
            region_name=deployed.region,
        )
        client = session.client(
            "sqs",
            endpoint_url=self.moto.url,
            config=Config(
                read_timeout=30,
                connect_timeout=5,
                retries={"max_attempts": 2},
                max_pool_connections=max(10, sources * self.options.max_concurrency + 4),
            ),
        )
        for logical_id, spec in sorted(deployed.functions.items()):
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

                event_source = SqsEventSource(config, client, pool.invoke, self.log.warn, on_crash)
                event_source.start()
                self.sources.append(event_source)

    def _start_control(self) -> None:
        def workers() -> dict[str, list[dict[str, Any]]]:
            return {self.labels[logical_id]: pool.worker_states() for logical_id, pool in self.pools.items()}

        try:
            self.control = ControlServer(HOST, self.options.control_port, workers, self.crash_log)
        except OSError as exc:
            raise StackError(f"cannot listen on {HOST}:{self.options.control_port}: {exc.strerror}") from exc
        self.control.start()

    # ---------------------------------------------------------------- state

    @property
    def api_url(self) -> str:
        return self.api.url if self.api is not None else ""

    def state(self) -> dict[str, Any]:
        return state_document(self)

    def _write_state(self) -> None:
        path = self.options.state_file
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.state(), indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)
        self.written_state_file = path

    def child_pids(self) -> list[int]:
        pids = [pid for pool in self.pools.values() for pid in pool.worker_pids()]
        if self.moto.pid is not None:
            pids.append(self.moto.pid)
        return pids

    # ---------------------------------------------------------------- stop

    def stop(self) -> None:
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
        if self.written_state_file is not None:
            with contextlib.suppress(OSError):
                self.written_state_file.unlink()
            self.written_state_file = None

    # ---------------------------------------------------------------- banner

    def banner(self) -> str:
        return render_banner(self)


def _queue_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]
