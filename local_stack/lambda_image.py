"""A python3.13 Lambda-like image built without a container registry, for ``sam local --invoke-image``.

SAM normally pulls ``public.ecr.aws/lambda/python:3.13``. Where that registry is out of reach, this
builds an equivalent from package registries only (``shared/SAM_LOCAL.md`` has what was measured):

- the base is Debian 13 (``trixie``, which ships Python 3.13), made with ``debootstrap --variant=minbase``
  from a Debian mirror; its root file system is kept as a tar file in the cache, as the slow step;
- ``/var/runtime`` holds ``awslambdaric`` and boto3 (pinned as in requirements-dev.txt: what Lambda's
  runtime ships), installed from PyPI for the image's architecture;
- ``/var/runtime/bootstrap`` starts ``awslambdaric`` on the handler SAM names, with ``/var/task`` and
  ``/opt/python`` (code and layers) on ``sys.path`` as on Lambda.

SAM adds its Runtime Interface Emulator (shipped in the aws-sam-cli wheel) on top. The image is tagged
with a digest of this recipe, so a changed recipe builds a new one and an unchanged one is reused.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
DEBIAN_SUITE = "trixie"
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"
AWSLAMBDARIC = "awslambdaric==4.2.2"
IMAGE_REPOSITORY = "hookline/lambda-python3.13"
PYTHON = "/usr/bin/python3.13"
BOOTSTRAP = f"""#!/bin/sh
# Lambda's runtime API client in place of Lambda's own runtime; sys.path as on Lambda.
export PYTHONPATH=/var/task:/opt/python:/var/runtime
exec {PYTHON} -m awslambdaric "${{_HANDLER:-$AWS_LAMBDA_FUNCTION_HANDLER}}"
"""
IMAGE_SETTINGS = (
    "ENV PATH=/usr/local/bin:/usr/bin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV TZ=:UTC",
    "ENV LAMBDA_TASK_ROOT=/var/task",
    "ENV LAMBDA_RUNTIME_DIR=/var/runtime",
    "WORKDIR /var/task",
)

Say = Callable[[str], None]


class ImageBuildError(Exception):
    """A step of the image build failed (its output is in the message)."""


@dataclass(frozen=True)
class Architecture:
    lambda_name: str  # what template.yaml's Architecture parameter takes
    debian_name: str
    wheel_tag: str

    @classmethod
    def of_this_machine(cls) -> Architecture:
        machine = platform.machine().lower()
        if machine in {"x86_64", "amd64"}:
            return cls("x86_64", "amd64", "x86_64")
        if machine in {"aarch64", "arm64"}:
            return cls("arm64", "arm64", "aarch64")
        raise ImageBuildError(f"Lambda has no {machine} architecture (only x86_64 and arm64)")


def boto3_requirement(requirements: Path = REPO_ROOT / "requirements-dev.txt") -> str:
    """boto3 as the dev requirements pin it (they mirror what Lambda's runtime ships)."""
    found = re.search(r"^boto3==[\w.]+$", requirements.read_text(encoding="utf-8"), flags=re.MULTILINE)
    if found is None:
        raise ImageBuildError(f"{requirements} pins no boto3 version (boto3==...)")
    return found.group(0)


def _run(command: list[str], what: str, *, env: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise ImageBuildError(f"{what} failed ({' '.join(command[:3])} ...):\n{tail}")
    return result.stdout


class LambdaImage:
    """Builds (once) and names the image; ``docker`` is the command line of a running engine's client."""

    def __init__(
        self,
        cache_dir: Path,
        docker: list[str],
        docker_env: Mapping[str, str],
        say: Say,
        mirror: str = DEFAULT_DEBIAN_MIRROR,
    ) -> None:
        self.cache_dir = cache_dir
        self.docker = docker
        self.docker_env = dict(docker_env)
        self.say = say
        self.mirror = mirror
        self.architecture = Architecture.of_this_machine()
        self.requirements = (AWSLAMBDARIC, boto3_requirement())

    @property
    def tag(self) -> str:
        recipe = "\n".join(
            [DEBIAN_SUITE, self.architecture.debian_name, BOOTSTRAP, *IMAGE_SETTINGS, *self.requirements]
        )
        digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
        return f"{IMAGE_REPOSITORY}:{self.architecture.lambda_name}-{digest}"

    @property
    def rootfs_tar(self) -> Path:
        return self.cache_dir / f"rootfs-debian-{DEBIAN_SUITE}-{self.architecture.debian_name}.tar"

    def exists(self) -> bool:
        inspect = [*self.docker, "image", "inspect", self.tag]
        return subprocess.run(inspect, capture_output=True, check=False, env=self.docker_env).returncode == 0

    def ensure(self) -> str:
        """The image's tag, building what is not cached yet."""
        if self.exists():
            self.say(f"image {self.tag}: cached")
            return self.tag
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        if not self.rootfs_tar.exists():
            self._debootstrap()
        else:
            self.say(f"base file system: cached ({self.rootfs_tar})")
        with tempfile.TemporaryDirectory(prefix="runtime-", dir=self.cache_dir) as scratch:
            runtime = Path(scratch) / "runtime"
            self.say(f"installing {' and '.join(self.requirements)} into /var/runtime (PyPI)")
            _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                    str(runtime),
                    "--only-binary=:all:",
                    "--implementation",
                    "cp",
                    "--python-version",
                    "3.13",
                    "--platform",
                    f"manylinux2014_{self.architecture.wheel_tag}",
                    "--platform",
                    f"manylinux_2_28_{self.architecture.wheel_tag}",
                    *self.requirements,
                ],
                "pip install of the runtime",
            )
            self.say(f"importing the image as {self.tag}")
            self._import(runtime)
        try:
            self._smoke_test()
        except ImageBuildError:
            remove = [*self.docker, "image", "rm", "--force", self.tag]
            subprocess.run(remove, capture_output=True, check=False, env=self.docker_env)
            raise
        return self.tag

    def _debootstrap(self) -> None:
        if shutil.which("debootstrap") is None:
            raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap)")
        self.say(f"debootstrap {DEBIAN_SUITE} ({self.architecture.debian_name}) from {self.mirror}")
        with tempfile.TemporaryDirectory(prefix="rootfs-", dir=self.cache_dir) as scratch:
            rootfs = Path(scratch) / "rootfs"
            _run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--arch={self.architecture.debian_name}",
                    "--include=python3,ca-certificates",
                    DEBIAN_SUITE,
                    str(rootfs),
                    self.mirror,
                ],
                "debootstrap",
            )
            partial = self.rootfs_tar.with_suffix(".tar.partial")
            _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], "tar")
            partial.replace(self.rootfs_tar)

    def _import(self, runtime: Path) -> None:
        command = [*self.docker, "import"]
        for setting in IMAGE_SETTINGS:
            command += ["--change", setting]
        command += ["-", self.tag]
        with tempfile.TemporaryFile() as errors:
            importer = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, env=self.docker_env
            )
            assert importer.stdin is not None
            try:
                self._write_image_tar(importer.stdin, runtime)
            except BrokenPipeError:
                pass  # the importer failed: its own message is reported below
            finally:
                with contextlib.suppress(BrokenPipeError):
                    importer.stdin.close()
            if importer.wait() != 0:
                errors.seek(0)
                message = errors.read().decode(errors="replace").strip()
                raise ImageBuildError(f"docker import failed: {message}")

    def _write_image_tar(self, sink: IO[bytes], runtime: Path) -> None:
        """The base file system, then /var/task, /var/runtime and its bootstrap, as one tar stream."""
        with (
            tarfile.open(self.rootfs_tar, mode="r:") as base,
            tarfile.open(fileobj=sink, mode="w|", format=tarfile.GNU_FORMAT) as image,
        ):
            for member in base:
                image.addfile(member, base.extractfile(member) if member.isreg() else None)
            for directory in ("./var/task", "./var/runtime"):
                info = tarfile.TarInfo(directory)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                image.addfile(info)
            for path in sorted(runtime.rglob("*")):
                image.add(path, arcname=f"./var/runtime/{path.relative_to(runtime)}", recursive=False)
            script = BOOTSTRAP.encode()
            info = tarfile.TarInfo("./var/runtime/bootstrap")
            info.size, info.mode = len(script), 0o755
            image.addfile(info, io.BytesIO(script))

    def _smoke_test(self) -> None:
        check = "import awslambdaric, boto3, sys; print(sys.version.split()[0], boto3.__version__)"
        run = [*self.docker, "run", "--rm", "--network", "none", "--env", "PYTHONPATH=/var/runtime"]
        versions = _run(
            [*run, self.tag, PYTHON, "-c", check],
            "the image's smoke test",
            env=self.docker_env,
        ).strip()
        self.say(f"image {self.tag}: Python {versions.replace(' ', ', boto3 ')}")
