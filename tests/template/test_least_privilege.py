"""Least privilege, proven locally: template.yaml's roles are what the functions run with.

The local stack runs each function with credentials of its own role (``sts:AssumeRole`` in moto) while
moto enforces IAM. So a permission missing from the template fails locally, as it would on AWS: here a
copy of template.yaml without the ingest role's ``sqs:SendMessage`` is deployed, and posting an event
(the ingest handler's path that queues the fan-out job) fails on exactly that call, while the rest of
the API keeps working. moto's audit log (``HOOKLINE_IAM_AUDIT_LOG``) names the denied call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from samtranslator.yaml_helper import yaml_parse

from local_stack.iam_enforcement import AUDIT_LOG_VARIABLE
from local_stack.process import StackInfo, StackProcess
from local_stack.roles import role_credentials

REPO = Path(__file__).resolve().parents[2]
REMOVED_SID = "QueueDeliveryJobs"  # the ingest role's only sqs:SendMessage grant


def _without_statement(function: str, sid: str) -> dict[str, Any]:
    """template.yaml with one statement of one function's policies left out (code paths made absolute)."""
    template: dict[str, Any] = yaml_parse((REPO / "template.yaml").read_text(encoding="utf-8"))
    removed = 0
    for policy in template["Resources"][function]["Properties"]["Policies"]:
        statements = policy.get("Statement", []) if isinstance(policy, dict) else []
        kept = [statement for statement in statements if statement.get("Sid") != sid]
        removed += len(statements) - len(kept)
        if statements:
            policy["Statement"] = kept
    assert removed == 1, f"{function} has no statement {sid} in template.yaml"
    for resource in template["Resources"].values():
        properties = resource.get("Properties") or {}
        for prop in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(prop), str):
                properties[prop] = str((REPO / properties[prop]).resolve())
    return template


@pytest.fixture(scope="module")
def weakened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackInfo, Path]]:
    directory = tmp_path_factory.mktemp("least-privilege")
    template = directory / "template.json"
    template.write_text(json.dumps(_without_statement("IngestFunction", REMOVED_SID)), encoding="utf-8")
    audit = directory / "iam-audit.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(AUDIT_LOG_VARIABLE, str(audit))
        patch.delenv("HOOKLINE_NO_IAM", raising=False)
        process = StackProcess(["--no-pollers"], log_file=directory / "stack.log", template=template)
        info = process.start()
    try:
        yield info, audit
    finally:
        process.stop()


def _audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _admin(info: StackInfo, service: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=info.region
    )
    return session.client(service, endpoint_url=info.aws_endpoint_url)  # type: ignore[call-overload]


def _as_role(info: StackInfo, function: str, service: str) -> Any:
    role_name = info.resources[f"{function}Role"]
    role_arn = _admin(info, "iam").get_role(RoleName=role_name)["Role"]["Arn"]
    keys = role_credentials(_admin(info, "sts"), role_arn, f"test-{function}")
    session = boto3.session.Session(
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=keys["AWS_SESSION_TOKEN"],
        region_name=info.region,
    )
    return session.client(service, endpoint_url=info.aws_endpoint_url)  # type: ignore[call-overload]


def test_a_permission_removed_from_the_template_fails_its_call_locally(
    weakened: tuple[StackInfo, Path],
) -> None:
    info, audit = weakened
    headers = {"Authorization": f"Bearer {info.api_key}"}
    tenant = requests.put(
        f"{info.api_url}/v1/tenants/acme", json={"name": "Acme"}, headers=headers, timeout=30
    )
    assert tenant.status_code in (200, 201), tenant.text  # everything the role still grants works

    posted = requests.post(
        f"{info.api_url}/v1/tenants/acme/events",
        json={"type": "order.created", "data": {"id": 1}},
        headers=headers,
        timeout=30,
    )

    assert posted.status_code == 503, posted.text
    assert set(posted.json()["error"]) == {"code", "message"}
    delivery_queue = _admin(info, "sqs").get_queue_attributes(
        QueueUrl=info.outputs["DeliveryQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    denied = [entry for entry in _audit(audit) if not entry["allowed"]]
    assert denied
    assert {(entry["action"], entry["resource"]) for entry in denied} == {("sqs:SendMessage", delivery_queue)}
    assert {entry["role"] for entry in denied} == {info.resources["IngestFunctionRole"]}


def test_each_role_is_held_to_its_own_grants(weakened: tuple[StackInfo, Path]) -> None:
    info, _ = weakened
    queue_url = info.outputs["DeliveryQueueUrl"]
    # The dispatch role still sends fan-out jobs (its grant was not touched) ...
    _as_role(info, "DispatchFunction", "sqs").send_message(QueueUrl=queue_url, MessageBody="{}")
    # ... the ingest role lost that grant, and never had SNS: both are AccessDenied, as on AWS.
    with pytest.raises(ClientError) as send:
        _as_role(info, "IngestFunction", "sqs").send_message(QueueUrl=queue_url, MessageBody="{}")
    with pytest.raises(ClientError) as publish:
        _as_role(info, "IngestFunction", "sns").publish(TopicArn=info.outputs["AlertsTopicArn"], Message="x")
    for refused, action in ((send.value, "sqs:SendMessage"), (publish.value, "sns:Publish")):
        assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        # moto answers JSON-protocol services (SQS here) with its XML error, which botocore cannot parse
        # into a code: the reason is in the message either way.
        assert "AccessDenied" in str(refused)
        assert f"is not authorized to perform: {action}" in str(refused)
