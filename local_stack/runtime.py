"""Functions running "as Lambda would": warm worker processes, each with only its function's environment.

A ``FunctionPool`` keeps up to ``max_workers`` long-lived worker processes for one function (warm
containers). Each worker runs ``_bootstrap.py`` with the function's environment and ``PYTHONPATH`` (layers,
then code directory), imports the handler named in the template once, and then serves invocations one
at a time. An invocation that raises is a function error; one that outlives the function's ``Timeout``
kills its worker (the next invocation gets a fresh one), as does a worker that dies. Every invocation
answers with an ``Invocation``: the handler's payload, or the error Lambda would report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from local_stack.process import stop_at_eof

BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
INIT_TIMEOUT_SECONDS = 30.0
# The parent's own overhead on top of the function's timeout before it gives up on a worker.
_TIMEOUT_GRACE_SECONDS = 0.25

CredentialSource = Callable[[str], Mapping[str, str]]
"""Called with a session name when a worker starts; returns its ``AWS_*`` credential variables."""

LogSink = Callable[[str, str, str], None]
"""Called with (function label, stream "stdout"/"stderr"/"runtime", one line of log output)."""


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    """What a worker needs to know about one function (built from the deployed template)."""

    label: str  # short name for logs, e.g. "dispatch"
    function_name: str  # the deployed (physical) name
    function_arn: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    timeout_seconds: float
    memory_mb: int
    environment: Mapping[str, str]
    region: str
    endpoint_url: str
    # The function role's credentials (``sts:AssumeRole``, once per worker); None: moto's fake keys.
    credentials: CredentialSource | None = None


@dataclass(frozen=True, slots=True)
class Invocation:
    request_id: str
    ok: bool
    payload: Any = None
    error: dict[str, Any] | None = None
    init_ms: float | None = None  # set on a cold start
    worker_pid: int | None = None  # the process that ran it (or died running it)

    @property
    def error_type(self) -> str | None:
        return None if self.error is None else str(self.error.get("errorType"))


def deployed_environment(variables: Mapping[str, str], endpoint_url: str) -> dict[str, str]:
    """A function's own variables as deployed into moto, plus the AWS endpoint its calls must go to.

    The one place that says what a function is configured with locally: it feeds the worker processes
    (``worker_environment``) and ``sam local``'s env.json (``local_stack.sam_env``)."""
    return {**{key: str(value) for key, value in variables.items()}, "AWS_ENDPOINT_URL": endpoint_url}


