"""The three functions run in-process on template.yaml deployed into moto, driven only through stable seams.

- ``deployed_stack`` deploys template.yaml into moto (``local_stack.cloudformation.deploy_stack``) under
  ``mock_aws`` and attaches an ``AwsMeter`` to ``hookline.aws.session()`` before any handler runs.
- Functions are invoked through their ``lambda_handler(event, context)``, each with exactly the environment
  the template gives it, and timed (the measured duration, rounded up to 1 ms, is what Lambda bills).
- The HTTP API is played with API Gateway HTTP API (payload 2.0) events, routed by the template's own
  route keys, and authenticated with the admin key read from the deployed Secrets Manager secret.
- Lambda's SQS event sources (every one of each function) are played by ``poll``: one ReceiveMessage (up
  to the mapping's batch size), the records Lambda would build (``local_stack.sqs_poller.lambda_record``),
  one invocation, then one DeleteMessageBatch for every record not reported in ``batchItemFailures``.
  Those two calls are made with the harness's own client and recorded on the meter as the event source's.

Nothing here imports ``hookline`` internals: tenants, endpoints and events are made through the API.

moto's ``mock_aws`` also starts the ``responses`` library, which patches ``requests``' transport so that
every ``requests`` call (webhook deliveries included) is first matched against moto's AWS URL patterns.
Lambda has no such layer, and moto serves botocore through its own ``before-send`` hook, so the patch is
stopped unless ``intercept_requests=True``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import math
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from moto import mock_aws

from bench._lambda_env import POWERTOOLS_ENV
from bench.aws_meter import AwsMeter
from bench.http_api import ApiResponse, http_api_event
from bench.log_lines import LambdaLogging
from local_stack.cloudformation import DeployedStack, EventSource, FunctionSpec, deploy_stack
from local_stack.sqs_poller import lambda_record

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
# Loopback receivers must be reachable; the rest is the template's defaults unless a bench says otherwise.
BASE_PARAMETERS = {"AllowHttp": "true", "AllowedPrivateCidrs": "127.0.0.0/8"}
# What the throughput and billed-ms benchmarks have always run with, kept so that their figures stay
# comparable with their history. The cost model runs on the template's defaults (``template_defaults=True``):
# the default 15 s timeout decides how many first attempts fit an invocation, which the 5 s here hides.
THROUGHPUT_BENCH_PARAMETERS = {"DeliveryTimeoutSeconds": "5"}
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_SQS_BATCH_LIMIT = 10


class CountingSink(io.TextIOBase):
    """Where the functions' log lines and EMF metrics go: nowhere, but their bytes are counted
    (on Lambda they are shipped to CloudWatch Logs)."""

    def __init__(self) -> None:
        self.bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)


@dataclass
class FakeContext:
    """The parts of a LambdaContext that powertools reads."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_stream_name: str = "bench"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


@dataclass(frozen=True)
class Invocation:
    function: str  # logical id
    response: Any
    started: float  # perf_counter
    seconds: float  # wall time of lambda_handler
    instrument_seconds: float  # of which the meter's observers (not the function's work)
    excluded_seconds: float  # of which the observers or moto serving AWS calls in-process
    aws_calls: Counter[str]  # requests made meanwhile, by service:operation
    aws_seconds: float  # inside those calls, botocore's client side included
    aws_backend_seconds: float  # the part moto spent serving them
    records: int  # SQS records in the event (0 for an API request)
    request_bytes: int  # an API request's body
    log_bytes: int  # what the function printed (stdout, stderr, logging)
    api_request: tuple[str, str, int, int] | None = None  # method, path, status, response body bytes

    @property
    def billed_ms(self) -> int:
        """Lambda bills the duration rounded up to the next millisecond: here without the time moto
        spent serving AWS calls in-process (see ``billed_ms_with_moto``)."""
        return max(1, math.ceil((self.seconds - self.excluded_seconds) * 1000))

    @property
    def billed_ms_with_moto(self) -> int:
        return max(1, math.ceil((self.seconds - self.instrument_seconds) * 1000))

    @property
    def failed_ids(self) -> set[str]:
        failures = (self.response or {}).get("batchItemFailures", []) if self.records else []
        return {item["itemIdentifier"] for item in failures}


