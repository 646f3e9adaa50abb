"""``python -m local_stack.sam_local`` (``make sam-local``): the real API in a Lambda container, in front of
the local stack's moto, queues and pollers.

1. ``sam build`` for this machine's architecture (the template's ``Architecture`` parameter; on x86_64,
   arm64 would run under qemu), into ``.aws-sam/sam-local/build``;
2. the local stack in the background, listening where containers reach it (the Docker bridge's gateway
   on Linux), writing env.json: every function's deployed environment with ``AWS_ENDPOINT_URL`` pointing
   at moto. Its pollers run dispatch and dlq_handler, because SAM emulates no SQS event source;
3. ``sam local start-api`` with that env.json, in the foreground, until Ctrl-C; then the stack stops.

Needs Docker (and internet for SAM's image, unless ``--invoke-image`` names a local one). The same
commands drive ``make sam-local-check`` (``local_stack.sam_local_check``), which proves them offline.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from local_stack.iam_enforcement import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY
from local_stack.lambda_image import Architecture
from local_stack.moto_server import LOOPBACK
from local_stack.process import REPO_ROOT, StackProcess
from local_stack.stack import ENV_JSON_NAME

SAM_DIR = REPO_ROOT / ".aws-sam" / "sam-local"
BUILD_DIR = SAM_DIR / "build"
ENV_JSON = REPO_ROOT / ENV_JSON_NAME  # where `python -m local_stack --env-json` writes it too
SAM = REPO_ROOT / ".venv-sam" / "bin" / "sam"
# SAM offline: no telemetry, a region, no EC2 metadata lookups for credentials.
SAM_ENVIRONMENT = {
    "SAM_CLI_TELEMETRY": "0",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
DOCKER_DESKTOP_HOST = "host.docker.internal"


class SamLocalError(Exception):
    """sam local cannot run here (no Docker, a failed build...)."""


def sam_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(SAM_ENVIRONMENT)
    env.pop("AWS_ENDPOINT_URL", None)  # the functions get theirs from env.json
    # sam local hands one set of host credentials to every container (or "defaultkey", which moto's IAM
    # enforcement refuses): the local stack's own keys. Functions under sam local are not held to their
    # roles; the local stack's worker processes are (docs/local-development.md, "IAM enforcement").
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    env["AWS_ACCESS_KEY_ID"] = ADMIN_ACCESS_KEY_ID
    env["AWS_SECRET_ACCESS_KEY"] = ADMIN_SECRET_ACCESS_KEY
    return env


@dataclass(frozen=True)
class SamCommands:
    """The ``sam`` command lines, shared by ``make sam-local`` and ``make sam-local-check``."""

    architecture: str = field(default_factory=lambda: Architecture.of_this_machine().lambda_name)
    env_json: Path = ENV_JSON
    build_dir: Path = BUILD_DIR
    invoke_image: str | None = None  # a local image instead of SAM's (pulled from public.ecr.aws)
    sam: Path = SAM

    def build(self) -> list[str]:
        return [
            str(self.sam),
            "build",
            "--template",
            str(REPO_ROOT / "template.yaml"),
            "--build-dir",
            str(self.build_dir),
            "--parameter-overrides",
            f"Architecture={self.architecture}",
        ]

    def _local(self) -> list[str]:
        args = [
            "--template",
            str(self.build_dir / "template.yaml"),
            "--env-vars",
            str(self.env_json),
            "--parameter-overrides",
            f"Architecture={self.architecture}",
        ]
        if self.invoke_image:
            args += ["--invoke-image", self.invoke_image, "--skip-pull-image"]
        return args

    def invoke(self, function: str, event: Path) -> list[str]:
        return [str(self.sam), "local", "invoke", function, "--event", str(event), *self._local()]

    def start_api(self, host: str, port: int) -> list[str]:
        return [
            str(self.sam),
            "local",
            "start-api",
            "--host",
            host,
            "--port",
            str(port),
            "--warm-containers",
            "LAZY",
            *self._local(),
        ]


def run_build(commands: SamCommands, env: Mapping[str, str], say: Callable[[str], None]) -> None:
    say(f"sam build (Architecture={commands.architecture}) into {commands.build_dir} ...")
    result = subprocess.run(commands.build(), capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SamLocalError(f"sam build failed:\n{(result.stdout + result.stderr).strip()}")


def docker_bridge_gateway(env: Mapping[str, str]) -> str:
    """The address containers on Docker's default bridge reach this machine by (Linux)."""
    result = subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise SamLocalError(f"cannot inspect Docker's bridge network: {result.stderr.strip()}")
    for entry in json.loads(result.stdout or "null") or []:
        if entry.get("Gateway"):
            return str(entry["Gateway"])
        # A freshly initialised engine may not list the gateway: it is the subnet's first address.
        with contextlib.suppress(KeyError, ValueError):
            network = ipaddress.ip_network(entry["Subnet"])
            if network.version == 4:
                return str(network.network_address + 1)
    raise SamLocalError("Docker's bridge network has no IPv4 gateway: give --bind and --container-host")