def worker_environment(config: FunctionConfig) -> dict[str, str]:
    """Exactly what the function's process sees: its template environment plus what Lambda adds."""
    python_path = [str(path) for path in config.layer_dirs] + [str(config.code_dir)]
    env = {
        # The runtime's own variables (as Lambda and `sam local` set them).
        "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(config.timeout_seconds)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_HANDLER": config.handler,
        "_HANDLER": config.handler,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(config.code_dir),
        # Like `sam local`: Powertools' Tracer switches itself off (there is no X-Ray daemon here).
        "AWS_SAM_LOCAL": "true",
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto's fake credentials
        "AWS_SESSION_TOKEN": "testing",
        "PYTHONPATH": os.pathsep.join(python_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    # botocore sends every AWS call to moto's server.
    env.update(deployed_environment(config.environment, config.endpoint_url))
    return env


class WorkerError(Exception):
    pass


class Worker:
    """One warm worker process of one function."""

    def __init__(self, config: FunctionConfig, log_sink: LogSink, number: int) -> None:
        self.config = config
        self.number = number
        self._log_sink = log_sink
        self._control: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._process: subprocess.Popen[bytes] | None = None
        self._dead = False
        self._lifecycle = threading.Lock()  # start() and kill() never interleave
        self.init_ms: float | None = None
        self.request_id: str | None = None  # the invocation it is running, if any

    @property
    def alive(self) -> bool:
        return not self._dead and self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        with self._lifecycle:
            if self._dead:
                raise WorkerError(f"{self.config.label}: stopped before it started")
            self._spawn()

    def _spawn(self) -> None:
        env = worker_environment(self.config)
        if self.config.credentials is not None:
            # As on Lambda: the execution environment starts with its role's credentials.
            try:
                env.update(self.config.credentials(f"{self.config.label}-{self.number}"))
            except Exception as exc:  # botocore's errors, reported as a failed init
                raise WorkerError(f"{self.config.label}: cannot assume its role: {exc}") from exc
        read_fd, write_fd = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-u", "-P", str(BOOTSTRAP), self.config.handler, str(write_fd)],
                env=env,
                cwd=self.config.code_dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        control = os.fdopen(read_fd, "rb")
        label = f"{self.config.label}#{self.number}"
        threading.Thread(target=self._read_control, args=(control,), name=f"{label}-ctl", daemon=True).start()
        assert self._process.stdout is not None and self._process.stderr is not None
        for stream, name in ((self._process.stdout, "stdout"), (self._process.stderr, "stderr")):
            threading.Thread(
                target=self._read_log, args=(stream, name), name=f"{label}-{name}", daemon=True
            ).start()

    def wait_ready(self, timeout: float = INIT_TIMEOUT_SECONDS) -> None:
        started = time.perf_counter()
        message = self._next_message(timeout)
        if message is None:
            self.kill()
            raise WorkerError(
                f"{self.config.label}: worker did not start within {timeout:.0f} s"
                if time.perf_counter() - started >= timeout
                else f"{self.config.label}: worker exited during init"
            )
        if message.get("type") == "init_error":
            self.kill()
            error = message.get("error") or {}
            raise WorkerError(f"{error.get('errorType')}: {error.get('errorMessage')}")
        self.init_ms = float(message.get("init_ms", 0.0))

    def invoke(self, event: Any, timeout_seconds: float) -> Invocation:
        request_id = str(uuid.uuid4())
        self.request_id = request_id
        try:
            return dataclasses.replace(self._invoke(request_id, event, timeout_seconds), worker_pid=self.pid)
        finally:
            self.request_id = None

    def _invoke(self, request_id: str, event: Any, timeout_seconds: float) -> Invocation:
        started = time.perf_counter()
        deadline_ms = int(time.time() * 1000 + timeout_seconds * 1000)
        request = {
            "request_id": request_id,
            "deadline_ms": deadline_ms,
            "invoked_function_arn": self.config.function_arn,
            "event": event,
        }
        self._log_sink(self.config.label, "runtime", f"START RequestId: {request_id} Version: $LATEST")
        process = self._process
        if process is None or process.stdin is None:
            raise WorkerError("worker not started")
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            return self._failed(request_id, "Runtime.ExitError", "worker process exited")
        message = self._next_message(timeout_seconds + _TIMEOUT_GRACE_SECONDS)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if message is None:
            timed_out = elapsed_ms >= timeout_seconds * 1000
            self.kill()
            if timed_out:
                text = f"Task timed out after {timeout_seconds:.2f} seconds"
                self._log_sink(self.config.label, "stderr", f"{request_id} {text}")
                return self._failed(request_id, "Sandbox.Timedout", text)
            return self._failed(request_id, "Runtime.ExitError", "worker process exited")
        self._log_sink(
            self.config.label,
            "runtime",
            f"REPORT RequestId: {request_id} Duration: {elapsed_ms:.2f} ms "
            f"Memory Size: {self.config.memory_mb} MB",
        )
        if message.get("type") == "result":
            return Invocation(request_id, True, payload=message.get("payload"))
        return Invocation(request_id, False, error=message.get("error") or {})

    def _failed(self, request_id: str, error_type: str, text: str) -> Invocation:
        error = {"errorType": error_type, "errorMessage": text}
        return Invocation(request_id, False, error=error)

    def _next_message(self, timeout: float) -> dict[str, Any] | None:
        try:
            message = self._control.get(timeout=timeout)
        except queue.Empty:
            return None
        if message is None:
            self._dead = True
            self._control.put(None)  # keep answering "dead" to later readers
        return message

    def _read_control(self, control: IO[bytes]) -> None:
        with control:
            for line in control:
                try:
                    self._control.put(json.loads(line))
                except ValueError:
                    continue
        self._control.put(None)

    def _read_log(self, stream: IO[bytes], name: str) -> None:
        with stream:
            for raw in stream:
                self._log_sink(self.config.label, name, raw.decode("utf-8", "replace").rstrip("\n"))

    def stop(self, timeout: float = 3.0) -> None:
        """Close stdin (the worker exits at EOF), then terminate, then kill."""
        process = self._process
        if process is None:
            return
        self._dead = True
        stop_at_eof(process, timeout)

    def kill(self) -> None:
        with self._lifecycle:
            process = self._process
            self._dead = True
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()


class PoolClosed(Exception):
    pass


class _InitFailed(Exception):
    def __init__(self, invocation: Invocation) -> None:
        super().__init__(invocation.error)
        self.invocation = invocation


class FunctionPool:
    """Up to ``max_workers`` warm workers of one function; invocations beyond that wait for one."""

    def __init__(self, config: FunctionConfig, max_workers: int, log_sink: LogSink) -> None:
        self.config = config
        self.max_workers = max(1, max_workers)
        self._log_sink = log_sink
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._pending: set[Worker] = set()  # being started (cold starts)
        self._numbers = 0
        self._closed = False
        self._waiting = 0  # invocations that wait for a worker (a batch received, not yet running)

    def prewarm(self, count: int = 1) -> None:
        """Have at least ``count`` workers (started in parallel), so requests find them warm."""
        workers: list[Worker] = []
        with self._cond:
            missing = min(count, self.max_workers) - len(self._all) - len(self._pending)
            for _ in range(max(0, missing)):
                workers.append(self._new_worker_locked())
        errors: list[Exception] = []
        started: list[Worker] = []
        for worker in workers:
            try:
                worker.start()
                started.append(worker)
            except (OSError, WorkerError) as exc:
                errors.append(exc)
        for worker in started:
            try:
                worker.wait_ready()
            except WorkerError as exc:
                errors.append(exc)
        with self._cond:
            for worker in workers:
                self._pending.discard(worker)
                if self._closed:
                    threading.Thread(target=worker.stop, daemon=True).start()
                elif worker.alive:
                    self._all.add(worker)
                    self._idle.append(worker)
            self._cond.notify_all()
        if errors:
            raise WorkerError(f"{self.config.label}: {errors[0]}")

    def _new_worker_locked(self) -> Worker:
        self._numbers += 1
        worker = Worker(self.config, self._log_sink, self._numbers)
        self._pending.add(worker)
        return worker

    def await_capacity(self) -> None:
        """Return once an invocation started now would find a worker (or room for one) that no waiting
        invocation claims first. An event source calls it before it receives, so that it takes messages
        from its queue only when it can run them, as Lambda's pollers do at ``MaximumConcurrency``: a batch
        received while every worker is busy would keep its messages (a quiet tenant's among them) from the
        next free worker until this one's turn comes."""
        with self._cond:
            while not self._closed:
                free = len(self._idle) + self.max_workers - len(self._all) - len(self._pending)
                if free - self._waiting > 0:
                    return
                self._cond.wait()
            raise PoolClosed(self.config.label)

    def invoke(self, event: Any) -> Invocation:
        with self._cond:
            self._waiting += 1
        try:
            worker, init_ms = self._acquire()
        except _InitFailed as failed:
            return failed.invocation
        finally:
            with self._cond:
                self._waiting -= 1
                self._cond.notify_all()
        try:
            result = worker.invoke(event, self.config.timeout_seconds)
        finally:
            self._release(worker)
        return result if init_ms is None else dataclasses.replace(result, init_ms=init_ms)

    def _acquire(self) -> tuple[Worker, float | None]:
        """An idle warm worker, or a new one (a cold start: its init time is returned too)."""
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosed(self.config.label)
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker, None
                    self._all.discard(worker)
                if len(self._all) + len(self._pending) < self.max_workers:
                    worker = self._new_worker_locked()
                    break
                self._cond.wait()
        try:
            worker.start()
            worker.wait_ready()
        except (OSError, WorkerError) as exc:
            with self._cond:
                self._pending.discard(worker)
                self._cond.notify_all()
            self._log_sink(self.config.label, "stderr", f"init failed: {exc}")
            error = {"errorType": "Runtime.InitError", "errorMessage": str(exc)}
            raise _InitFailed(Invocation(str(uuid.uuid4()), False, error=error)) from exc
        with self._cond:
            self._pending.discard(worker)
            if self._closed:
                worker.stop()
                raise PoolClosed(self.config.label)
            self._all.add(worker)
        return worker, worker.init_ms or 0.0

    def _release(self, worker: Worker) -> None:
        with self._cond:
            if worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
                if self._closed:
                    threading.Thread(target=worker.stop, daemon=True).start()
            self._cond.notify_all()

    def worker_pids(self) -> list[int]:
        with self._cond:
            return [pid for worker in self._all | self._pending if (pid := worker.pid) is not None]

    def worker_states(self) -> list[dict[str, Any]]:
        """Each live worker's pid and whether it is running an invocation (for chaos runs)."""
        with self._cond:
            workers = sorted(self._all, key=lambda worker: worker.number)
        return [
            {
                "pid": worker.pid,
                "number": worker.number,
                "busy": request_id is not None,
                "request_id": request_id,
            }
            for worker in workers
            if worker.alive
            for request_id in (worker.request_id,)
        ]

    def close(self) -> None:
        """Stop every worker: each gets a few seconds to finish its invocation, then it is killed."""
        with self._cond:
            self._closed = True
            workers = list(self._all)
            starting = list(self._pending)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        threads = [threading.Thread(target=worker.stop, daemon=True) for worker in workers]
        for worker in starting:  # a cold start that is no longer needed
            worker.kill()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=6)
