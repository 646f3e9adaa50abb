"""What the local stack gives ``sam local``: env.json, a bind address, queues left to ``sam local invoke``.

env.json must hold each function's environment exactly as deployed into moto (read back here from moto's
own Lambda API, so no variable name is spelled out), with ``AWS_ENDPOINT_URL`` as a container reaches moto.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from local_stack.process import StackProcess
from local_stack.runtime import deployed_environment

CONTAINER_HOST = "10.9.8.7"  # never connected to: it only has to appear in env.json


def _as_lambda_string(value: Any) -> str:
    # moto's CloudFormation hands Number parameters back as JSON numbers; Lambda passes strings.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_deployed_environment_points_the_function_at_the_given_endpoint() -> None:
    deployed = {"TABLE": "t", "AWS_ENDPOINT_URL": "http://elsewhere:1", "COUNT": 3}
    assert deployed_environment(deployed, "http://moto:4566") == {  # type: ignore[arg-type]
        "TABLE": "t",
        "COUNT": "3",
        "AWS_ENDPOINT_URL": "http://moto:4566",
    }


def test_env_json_is_the_deployed_environment_and_the_queues_are_left_alone(tmp_path: Path) -> None:
    env_json = tmp_path / "env.json"
    stack = StackProcess(
        ["--env-json", str(env_json), "--container-host", CONTAINER_HOST, "--no-pollers", "--api-key", "k"],
        log_file=tmp_path / "stack.log",
    )
    info = stack.start()
    try:
        assert info.state["sam_env_json"] == str(env_json)
        moto_port = info.aws_endpoint_url.rsplit(":", 1)[1]
        assert info.state["container_aws_endpoint_url"] == f"http://{CONTAINER_HOST}:{moto_port}"
        written = json.loads(env_json.read_text())
        assert set(written) == set(info.state["functions"])
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=info.region
        )
        lambda_client = session.client("lambda", endpoint_url=info.aws_endpoint_url)
        for logical_id, function in info.state["functions"].items():
            configuration = lambda_client.get_function_configuration(FunctionName=function["function_name"])
            variables = configuration["Environment"]["Variables"]
            expected = {name: _as_lambda_string(value) for name, value in variables.items()}
            expected["AWS_ENDPOINT_URL"] = info.state["container_aws_endpoint_url"]
            assert written[logical_id] == expected, logical_id

        # No pollers: an accepted event's job stays on the queue its consumer would poll.
        sources = [s for f in info.state["functions"].values() for s in f["event_sources"]]
        assert sources and info.state["pollers"] is False
        headers = {"Authorization": "Bearer k"}
        put = requests.put(f"{info.api_url}/v1/tenants/acme", json={"name": "A"}, headers=headers, timeout=10)
        assert put.status_code in {200, 201}, put.text
        posted = requests.post(
            f"{info.api_url}/v1/tenants/acme/events",
            json={"type": "order.created", "data": {}},
            headers=headers,
            timeout=10,
        )
        assert posted.status_code == 202, posted.text
        sqs = session.client("sqs", endpoint_url=info.aws_endpoint_url)
        depths = {
            source["queue_url"]: sqs.get_queue_attributes(
                QueueUrl=source["queue_url"], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            for source in sources
        }
        # The event waits on the delivery queue; the DLQ and the ordered (FIFO) queue and its DLQ stay empty.
        assert sorted(depths.values()) == ["0", "0", "0", "1"], depths
    finally:
        stack.stop()
    assert not env_json.exists()  # it names this run's resources and ports: gone with the stack


def test_a_wildcard_host_needs_a_container_host_for_env_json(tmp_path: Path) -> None:
    stack = StackProcess(
        ["--host", "0.0.0.0", "--env-json", str(tmp_path / "env.json")], log_file=tmp_path / "stack.log"
    )
    with pytest.raises(RuntimeError, match=r"cannot connect to 0\.0\.0\.0: give --container-host"):
        stack.start()
    assert stack.stop() == 2
    assert not (tmp_path / "env.json").exists()