def start_stack(
    bind: str,
    container_host: str,
    env_json: Path,
    *,
    pollers: bool,
    extra_args: Sequence[str] = (),
    output: Callable[[str], None] | None = None,
    log_file: Path | None = None,
) -> StackProcess:
    """The local stack for containers: listening on ``bind``, env.json written for ``container_host``."""
    args = ["--host", bind, "--env-json", str(env_json), "--container-host", container_host]
    if not pollers:
        args.append("--no-pollers")
    stack = StackProcess([*args, *extra_args], output=output, log_file=log_file)
    stack.start()
    return stack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack.sam_local",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=3000, help="sam local start-api's port [%(default)s]")
    parser.add_argument(
        "--bind",
        help="where the local stack listens [Linux: Docker's bridge gateway; elsewhere 127.0.0.1]",
    )
    parser.add_argument(
        "--container-host",
        help=f"how containers reach the local stack [Linux: --bind; elsewhere {DOCKER_DESKTOP_HOST}]",
    )
    parser.add_argument("--invoke-image", help="a local Lambda image instead of public.ecr.aws's")
    parser.add_argument("--api-key", help="the admin API key (default: generated and printed)")
    parser.add_argument("--parameter-overrides", default="", help="template parameters for the local stack")
    parser.add_argument("--skip-build", action="store_true", help="reuse the last sam build")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def say(text: str) -> None:
        print(text, flush=True)

    env = sam_environment()
    if shutil.which("docker") is None:
        say("sam local needs Docker (the docker command and a running engine); `make dev` needs neither.")
        return 2
    commands = SamCommands(invoke_image=args.invoke_image)
    try:
        if platform.system() == "Linux":
            bind = args.bind or docker_bridge_gateway(env)
            container_host = args.container_host or bind
        else:
            bind = args.bind or LOOPBACK
            container_host = args.container_host or DOCKER_DESKTOP_HOST
        if not args.skip_build:
            run_build(commands, env, say)
    except SamLocalError as exc:
        say(f"error: {exc}")
        return 2
    extra = ["--parameter-overrides", args.parameter_overrides] if args.parameter_overrides else []
    if args.api_key:
        extra += ["--api-key", args.api_key]
    say(f"starting the local stack on {bind} (pollers for the SQS event sources; moto for AWS) ...")
    stack = start_stack(
        bind,
        container_host,
        commands.env_json,
        pollers=True,
        extra_args=extra,
        output=lambda line: print(f"  stack | {line}", flush=True),
    )
    try:
        info = stack.info
        assert info is not None
        say(
            f"\nThe API: http://{LOOPBACK}:{args.port}/v1/... (sam local start-api, ingest in a container)\n"
            f"API key: {info.api_key}\n"
            f"env.json: {commands.env_json} (AWS_ENDPOINT_URL={info.state['container_aws_endpoint_url']})\n"
            f"moto: {info.aws_endpoint_url}\n"
        )
        result = subprocess.run(commands.start_api(LOOPBACK, args.port), env=env, check=False)
        return result.returncode
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
