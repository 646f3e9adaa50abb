"""Start and stop a local stack as a child process (for the demo, the e2e tests and the benchmarks).

    with StackProcess(["--api-key", "k", "--parameter-overrides", "RetrySchedule=0,1,2"]) as stack:
        stack.info.api_url, stack.info.api_key, stack.info.aws_endpoint_url, stack.info.outputs

The stack listens on free ports and writes its state file (URLs, key, outputs) to a temporary directory;
``start`` returns once that file exists, which the stack writes when it is ready. ``stop`` sends SIGINT,
as Ctrl-C would, and waits for a clean exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class StackInfo:
    api_url: str
    api_key: str
    aws_endpoint_url: str
    region: str
    outputs: dict[str, str]
    resources: dict[str, str]
    state: dict[str, Any]


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


def stop_at_eof(process: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """Stop a child that exits when its stdin closes (workers, moto's runner, bench receivers): close
    stdin, wait, then terminate, then kill, so nothing outlives its parent's stop."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


class StackProcess:
    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        output: Callable[[str], None] | None = None,
        log_file: Path | None = None,
        template: Path | None = None,
    ) -> None:
        """``output`` receives each line the stack prints; otherwise it goes to ``log_file`` (if any)."""
        self._args = list(args)
        self._output = output
        self._log_file = log_file
        self._template = template or REPO_ROOT / "template.yaml"
        self._tmp = tempfile.TemporaryDirectory(prefix="hookline-stack-")
        self.state_file = Path(self._tmp.name) / "state.json"
        self.process: subprocess.Popen[bytes] | None = None
        self.info: StackInfo | None = None
        self.startup_seconds = 0.0
        self._log_handle: IO[bytes] | None = None
        self._lines: list[str] = []

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "local_stack",
            "--template",
            str(self._template),
            "--port",
            "0",
            "--moto-port",
            "0",
            "--state-file",
            str(self.state_file),
            *self._args,
        ]

    def start(self, timeout: float = 90.0) -> StackInfo:
        env = dict(os.environ)
        env.pop("AWS_ENDPOINT_URL", None)
        env["PYTHONUNBUFFERED"] = "1"
        started = time.perf_counter()
        if self._output is None and self._log_file is not None:
            self._log_handle = self._log_file.open("wb")
        stdout: Any = (
            subprocess.PIPE if self._output is not None else (self._log_handle or subprocess.DEVNULL)
        )
        self.process = subprocess.Popen(
            self.command, cwd=REPO_ROOT, env=env, stdout=stdout, stderr=subprocess.STDOUT
        )
        if self._output is not None:
            threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            if self.state_file.exists():
                state = json.loads(self.state_file.read_text())
                if state.get("pid") == self.process.pid:
                    break
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited with {self.process.returncode}: {self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local stack was not ready within {timeout:.0f} s: {self.tail()}")
            time.sleep(0.02)
        self.startup_seconds = time.perf_counter() - started
        self.info = StackInfo(
            api_url=state["api_url"],
            api_key=state["api_key"],
            aws_endpoint_url=state["aws_endpoint_url"],
            region=state["region"],
            outputs=dict(state["outputs"]),
            resources=dict(state["resources"]),
            state=state,
        )
        return self.info

    def _pump(self) -> None:
        process = self.process
        assert process is not None and process.stdout is not None and self._output is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self._lines.append(line)
            self._output(line)

    def tail(self, lines: int = 20) -> str:
        if self._lines:
            return "\n".join(self._lines[-lines:])
        if self._log_file is not None and self._log_file.exists():
            return "\n".join(self._log_file.read_text(errors="replace").splitlines()[-lines:])
        return "(no output captured)"

    def children(self) -> list[int]:
        return [] if self.process is None else child_pids(self.process.pid)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGINT (Ctrl-C), then wait; SIGKILL the whole tree only if it does not exit in time."""
        process = self.process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                for pid in child_pids(process.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                process.kill()
                process.wait()
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None
        self._tmp.cleanup()
        return process.returncode

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