def _module_name(spec: FunctionSpec) -> str:
    """``functions/ingest`` + ``app.lambda_handler`` -> ``functions.ingest.app``."""
    package = spec.code_dir.resolve().relative_to(REPO).parts
    return ".".join((*package, spec.handler.rsplit(".", 1)[0]))


def _admin_key_secret(deployed: DeployedStack) -> str:
    """The ARN of the template's admin API key secret (the one secret, or the one named for the admin key)."""
    secrets = {
        logical_id: deployed.resources[logical_id]
        for logical_id, kind in deployed.resource_types.items()
        if kind == "AWS::SecretsManager::Secret"
    }
    admin = [arn for logical_id, arn in secrets.items() if "admin" in logical_id.lower()]
    found = admin or list(secrets.values())
    if len(found) != 1:
        raise RuntimeError(f"cannot tell the admin API key secret among {sorted(secrets)}")
    return found[0]


class LambdaFunction:
    def __init__(
        self, spec: FunctionSpec, memory_mb: int, architecture: str, logging_config: LambdaLogging
    ) -> None:
        self.spec = spec
        self.memory_mb = memory_mb
        self.architecture = architecture
        self.logging = logging_config
        self.environment = dict(spec.environment)
        if logging_config.log_format == "JSON":  # what Lambda's advanced logging controls tell the runtime
            self.environment["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            self.environment["AWS_LAMBDA_LOG_LEVEL"] = str(logging_config.application_level)
        for name, value in POWERTOOLS_ENV.items():
            if self.environment.get(name) != value:
                raise RuntimeError(
                    f"template.yaml sets {name}={self.environment.get(name)!r}, bench assumed {value!r}"
                )
        self._module: ModuleType | None = None

    def module(self) -> ModuleType:
        if self._module is None:
            os.environ.update(self.environment)
            self._module = importlib.import_module(_module_name(self.spec))
        return self._module


def _resolved(value: Any, deployed: DeployedStack) -> Any:
    """A template value with a parameter ``Ref`` replaced by the parameter's effective value (and the
    ``Fn::Select`` / ``Fn::Split`` the template applies to parameters)."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return deployed.parameters[value["Ref"]]
    if isinstance(value, dict) and set(value) == {"Fn::Split"}:
        separator, text = value["Fn::Split"]
        return str(_resolved(text, deployed)).split(separator)
    if isinstance(value, dict) and set(value) == {"Fn::Select"}:
        index, items = value["Fn::Select"]
        return _resolved(items, deployed)[int(index)]
    return value


def _logging_config(properties: dict[str, Any], deployed: DeployedStack) -> LambdaLogging:
    config = properties.get("LoggingConfig") or {}
    return LambdaLogging.of({"LoggingConfig": {name: _resolved(v, deployed) for name, v in config.items()}})


def access_log_format(deployed: DeployedStack) -> str:
    """The HTTP API stage's access log format, from the template (empty: no access log)."""
    for resource in deployed.template["Resources"].values():
        settings = (resource.get("Properties") or {}).get("AccessLogSettings") or {}
        if isinstance(settings.get("Format"), str):
            return str(settings["Format"])
    return ""


class Stack:
    """A deployed template in moto: its functions, its HTTP API, its SQS event sources, and the meter."""

    def __init__(self, deployed: DeployedStack, meter: AwsMeter) -> None:
        self.deployed = deployed
        self.meter = meter
        resources = deployed.template["Resources"]
        self.functions: dict[str, LambdaFunction] = {}
        for logical_id, spec in deployed.functions.items():
            properties = resources[logical_id]["Properties"]
            self.functions[logical_id] = LambdaFunction(
                spec,
                int(_resolved(properties.get("MemorySize", 128), deployed)),
                str(_resolved((properties.get("Architectures") or ["x86_64"])[0], deployed)),
                _logging_config(properties, deployed),
            )
        self.api_function = next(name for name, spec in deployed.functions.items() if spec.http_api_routes)
        self.sqs_functions = [name for name, spec in deployed.functions.items() if spec.event_sources]
        # The harness's own clients: setup reads and the event source's calls, never metered as handlers'.
        session = boto3.session.Session(region_name=REGION)
        self.sqs = session.client("sqs")
        self.dynamodb = session.client("dynamodb")
        secret_arn = _admin_key_secret(deployed)
        self.admin_key = session.client("secretsmanager").get_secret_value(SecretId=secret_arn)[
            "SecretString"
        ]
        self.invocations: list[Invocation] = []
        self.first_invocation: dict[str, float] = {}  # seconds of each function's first (cold) invocation
        self.sink = CountingSink()
        self._log_handlers_redirected = False

    # -- invoking ---------------------------------------------------------------------------------------

    def invoke(self, function_id: str, event: dict[str, Any], request_bytes: int = 0) -> Invocation:
        """One invocation; stdout, stderr and every logging handler write to the counting sink."""
        function = self.functions[function_id]
        module = function.module()
        os.environ.update(function.environment)
        self._redirect_logs()
        payload = json.loads(json.dumps(event))  # what the runtime hands over: fresh objects
        context = FakeContext(function.spec.function_name, function.memory_mb, function.spec.timeout_seconds)
        log_bytes = self.sink.bytes
        meter = self.meter
        calls, aws_seconds, backend_seconds = Counter(meter.counts), meter.seconds, meter.backend_seconds
        with (
            self.meter.labelled(function_id),
            contextlib.redirect_stdout(self.sink),
            contextlib.redirect_stderr(self.sink),
        ):
            started = time.perf_counter()
            response = module.lambda_handler(payload, context)
            ended = time.perf_counter()
        api_request = None
        if "requestContext" in event and isinstance(response, dict):
            http = event["requestContext"].get("http", {})
            body = str(response.get("body") or "")
            api_request = (
                http.get("method", ""),
                http.get("path", ""),
                response.get("statusCode", 0),
                len(body.encode()),
            )
        invocation = Invocation(
            function=function_id,
            response=response,
            started=started,
            seconds=ended - started,
            instrument_seconds=self.meter.observer_seconds_between(started, ended),
            excluded_seconds=self.meter.excluded_seconds_between(started, ended),
            aws_calls=Counter(meter.counts) - calls,
            aws_seconds=meter.seconds - aws_seconds,
            aws_backend_seconds=meter.backend_seconds - backend_seconds,
            records=len(event.get("Records", [])),
            request_bytes=request_bytes,
            log_bytes=self.sink.bytes - log_bytes,
            api_request=api_request,
        )
        self.first_invocation.setdefault(function_id, invocation.seconds)
        self.invocations.append(invocation)
        return invocation

    def _redirect_logs(self) -> None:
        """powertools' Logger (and any other stream handler) writes to the stream it saw when it was made:
        point them at the sink instead (on Lambda, every one of them ends in CloudWatch Logs)."""
        if self._log_handlers_redirected:
            return
        loggers = [logging.getLogger(), logging.getLogger(POWERTOOLS_ENV["POWERTOOLS_SERVICE_NAME"])]
        for logger in loggers:
            for handler in logger.handlers:
                if isinstance(handler, logging.StreamHandler):
                    handler.setStream(self.sink)
                    self._log_handlers_redirected = True

    # -- the HTTP API -----------------------------------------------------------------------------------

    def api(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> ApiResponse:
        """One request to the HTTP API, as API Gateway would hand it to the function (payload 2.0)."""
        routes = self.deployed.functions[self.api_function].http_api_routes
        text = None if body is None else json.dumps(body)
        request_headers = {"authorization": f"Bearer {self.admin_key}"} | (headers or {})
        event = http_api_event(routes, method, path, text, request_headers)
        response = self.invoke(self.api_function, event, request_bytes=len((text or "").encode())).response
        return ApiResponse.of(response)

    def api_ok(self, method: str, path: str, body: Any = None) -> Any:
        response = self.api(method, path, body)
        if response.status >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status}: {response.body}")
        return response.body

    def create_tenant(self, urls: list[str], prefix: str = "bench") -> tuple[str, list[str]]:
        """A new tenant with one endpoint per URL, through the API. Returns (tenant id, endpoint ids)."""
        tenant_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.api_ok("PUT", f"/v1/tenants/{tenant_id}", {"name": "bench"})
        endpoint_ids = [
            self.api_ok("POST", f"/v1/tenants/{tenant_id}/endpoints", {"url": url})["id"] for url in urls
        ]
        return tenant_id, endpoint_ids

    # -- the SQS event sources --------------------------------------------------------------------------

    def event_sources(self) -> list[tuple[str, EventSource]]:
        """Every (function, event source) pair: the dispatch function has the standard delivery queue and
        the ordered (FIFO) one, the DLQ handler both dead-letter queues."""
        return [
            (function_id, source)
            for function_id in self.sqs_functions
            for source in self.deployed.functions[function_id].event_sources
        ]

    def poll(self, function_id: str, source: EventSource | None = None) -> Invocation | None:
        """One poll of one of the function's event sources (its first if not named), as Lambda's poller
        makes it under load."""
        if source is None:
            source = self.deployed.functions[function_id].event_sources[0]
        params: dict[str, Any] = {
            "QueueUrl": source.queue_url,
            "MaxNumberOfMessages": min(source.batch_size, _SQS_BATCH_LIMIT),
            "WaitTimeSeconds": 0,
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        received = self.sqs.receive_message(**params)
        messages = received.get("Messages", [])
        if not messages:
            return None  # an empty receive: under load there are none, so it is not counted
        self.meter.record_event_source("ReceiveMessage", params, dict(received))
        event = {"Records": [lambda_record(message, source.queue_arn, REGION) for message in messages]}
        invocation = self.invoke(function_id, event)
        failed = invocation.failed_ids if source.report_batch_item_failures else set()
        done = [record["receiptHandle"] for record in event["Records"] if record["messageId"] not in failed]
        for start in range(0, len(done), _SQS_BATCH_LIMIT):
            delete: dict[str, Any] = {
                "QueueUrl": source.queue_url,
                "Entries": [
                    {"Id": str(index), "ReceiptHandle": handle}
                    for index, handle in enumerate(done[start : start + _SQS_BATCH_LIMIT])
                ],
            }
            deleted = self.sqs.delete_message_batch(**delete)
            self.meter.record_event_source("DeleteMessageBatch", delete, dict(deleted))
        return invocation

    def in_flight(self) -> int:
        """Messages in every event source's queue (every source of every function), visible, delayed or
        being processed."""
        total = 0
        for _, source in self.event_sources():
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=source.queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            total += sum(int(value) for value in attributes.values())
        return total

    def drain(
        self,
        done: Callable[[], bool],
        timeout: float = 120.0,
        after_each: Callable[[Invocation], None] | None = None,
    ) -> list[Invocation]:
        """Poll every event source until nothing is visible and ``done()`` holds; returns the invocations
        (``after_each`` sees each one as it ends). Retries hidden by a visibility timeout are waited for,
        within ``timeout``."""
        invocations: list[Invocation] = []
        deadline = time.monotonic() + timeout
        while True:
            polled = False
            for name, source in self.event_sources():
                invocation = self.poll(name, source)
                if invocation is not None:
                    polled = True
                    invocations.append(invocation)
                    if after_each is not None:
                        after_each(invocation)
            if polled:
                continue
            if done():
                return invocations
            if time.monotonic() > deadline:
                raise RuntimeError(f"the queues did not drain within {timeout:.0f} s")
            time.sleep(0.05)  # polling interval while retries are hidden; the deadline bounds the wait


@contextlib.contextmanager
def deployed_stack(
    parameters: dict[str, str] | None = None,
    *,
    intercept_requests: bool = False,
    keep_calls: bool = True,
    template_defaults: bool = False,
) -> Iterator[Stack]:
    """template.yaml deployed into in-process moto, with the meter attached before any handler runs.
    One per process: the functions' per-container state (settings, caches, clients) lives as long."""
    from hookline import aws  # the stable seam: the Session every hookline client comes from

    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(_FAKE_CREDENTIALS)
    meter = AwsMeter(keep=keep_calls)
    try:
        with mock_aws(), meter.backend.installed():
            with contextlib.redirect_stderr(io.StringIO()):
                deployed = deploy_stack(
                    boto3.session.Session(region_name=REGION),
                    REPO / "template.yaml",
                    "hookline-bench",
                    BASE_PARAMETERS
                    | ({} if template_defaults else THROUGHPUT_BENCH_PARAMETERS)
                    | (parameters or {}),
                )
            if not intercept_requests:
                from moto.core.models import responses_mock

                responses_mock.stop()
            meter.attach(aws.session())
            yield Stack(deployed, meter)
    finally:
        os.environ.clear()
        os.environ.update(saved)
