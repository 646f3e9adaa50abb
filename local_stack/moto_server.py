"""moto's server (the local AWS) in a child process, and the addresses the local stack listens on."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from local_stack.logs import LogRenderer
from local_stack.process import stop_at_eof

LOOPBACK = "127.0.0.1"
MOTO_RUNNER = Path(__file__).with_name("_moto_runner.py")

# moto reports every template resource type its CloudFormation skips (API Gateway v2, alarms): expected.
_MOTO_NOISE = ("CloudFormation support", "not supported by moto", "parse_resource")


class MotoStartError(Exception):
    """moto's server did not start (a port in use, an address this machine does not have...)."""


def connect_host(bind_host: str) -> str:
    """The address a client on this machine uses for a server bound to ``bind_host``."""
    return LOOPBACK if is_wildcard(bind_host) else bind_host


def is_wildcard(host: str) -> bool:
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_unspecified
    return False


def http_url(host: str, port: int) -> str:
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            return f"http://[{host}]:{port}"
    return f"http://{host}:{port}"


class MotoServer:
    """moto's server in a child process that exits when this process closes its stdin (or dies)."""

    def __init__(
        self,
        host: str,
        port: int,
        log: LogRenderer,
        fault_rate: float | None = None,
        fault_seed: int | None = None,
        fair_queues: bool = True,
        enforce_iam: bool = False,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._log = log
        self._args = [] if fault_rate is None else ["--fault-rate", str(fault_rate)]
        if fault_rate is not None and fault_seed is not None:
            self._args += ["--fault-seed", str(fault_seed)]
        if enforce_iam:
            self._args.append("--iam")
        if not fair_queues:
            self._args.append("--no-fair-queues")
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.fault_port: int | None = None

    @property
    def url(self) -> str:
        """moto's URL for clients on this machine (the pollers, the deployment, tests)."""
        return http_url(connect_host(self.host), self.port)

    @property
    def function_url(self) -> str:
        """The endpoint the functions get: the fault-injecting port when chaos runs ask for faults."""
        return self.url if self.fault_port is None else http_url(connect_host(self.host), self.fault_port)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        env = dict(os.environ)
        env.pop("AWS_ENDPOINT_URL", None)
        # The runner imports local_stack.aws_faults, _fair_sqs and fair_queue (nothing else of ours).
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(MOTO_RUNNER.parent.parent), env.get("PYTHONPATH")])
        )
        self._process = subprocess.Popen(
            [sys.executable, "-P", str(MOTO_RUNNER), self.host, str(self._requested_port), *self._args],
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
            raise MotoStartError(
                f"moto's server did not start on {self.host}:{self._requested_port}: {detail[0]}"
            )
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
