"""The parts of ``make sam-local`` and ``make sam-local-check`` that need no container engine: the image's
file layout, the sam command lines, the addresses, and that every fixture in events/ is checked."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from local_stack import lambda_image, sam_local
from local_stack.lambda_image import BOOTSTRAP, LambdaImage
from local_stack.moto_server import connect_host, http_url, is_wildcard
from local_stack.sam_local import SamCommands
from local_stack.sam_local_scenario import EVENTS, FIXTURES, fixture_api_key


def _image(tmp_path: Path) -> LambdaImage:
    return LambdaImage(tmp_path, ["docker"], {}, lambda text: None)


def test_the_image_is_the_base_file_system_plus_the_runtime_and_its_bootstrap(tmp_path: Path) -> None:
    image = _image(tmp_path)
    base = tmp_path / "base"
    (base / "usr" / "bin").mkdir(parents=True)
    (base / "usr" / "bin" / "python3.13").write_text("#!/bin/false\n")
    with tarfile.open(image.rootfs_tar, "w") as archive:
        archive.add(base, arcname=".")
    runtime = tmp_path / "runtime"
    (runtime / "awslambdaric").mkdir(parents=True)
    (runtime / "awslambdaric" / "__init__.py").write_text("# the runtime interface client\n")

    sink = io.BytesIO()
    image._write_image_tar(sink, runtime)
    sink.seek(0)
    with tarfile.open(fileobj=sink) as written:
        members = {member.name: member for member in written.getmembers()}
        bootstrap = written.extractfile("./var/runtime/bootstrap")
        assert bootstrap is not None
        assert bootstrap.read().decode() == BOOTSTRAP
    assert "./usr/bin/python3.13" in members
    assert members["./var/task"].isdir()
    assert members["./var/runtime/awslambdaric/__init__.py"].isfile()
    assert members["./var/runtime/bootstrap"].mode == 0o755
    assert 'exec /usr/bin/python3.13 -m awslambdaric "${_HANDLER' in BOOTSTRAP
    assert "PYTHONPATH=/var/task:/opt/python:/var/runtime" in BOOTSTRAP


def test_the_image_tag_names_its_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _image(tmp_path).tag
    assert first.startswith(f"hookline/lambda-python3.13:{_image(tmp_path).architecture.lambda_name}-")
    assert _image(tmp_path).tag == first
    monkeypatch.setattr(lambda_image, "AWSLAMBDARIC", "awslambdaric==9.9.9")
    assert _image(tmp_path).tag != first


def test_the_runtime_pins_boto3_as_the_dev_requirements_do(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto3-stubs==1.0\nboto3==1.44.8\nmoto==5\n")
    assert lambda_image.boto3_requirement(requirements) == "boto3==1.44.8"
    requirements.write_text("moto==5\n")
    with pytest.raises(lambda_image.ImageBuildError, match="pins no boto3"):
        lambda_image.boto3_requirement(requirements)


def test_sam_commands_share_template_env_vars_architecture_and_image() -> None:
    commands = SamCommands(architecture="x86_64", env_json=Path("/e/env.json"), invoke_image="img:1")
    shared = [
        "--template",
        str(sam_local.BUILD_DIR / "template.yaml"),
        "--env-vars",
        "/e/env.json",
        "--parameter-overrides",
        "Architecture=x86_64",
        "--invoke-image",
        "img:1",
        "--skip-pull-image",
    ]
    invoke = commands.invoke("IngestFunction", Path("events/put_tenant.json"))
    assert invoke[1:5] == ["local", "invoke", "IngestFunction", "--event"]
    assert invoke[-len(shared) :] == shared
    start_api = commands.start_api("127.0.0.1", 3000)
    assert start_api[1:3] == ["local", "start-api"]
    assert start_api[-len(shared) :] == shared
    assert "--warm-containers" in start_api
    assert commands.build()[-2:] == ["--parameter-overrides", "Architecture=x86_64"]
    assert "--invoke-image" not in SamCommands(architecture="arm64").invoke("F", Path("e.json"))


def test_the_bridge_gateway_of_a_fresh_engine_is_its_subnets_first_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = iter(['[{"Subnet":"172.17.0.0/16","Gateway":"172.17.0.1"}]', '[{"Subnet":"172.18.0.0/16"}]'])

    class Done:
        returncode = 0
        stderr = ""

        def __init__(self, stdout: str) -> None:
            self.stdout = stdout

    def run(*args: Any, **kwargs: Any) -> Done:
        return Done(next(answers))

    monkeypatch.setattr(sam_local.subprocess, "run", run)
    assert sam_local.docker_bridge_gateway({}) == "172.17.0.1"
    assert sam_local.docker_bridge_gateway({}) == "172.18.0.1"


def test_addresses_for_clients_and_containers() -> None:
    assert is_wildcard("0.0.0.0") and is_wildcard("::") and not is_wildcard("172.17.0.1")
    assert not is_wildcard("host.docker.internal")
    assert connect_host("0.0.0.0") == "127.0.0.1"
    assert connect_host("172.17.0.1") == "172.17.0.1"
    assert http_url("172.17.0.1", 4566) == "http://172.17.0.1:4566"
    assert http_url("::1", 4566) == "http://[::1]:4566"


def test_the_check_knows_every_fixture_in_events_and_the_key_they_carry() -> None:
    assert {path.name for path in EVENTS.glob("*.json")} == set(FIXTURES)
    key = fixture_api_key()
    for name, (_, status) in FIXTURES.items():
        fixture = json.loads((EVENTS / name).read_text())
        if status is not None:
            assert fixture["headers"]["authorization"] == f"Bearer {key}", name
