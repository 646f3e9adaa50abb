"""End-to-end tests: the whole system, driven over HTTP only.

By default they start the local stack (``python -m local_stack``) once per session, as a child process
with a short retry schedule and a fixed API key, and aim real receivers on 127.0.0.1 at it.

With ``AWS_SAM_STACK_NAME`` set they target that deployed stack instead: its ``ApiUrl`` output, and the
admin key read from its ``AdminApiKeySecretArn`` secret (with the usual AWS credentials and region).
Tests that need receivers on 127.0.0.1 or the moto server are then skipped: a Lambda in AWS cannot
reach this machine's loopback address.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from cli.client import ApiError, HooklineClient, paginate
from local_stack.process import StackProcess
from tests.waiting import wait_until

API_KEY = "e2e-" + secrets.token_urlsafe(16)
# Four attempts, one second apart: retries and dead letters in seconds. (Each failing endpoint in these
# tests fails at most four times in a row, under the circuit breaker's default threshold of five.)
RETRY_SCHEDULE = "0,1,1,1"
ATTEMPTS = len(RETRY_SCHEDULE.split(","))
# Recurring schedules' clock runs 30 times faster locally: a rate(1 minute) schedule fires every 2 s.
SCHEDULE_TIME_SCALE = 30


@dataclass
class Target:
    api_url: str
    api_key: str
    local: bool
    region: str
    outputs: dict[str, str]
    aws_endpoint_url: str | None = None  # the moto server (local stack only)
    process: StackProcess | None = None

    def aws_client(self, service: str) -> Any:
        if self.aws_endpoint_url is None:
            return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=self.region
        )
        return session.client(service, endpoint_url=self.aws_endpoint_url)  # type: ignore[call-overload]


def start_local_stack(tmp_dir: Path, *extra: str) -> Target:
    process = StackProcess(
        [
            "--api-key",
            API_KEY,
            "--parameter-overrides",
            f"RetrySchedule={RETRY_SCHEDULE}",
            "--schedule-time-scale",
            str(SCHEDULE_TIME_SCALE),
            *extra,
        ],
        log_file=tmp_dir / "stack.log",
    )
    info = process.start()
    return Target(
        api_url=info.api_url,
        api_key=info.api_key,
        local=True,
        region=info.region,
        outputs=info.outputs,
        aws_endpoint_url=info.aws_endpoint_url,
        process=process,
    )


def deployed_target(stack_name: str) -> Target:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    cloudformation = boto3.client("cloudformation", region_name=region)
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}
    secret = boto3.client("secretsmanager", region_name=region).get_secret_value(
        SecretId=outputs["AdminApiKeySecretArn"]
    )
    return Target(
        api_url=outputs["ApiUrl"].rstrip("/"),
        api_key=secret["SecretString"],
        local=False,
        region=region,
        outputs=outputs,
    )


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    stack_name = os.environ.get("AWS_SAM_STACK_NAME")
    if stack_name:
        yield deployed_target(stack_name)
        return
    target = start_local_stack(tmp_path_factory.mktemp("stack"))
    assert target.process is not None
    try:
        yield target
    finally:
        code = target.process.stop()
        assert code == 0, f"the local stack exited with {code}"


@pytest.fixture
def local_target(target: Target) -> Target:
    if not target.local:
        pytest.skip("needs receivers on 127.0.0.1 (unreachable from a deployed stack)")
    return target


class Api:
    """The v1 API over HTTP, as a client would call it: the repo's one client (``cli.client``) plus the
    helpers these tests share. ``request`` answers any status as it is, for tests of bad input."""

    def __init__(self, target: Target) -> None:
        self.client = HooklineClient(target.api_url, target.api_key, timeout=30)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.client.request(method, path, **kwargs)

    def tenant(self) -> str:
        tenant_id = f"e2e-{uuid.uuid4().hex[:10]}"
        self.client.put_tenant(tenant_id, "E2E tenant")
        return tenant_id

    def endpoint(self, tenant_id: str, url: str, **settings: Any) -> tuple[str, str]:
        """Register an endpoint; return (endpoint id, signing secret)."""
        created = self.client.create_endpoint(tenant_id, url, **settings)
        assert "secret" not in created
        return created["id"], self.client.endpoint_secret(tenant_id, created["id"])["secret"]

    def send(
        self,
        tenant_id: str,
        event_type: str,
        data: Any,
        idempotency_key: str | None = None,
        ordering_key: str | None = None,
    ) -> dict[str, Any]:
        """The accepted event (202 ``{"id", "type", "timestamp"}``); any other answer raises ApiError."""
        return self.client.send_event(
            tenant_id, event_type, data, idempotency_key=idempotency_key, ordering_key=ordering_key
        )

    def event(self, tenant_id: str, event_id: str) -> dict[str, Any]:
        return self.client.get_event(tenant_id, event_id)

    def attempts(self, tenant_id: str, event_id: str) -> list[dict[str, Any]]:
        return list(
            paginate(lambda cursor: self.client.list_event_attempts(tenant_id, event_id, cursor=cursor))
        )

    def wait_settled(self, tenant_id: str, event_id: str, timeout: float = 20.0) -> dict[str, Any]:
        """The event once every delivery has succeeded or failed for good."""

        def settled() -> dict[str, Any] | None:
            try:
                event = self.event(tenant_id, event_id)
            except ApiError as error:
                if error.status != 404:  # 404: accepted, not recorded by dispatch yet
                    raise
                return None
            deliveries = event.get("deliveries") or []
            fanned_out = event.get("fanout") == "done"
            if fanned_out and all(item["status"] in {"succeeded", "failed"} for item in deliveries):
                return event  # an event no endpoint matched settles with no delivery at all
            return None

        return wait_until(settled, timeout, f"event {event_id} settles", poll=0.2)


DELIVERY_QUEUES = ("DeliveryQueueUrl", "OrderedDeliveryQueueUrl")
QUEUED = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def wait_quiet(target: Target, timeout: float = 30.0) -> None:
    """Until no delivery queue holds a message (visible, in flight or delayed): nothing more can reach a
    receiver, so a test may count what arrived. The positive signal instead of "sleep, then count"."""
    sqs = target.aws_client("sqs")

    def quiet() -> bool:
        for output in DELIVERY_QUEUES:
            attributes = sqs.get_queue_attributes(
                QueueUrl=target.outputs[output], AttributeNames=list(QUEUED)
            )
            if any(int(attributes["Attributes"].get(name, "0")) for name in QUEUED):
                return False
        return True

    wait_until(quiet, timeout, "the delivery queues are empty", poll=0.1)


@pytest.fixture
def api(target: Target) -> Api:
    return Api(target)


@pytest.fixture
def tenant(api: Api) -> str:
    return api.tenant()
