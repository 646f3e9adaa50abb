"""A network namespace of our own with a private Docker engine in it (``shared/SAM_LOCAL.md``).

Docker's default bridge (172.17.0.0/16) is a private range; here it exists only inside the namespace,
and nothing leaves the machine. ``ip netns exec`` fails on these machines ("Devices cgroup isn't
mounted": it remounts /sys), so commands enter with ``nsenter --net=``. The engine is private: its own
socket and exec root in a temporary directory, and a data root in the cache (so the Lambda image built
once is there next time). ``stop`` removes every container, stops dockerd by its pid, checks that no
process, mount or namespace is left, and reports what it found.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from local_stack.process import pid_alive

NETNS_DIR = Path("/var/run/netns")
REQUIRED_COMMANDS = ("ip", "nsenter", "dockerd", "docker", "tar")
DOCKERD_READY_SECONDS = 60.0
DOCKERD_STOP_SECONDS = 30.0


class SandboxUnavailable(Exception):
    """No container engine can run here (not Linux, not root, missing tools, no namespaces...)."""


def why_unavailable(extra_commands: tuple[str, ...] = ()) -> str | None:
    """Why a sandbox cannot be made here, or None."""
    if not Path("/proc/self/ns/net").exists():
        return "network namespaces are Linux-only"
    if os.geteuid() != 0:
        return "creating a network namespace and running dockerd need root"
    missing = [name for name in (*REQUIRED_COMMANDS, *extra_commands) if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} not found (apt-get install -y docker.io debootstrap)"
    return None


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


class ContainerSandbox:
    def __init__(self, name: str, data_root: Path, say: Callable[[str], None]) -> None:
        self.name = name
        self.data_root = data_root
        self.say = say
        self.netns = NETNS_DIR / name
        self._scratch = Path(tempfile.mkdtemp(prefix="hl-sam-"))  # short: socket paths have a limit
        self.socket = self._scratch / "docker.sock"
        self.log = self._scratch / "dockerd.log"
        self._dockerd: subprocess.Popen[bytes] | None = None
        self._netns_inode: int | None = None

    @property
    def nsenter(self) -> list[str]:
        """Prefix a command with this to run it inside the namespace."""
        return ["nsenter", f"--net={self.netns}"]

    @property
    def docker_env(self) -> dict[str, str]:
        """The environment that points the docker CLI and SAM (docker-py) at the private engine."""
        return {**os.environ, "DOCKER_HOST": f"unix://{self.socket}"}

    def start(self) -> None:
        created = _run(["ip", "netns", "add", self.name])
        if created.returncode != 0:
            raise SandboxUnavailable(f"cannot create a network namespace: {created.stderr.strip()}")
        self._netns_inode = self.netns.stat().st_ino
        _run(["ip", "-n", self.name, "link", "set", "lo", "up"])
        self.data_root.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self._dockerd = subprocess.Popen(
                [
                    *self.nsenter,
                    "dockerd",
                    "--dns",
                    "127.0.0.1",
                    "--host",
                    f"unix://{self.socket}",
                    "--data-root",
                    str(self.data_root),
                    "--exec-root",
                    str(self._scratch / "exec"),
                    "--pidfile",
                    str(self._scratch / "dockerd.pid"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C meant for the check does not kill the engine mid-way
            )
        deadline = time.monotonic() + DOCKERD_READY_SECONDS
        while _run(["docker", "version"], env=self.docker_env).returncode != 0:
            if self._dockerd.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])
                raise SandboxUnavailable(f"dockerd did not start in the namespace:\n{tail}")
            time.sleep(0.2)
        self.say(f"dockerd (pid {self._dockerd.pid}) is up in network namespace {self.name}")

    # ---------------------------------------------------------------- teardown

    def _processes_in_namespace(self) -> list[int]:
        found: list[int] = []
        if self._netns_inode is None:
            return found
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if (entry / "ns" / "net").stat().st_ino == self._netns_inode and pid_alive(int(entry.name)):
                    found.append(int(entry.name))
        return found

    def _mounts_left(self) -> list[str]:
        roots = (str(self._scratch), str(self.data_root))
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        return [line.split()[1] for line in mounts if line.split()[1].startswith(roots)]

    def stop(self) -> list[str]:
        """Tear everything down; return what was left behind (empty when all is clean)."""
        problems: list[str] = []
        dockerd = self._dockerd
        if dockerd is not None and dockerd.poll() is None:
            listed = _run(["docker", "ps", "--all", "--quiet"], env=self.docker_env)
            containers = listed.stdout.split()
            if containers:
                _run(["docker", "rm", "--force", "--volumes", *containers], env=self.docker_env)
            still = _run(["docker", "ps", "--all", "--quiet"], env=self.docker_env).stdout.split()
            if still:
                problems.append(f"containers that would not go: {still}")
            self.say(
                f"removed {len(containers)} container(s) left by sam; stopping dockerd (pid {dockerd.pid})"
            )
            dockerd.send_signal(signal.SIGTERM)
            try:
                dockerd.wait(timeout=DOCKERD_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                problems.append(
                    f"dockerd (pid {dockerd.pid}) ignored SIGTERM for {DOCKERD_STOP_SECONDS:.0f} s"
                )
                dockerd.kill()
                dockerd.wait()
        if dockerd is not None and pid_alive(dockerd.pid):
            problems.append(f"dockerd (pid {dockerd.pid}) is still running")
        stragglers = self._processes_in_namespace()
        if stragglers:
            # Everything in this namespace was started for this check: nothing else can be in it.
            problems.append(f"processes left in the namespace (killed now): {stragglers}")
            for pid in stragglers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        mounts = self._mounts_left()
        if mounts:
            problems.append(f"mounts left: {mounts}")
        if self.netns.exists():
            deleted = _run(["ip", "netns", "del", self.name])
            if deleted.returncode != 0:
                problems.append(f"ip netns del {self.name}: {deleted.stderr.strip()}")
        if self.netns.exists():
            problems.append(f"network namespace {self.name} still exists")
        shutil.rmtree(self._scratch, ignore_errors=True)
        return problems

    def cleanup_report(self, problems: list[str]) -> str:
        if problems:
            return "left behind: " + "; ".join(problems)
        return (
            f"nothing left: no container, dockerd stopped, no process in namespace {self.name}, "
            "no mount, namespace deleted"
        )
