"""``python -m local_stack.sam_local_check`` (``make sam-local-check``): proves ``sam local`` against moto
on this machine, offline, and leaves nothing behind.

Following ``shared/SAM_LOCAL.md``: a network namespace of its own with a private dockerd in it
(``container_sandbox``), the offline python3.13 Lambda image, built once and cached in
``~/.cache/hookline/sam-local`` (``lambda_image``; ``HOOKLINE_CACHE_DIR`` moves it, and
``HOOKLINE_DEBIAN_MIRROR`` names another Debian mirror), and ``sam build``.
Then, inside the namespace, ``sam_local_scenario``: ``sam local invoke`` on every fixture and
``sam local start-api`` up to a signed delivery verified with ``standardwebhooks``. Finally every
container, dockerd and the namespace go, and the check says so (or fails, naming what was left).

Where no container engine can run (not Linux, not root, no docker.io or debootstrap, no namespaces) it
prints why and exits 0 as SKIPPED; with ``HOOKLINE_SAM_LOCAL_REQUIRED=1`` (CI) that is a failure.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from local_stack.container_sandbox import ContainerSandbox, SandboxUnavailable, why_unavailable
from local_stack.lambda_image import DEFAULT_DEBIAN_MIRROR, ImageBuildError, LambdaImage
from local_stack.process import REPO_ROOT
from local_stack.sam_local import SAM, SamCommands, SamLocalError, run_build, sam_environment

PREFIX = "sam-local-check:"
REQUIRED_VARIABLE = "HOOKLINE_SAM_LOCAL_REQUIRED"
SAM_IMAGE_REPOSITORIES = "samcli/*"  # images SAM builds on top of the invoke image (RIE, layers)


def cache_dir() -> Path:
    root = os.environ.get("HOOKLINE_CACHE_DIR") or str(Path.home() / ".cache" / "hookline")
    return Path(root) / "sam-local"


def say(text: str) -> None:
    print(text, flush=True)


def _skip(reason: str) -> int:
    required = os.environ.get(REQUIRED_VARIABLE, "").strip() not in {"", "0"}
    verdict = "FAILED (required here)" if required else "SKIPPED"
    say(f"{PREFIX} {verdict}: no container engine can run here: {reason}")
    return 1 if required else 0


def _remove_sam_images(env: dict[str, str]) -> None:
    """SAM tags one image per layer build; drop them so the cache does not grow with every code change."""
    listed = subprocess.run(
        ["docker", "image", "ls", "--quiet", "--filter", f"reference={SAM_IMAGE_REPOSITORIES}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    images = sorted(set(listed.stdout.split()))
    if images:
        subprocess.run(
            ["docker", "image", "rm", "--force", *images], capture_output=True, env=env, check=False
        )


def check() -> int:
    started = time.monotonic()
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    rootfs_cached = any(cache.glob("rootfs-*.tar"))
    reason = why_unavailable(() if rootfs_cached else ("debootstrap",))
    if reason is None and not SAM.exists():
        reason = f"{SAM} is missing (make setup)"
    if reason is not None:
        return _skip(reason)
    with (cache / ".lock").open("w") as lock:
        # One private dockerd per data root: a concurrent check (another worktree) waits its turn.
        fcntl.flock(lock, fcntl.LOCK_EX)
        sandbox = ContainerSandbox(f"hl-sam-{os.getpid()}", cache / "docker", say)
        problems: list[str] = []
        outcome = 1
        try:
            try:
                sandbox.start()
            except SandboxUnavailable as exc:
                return _skip(str(exc))
            step = time.monotonic()
            mirror = os.environ.get("HOOKLINE_DEBIAN_MIRROR") or DEFAULT_DEBIAN_MIRROR
            image = LambdaImage(cache, ["docker"], sandbox.docker_env, say, mirror).ensure()
            say(f"image ready in {time.monotonic() - step:.1f} s")
            commands = SamCommands(invoke_image=image)
            step = time.monotonic()
            run_build(commands, sam_environment(), say)
            say(f"sam build done in {time.monotonic() - step:.1f} s")
            inside = subprocess.run(
                [*sandbox.nsenter, sys.executable, "-m", "local_stack.sam_local_check", "--inside", image],
                cwd=REPO_ROOT,
                env=sam_environment(sandbox.docker_env),
                check=False,
            )
            outcome = inside.returncode
        except (ImageBuildError, SamLocalError) as exc:
            say(f"{PREFIX} error: {exc}")
        except KeyboardInterrupt:
            say(f"{PREFIX} interrupted; tearing down")
            outcome = 130
        finally:
            _remove_sam_images(sandbox.docker_env)
            problems = sandbox.stop()
            say(f"teardown: {sandbox.cleanup_report(problems)}")
    elapsed = time.monotonic() - started
    if outcome == 0 and not problems:
        say(f"{PREFIX} PASSED in {elapsed:.1f} s")
        return 0
    say(f"{PREFIX} FAILED in {elapsed:.1f} s")
    return outcome or 1


def inside(image: str) -> int:
    """The part that runs in the namespace (started by ``check`` through nsenter)."""
    from local_stack.sam_local_scenario import CheckFailed, run

    commands = SamCommands(invoke_image=image)
    try:
        run(commands, say)
    except (CheckFailed, SamLocalError) as exc:
        say(f"{PREFIX} check failed: {exc}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack.sam_local_check", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--inside", metavar="IMAGE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inside:
        return inside(args.inside)
    return check()


if __name__ == "__main__":
    sys.exit(main())
