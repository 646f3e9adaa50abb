"""Run the real handlers in-process under moto, the way Lambda and its SQS event source would.

The AWS resources come from deploying template.yaml into moto (``local_stack.cloudformation``), and each
function runs with exactly the environment the template gives it, so tests cannot drift from the template.
"""

from __future__ import annotations

import importlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from hookline import aws
from hookline.core import config
from local_stack.cloudformation import DeployedStack, FunctionSpec
from local_stack.sqs_poller import lambda_record
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
MODULES = {
    "IngestFunction": "functions.ingest.app",
    "DispatchFunction": "functions.dispatch.app",
    "DlqHandlerFunction": "functions.dlq_handler.app",
}


# Modules whose cached factories hold a container's state (settings, clients, stores, caches).
CONTAINER_MODULES = (
    "hookline.api.container",
    "hookline.delivery.container",
    "hookline.dead_letters.container",
)


def reset_hookline() -> None:
    """Forget every per-container cache, as a fresh Lambda container would."""
    for module in [config, *(importlib.import_module(name) for name in CONTAINER_MODULES)]:
        for value in vars(module).values():
            if callable(value) and hasattr(value, "cache_clear"):
                value.cache_clear()
    aws.reset_clients()


@dataclass
class FakeContext:
    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "test"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


class LambdaFunction:
    def __init__(self, spec: FunctionSpec, extra_env: dict[str, str]) -> None:
        self.spec = spec
        self._env = dict(spec.environment) | extra_env

    def invoke(self, event: dict[str, Any]) -> Any:
        os.environ.update(self._env)
        module = importlib.import_module(MODULES[self.spec.logical_id])
        context = FakeContext(self.spec.logical_id, self.spec.timeout_seconds)
        return module.lambda_handler(json.loads(json.dumps(event)), context)


class Stack:
    """A deployed template in moto, with its functions and the SQS event sources' behaviour."""

    def __init__(self, deployed: DeployedStack, extra_env: dict[str, str]) -> None:
        self.deployed = deployed
        self.functions = {
            logical_id: LambdaFunction(spec, extra_env) for logical_id, spec in deployed.functions.items()
        }
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.sns = boto3.client("sns", region_name="us-east-1")
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")

    @property
    def ingest(self) -> LambdaFunction:
        return self.functions["IngestFunction"]

    def env(self, function: str, name: str) -> str:
        return self.deployed.functions[function].environment[name]

    @property
    def delivery_queue_url(self) -> str:
        return self.env("DispatchFunction", "DELIVERY_QUEUE_URL")

    @property
    def ordered_queue_url(self) -> str:
        return self.env("DispatchFunction", "ORDERED_QUEUE_URL")

    @property
    def dead_letter_queue_url(self) -> str:
        return self.env("DispatchFunction", "DEAD_LETTER_QUEUE_URL")

    def receive(self, queue_url: str, max_messages: int = 10) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])

    def poll_once(self, function: str) -> tuple[int, set[str]]:
        """One event-source poll: receive a batch, invoke, delete all but the reported failures.
        Returns (records delivered to the function, ids it reported as failed)."""
        delivered, failed = 0, set[str]()
        for source in self.deployed.functions[function].event_sources:
            messages = self.receive(source.queue_url, source.batch_size)
            if not messages:
                continue
            response = self.functions[function].invoke(sqs_event(messages, source.queue_arn))
            refused = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] not in refused:
                    self.sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=message["ReceiptHandle"])
            delivered += len(messages)
            failed |= refused
        return delivered, failed

    def run_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 15.0,
        functions: tuple[str, ...] = ("DispatchFunction", "DlqHandlerFunction"),
    ) -> None:
        """Poll every event source until ``condition`` holds (or fail after ``timeout`` seconds)."""

        def polled_then_holds() -> bool:
            for _ in range(10):  # busy rounds poll again at once; wait_until pauses after an idle one
                busy = sum(self.poll_once(function)[0] for function in functions)
                if condition():
                    return True
                if not busy:
                    return False
            return False

        wait_until(polled_then_holds, timeout, "the condition holds while the event sources are polled")

    def idle(self) -> bool:
        """Nothing left to deliver: no queue a function reads holds a message, visible, in flight or delayed.
        The positive signal for "nothing more will arrive" (with ``run_until``, which keeps polling)."""
        counts = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        counts += ("ApproximateNumberOfMessagesDelayed",)
        for function in self.deployed.functions.values():
            for source in function.event_sources:
                attributes = self.sqs.get_queue_attributes(QueueUrl=source.queue_url, AttributeNames=["All"])
                if any(int(attributes["Attributes"].get(name, "0")) for name in counts):
                    return False
        return True

    def drain(self, rounds: int = 20) -> None:
        """Poll until no source has a visible message."""
        for _ in range(rounds):
            if not sum(
                self.poll_once(function)[0] for function in ("DispatchFunction", "DlqHandlerFunction")
            ):
                return


def sqs_event(messages: list[Any], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS event source builds from received messages (the local stack's builder)."""
    return {"Records": [lambda_record(message, queue_arn, "us-east-1") for message in messages]}


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def api_request(
    method: str,
    path: str,
    body: Any = None,
    api_key: str | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event, built on the committed fixture so it stays valid for `sam local`."""
    event = load_event("post_event.json")
    request_headers = {
        key: value
        for key, value in event["headers"].items()
        if key not in {"idempotency-key", "authorization"}
    }
    if api_key is not None:
        request_headers["authorization"] = f"Bearer {api_key}"
    request_headers.update({key.lower(): value for key, value in (headers or {}).items()})
    event["headers"] = request_headers
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"proxy": path.removeprefix("/v1/")}
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    if "?" in path:
        clean, query = path.split("?", 1)
        event["rawPath"] = event["requestContext"]["http"]["path"] = clean
        event["pathParameters"] = {"proxy": clean.removeprefix("/v1/")}
        event["rawQueryString"] = query
        event["queryStringParameters"] = dict(part.split("=", 1) for part in query.split("&") if part)
    if raw_body is not None:
        event["body"] = raw_body
    elif body is None:
        event.pop("body", None)
    else:
        event["body"] = json.dumps(body)
    event["isBase64Encoded"] = False
    return event


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


class ApiClient:
    def __init__(self, stack: Stack, api_key: str) -> None:
        self._stack = stack
        self.api_key = api_key

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        event = api_request(method, path, body, api_key=kwargs.pop("api_key", self.api_key), **kwargs)
        response = self._stack.ingest.invoke(event)
        text = response.get("body") or ""
        return ApiResponse(
            response["statusCode"], json.loads(text) if text else None, response.get("headers", {})
        )

    def iter_pages(self, path: str) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            page = self.call("GET", path + (f"?cursor={cursor}" if cursor else "")).body
            yield page
            cursor = page["next_cursor"]
            if not cursor:
                return
