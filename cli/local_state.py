"""The local stack's state file, as the CLI decides whether to trust it with a key.

A state file names a URL and holds the admin key, so a planted or stale one could collect whatever key the
CLI sends. It is believed only when it is a regular file of this user that no one else may read or write
(0600, as the stack writes it), names an ``http`` loopback URL, and its ``pid`` is a running
``python -m local_stack`` of this user.
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def running_stack_state(path: Path, is_local_stack: Callable[[int], bool]) -> dict[str, Any] | None:
    """The local stack's state file, if it can be trusted with a key: a regular file of this user that no
    one else may read or write (0600), naming a loopback URL, written by a local stack that still runs."""
    try:
        details = path.lstat()
        if not stat.S_ISREG(details.st_mode) or details.st_uid != os.getuid() or details.st_mode & 0o077:
            return None
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("api_url"), str):
        return None
    if not _is_loopback_url(state["api_url"]):
        return None
    pid = state.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1 or not is_local_stack(pid):
        return None  # left behind by a stack that was stopped, or its pid now belongs to something else
    return state


def _is_loopback_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        return parts.scheme == "http" and (host == "localhost" or ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return False


def is_local_stack_process(pid: int) -> bool:
    """Whether ``pid`` is a running ``python -m local_stack`` of this user (any pid would not do: it may
    have been reused since the stack stopped)."""
    proc = Path("/proc") / str(pid)
    try:
        if proc.is_dir():
            if proc.stat().st_uid != os.getuid():
                return False
            command = (proc / "cmdline").read_bytes().split(b"\0")
            return any(part == b"local_stack" or part.startswith(b"local_stack.") for part in command)
        # No /proc (macOS): ps, by its absolute path, with a number as its only input.
        found = subprocess.run(  # noqa: S603
            ["/bin/ps", "-o", "uid=,command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return False
    return (
        len(found) > 1
        and found[0] == str(os.getuid())
        and any(part == "local_stack" or part.startswith("local_stack.") for part in found[1:])
    )
