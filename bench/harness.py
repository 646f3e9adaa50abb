"""The dispatch function run in-process under moto, as the integration tests run it, plus instruments.

``deployed_stack`` deploys template.yaml into moto (``local_stack.cloudformation.deploy_stack``) under
``mock_aws`` and yields a ``BenchStack`` that invokes the real ``functions.dispatch.app.lambda_handler``
with exactly the environment the template gives the function. Setup (tenants, endpoints, events, queue
messages) goes through separate, uninstrumented clients, so only the handler's own AWS calls are counted.

Two measurement artefacts of in-process moto are dealt with here:

- moto's ``mock_aws`` also starts the ``responses`` library, which patches ``requests``' transport so that
  *every* ``requests`` call, webhook deliveries included, is first matched against moto's ~1,300
  registered AWS URL patterns before being passed through (about 0.1 ms per request on a 2-CPU VM).
  Lambda has no such layer, and boto3 does not use ``requests`` (moto serves botocore through its own
  ``before-send`` hook), so ``deployed_stack`` stops that patch unless asked to keep it
  (``intercept_requests=True``).
- moto serves AWS calls with in-process CPU that real AWS calls (network waits, which release the GIL)
  would not spend. ``AwsCallMeter`` counts the handler's AWS calls (every client ``hookline.aws`` makes is
  metered) and the time spent in them, and ``MotoBackendClock`` says how much of that was moto's, so the
  figures can be read with and without it.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Self
from unittest import mock

import boto3
from moto import mock_aws

from bench._lambda_env import POWERTOOLS_ENV
from hookline import aws, clock, config, dispatch, ids, signing, store
from hookline.models import Endpoint, EndpointSecret, Event
from hookline.observability import logger
from hookline.queue import DeliveryJob, JobQueue, encode_job
from local_stack.cloudformation import DeployedStack, FunctionSpec, deploy_stack
from local_stack.sqs_poller import lambda_record

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
DISPATCH = "DispatchFunction"
DISPATCH_MODULE = "functions.dispatch.app"
# Loopback receivers must be reachable; the rest is the template's defaults.
STACK_PARAMETERS = {
    "AllowHttp": "true",
    "AllowedPrivateCidrs": "127.0.0.0/8",
    "DeliveryTimeoutSeconds": "5",
}
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def reset_dispatch_container() -> None:
    """Forget the dispatch function's per-container state, as a fresh Lambda container would."""
    if dispatch.dispatcher.cache_info().currsize:
        built = dispatch.dispatcher()  # the cached one: release its threads and sockets
        built._pool.shutdown(wait=False)
        built._sender.close()
    dispatch.dispatcher.cache_clear()
    config.dispatch_settings.cache_clear()
    aws.reset_clients()


# --- instruments ---------------------------------------------------------------------------------------


class MotoBackendClock:
    """Times moto's own handling of each request (its botocore ``before-send`` hook), per thread.

    What is left of an AWS call's time is botocore's client-side work (validate, serialize, sign, parse),
    which a real Lambda spends too; moto's part would be a network wait there instead."""

    def __init__(self) -> None:
        self._local = threading.local()

    def take(self) -> float:
        """Seconds moto spent on this thread's requests since the last ``take``."""
        seconds: float = getattr(self._local, "seconds", 0.0)
        self._local.seconds = 0.0
        return seconds

    @contextlib.contextmanager
    def installed(self) -> Iterator[Self]:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__
        local = self._local

        def timed(stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(stubber, event_name, request, **kwargs)
            finally:
                local.seconds = getattr(local, "seconds", 0.0) + time.perf_counter() - started

        with mock.patch.object(BotocoreStubber, "__call__", timed):
            yield self


@dataclass
class AwsCallMeter:
    """Counts the AWS API calls made through the clients it is attached to, and the wall time inside them
    (from parameter validation to the parsed response), of which ``backend_seconds`` was moto's."""

    backend: MotoBackendClock
    calls: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    backend_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("provide-client-params", self._before, unique_id=f"bench-meter-start-{id(self)}")
        events.register("after-call", self._after, unique_id=f"bench-meter-end-{id(self)}")
        events.register("after-call-error", self._after, unique_id=f"bench-meter-error-{id(self)}")

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.seconds = self.backend_seconds = 0.0

    def _before(self, context: dict[str, Any], **_: Any) -> None:
        self.backend.take()
        context["bench_started"] = time.perf_counter()

    def _after(self, context: dict[str, Any], **kwargs: Any) -> None:
        elapsed = time.perf_counter() - context.pop("bench_started", time.perf_counter())
        backend = self.backend.take()
        model = kwargs.get("model")
        name = f"{model.service_model.service_name}:{model.name}" if model is not None else "unknown"
        with self._lock:
            self.calls[name] += 1
            self.seconds += elapsed
            self.backend_seconds += backend


class TimedExecutor(Executor):
    """Wraps the dispatcher's thread pool to time its ``map`` (the concurrent HTTP phase of a batch)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.seconds = 0.0

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any], **kwargs: Any) -> Iterator[Any]:
        started = time.perf_counter()
        results = list(self.inner.map(fn, *iterables, **kwargs))
        self.seconds += time.perf_counter() - started
        return iter(results)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return self.inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


@dataclass
class FakeContext:
    """The bits of a LambdaContext that powertools reads."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/bench"
    log_stream_name: str = "bench"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


@dataclass(frozen=True)
class Invocation:
    response: dict[str, Any]
    seconds: float  # wall time of lambda_handler
    aws_calls: Counter[str]
    aws_seconds: float  # inside AWS calls, client side included
    aws_backend_seconds: float  # the part moto spent serving them
    http_phase_seconds: float  # inside the dispatcher's concurrent map

    @property
    def failures(self) -> int:
        return len(self.response.get("batchItemFailures", []))


# --- the stack ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    urls: dict[str, str]  # endpoint id -> URL


@dataclass(frozen=True)
class Batch:
    event: dict[str, Any]  # the SQS event Lambda would build from received messages
    targets: list[tuple[str, bytes]]  # (URL, body) of each record's delivery, for the baselines


@dataclass(frozen=True)
class Workload:
    batches: list[Batch]

    @property
    def deliveries(self) -> int:
        return sum(len(batch.targets) for batch in self.batches)

    @property
    def targets(self) -> list[tuple[str, bytes]]:
        return [target for batch in self.batches for target in batch.targets]


class BenchStack:
    def __init__(self, deployed: DeployedStack) -> None:
        self.deployed = deployed
        self.spec: FunctionSpec = deployed.functions[DISPATCH]
        self.environment = dict(self.spec.environment)
        for name, value in POWERTOOLS_ENV.items():
            if self.environment.get(name) != value:
                raise RuntimeError(
                    f"template.yaml sets {name}={self.environment.get(name)!r}, bench assumed {value!r}"
                )
        self.queue_url = self.environment["DELIVERY_QUEUE_URL"]
        self.queue_arn = self.spec.event_sources[0].queue_arn
        self.batch_size = self.spec.event_sources[0].batch_size
        # Setup goes through these clients, never through the handler's (metered) ones.
        self._sqs = boto3.client("sqs", region_name=REGION)
        self._dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.store = store.Store(self.environment["TABLE_NAME"], self._dynamodb)
        self.queue = JobQueue(self.queue_url, self._sqs)
        self.backend_clock = MotoBackendClock()
        self.meter = AwsCallMeter(self.backend_clock)
        self._module: ModuleType | None = None
        self._sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the stack

    def close(self) -> None:
        reset_dispatch_container()
        handler = logger.registered_handler
        if isinstance(handler, logging.StreamHandler) and handler.stream is self._sink:
            handler.setStream(sys.stdout)
        self._sink.close()

    # -- the function -----------------------------------------------------------------------------------

    def cold_container(self) -> None:
        """Make the next invocation build its dispatcher (clients, pools) from scratch."""
        reset_dispatch_container()
        self.meter.reset()

    def _handler_module(self) -> ModuleType:
        if self._module is None:
            os.environ.update(self.environment)
            self._module = importlib.import_module(DISPATCH_MODULE)
            # Log lines keep their formatting cost but go nowhere (Lambda ships stdout to CloudWatch).
            handler = logger.registered_handler
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(self._sink)
        return self._module

    @contextlib.contextmanager
    def metered_clients(self) -> Iterator[None]:
        """Every boto3 client ``hookline.aws`` makes meanwhile reports its calls to ``self.meter``."""
        make_client = aws._client.__wrapped__  # the uncached factory; reset_clients() keeps working

        @functools.cache
        def metered(service: str) -> Any:
            client = make_client(service)
            self.meter.attach(client)
            return client

        with mock.patch.object(aws, "_client", metered):
            yield

    def _instrument(self) -> TimedExecutor:
        """Build the dispatcher if needed and put a timer on its thread pool (before the clock starts)."""
        built = dispatch.dispatcher()
        if not isinstance(built._pool, TimedExecutor):
            built._pool = TimedExecutor(built._pool)  # type: ignore[assignment]
        assert isinstance(built._pool, TimedExecutor)
        return built._pool

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Invoke the dispatch handler on ``event``, then (untimed) delete the records it did not report
        as failed, as the event source does. The dispatcher is instrumented before the clock starts, so a
        first invocation here times its work, not the building of its clients (see ``invoke_cold``)."""
        module = self._handler_module()
        pool = self._instrument()
        payload = json.loads(json.dumps(event))  # what the runtime hands over: fresh objects
        self.meter.reset()
        pool.seconds = 0.0
        context = FakeContext(self.spec.function_name, self.spec.memory_mb, self.spec.timeout_seconds)
        with contextlib.redirect_stdout(self._sink):  # powertools' EMF metrics are printed
            started = time.perf_counter()
            response = module.lambda_handler(payload, context)
            elapsed = time.perf_counter() - started
        meter = self.meter
        invocation = Invocation(
            response, elapsed, Counter(meter.calls), meter.seconds, meter.backend_seconds, pool.seconds
        )
        self._acknowledge(event, response)
        return invocation

    def invoke_cold(self, event: dict[str, Any]) -> float:
        """Wall seconds of a first invocation in a container whose modules are imported but whose
        dispatcher (settings, boto3 clients, thread and connection pools) is not built yet."""
        module = self._handler_module()
        self.cold_container()
        payload = json.loads(json.dumps(event))
        context = FakeContext(self.spec.function_name, self.spec.memory_mb, self.spec.timeout_seconds)
        with contextlib.redirect_stdout(self._sink):
            started = time.perf_counter()
            response = module.lambda_handler(payload, context)
            elapsed = time.perf_counter() - started
        self._acknowledge(event, response)
        return elapsed

    def _acknowledge(self, event: dict[str, Any], response: dict[str, Any] | None) -> None:
        """Delete what the event source would delete. Left in flight, received messages pile up in moto's
        queue, and every later ReceiveMessage scans them all."""
        failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
        done = [record for record in event["Records"] if record["messageId"] not in failed]
        for start in range(0, len(done), 10):
            entries: list[Any] = [
                {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                for index, record in enumerate(done[start : start + 10])
            ]
            self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)

    # -- data -------------------------------------------------------------------------------------------

    def create_endpoints(self, url: str, count: int) -> Tenant:
        """A new tenant with ``count`` endpoints, all pointing at ``url`` + ``/hook/<n>``."""
        tenant = Tenant(f"bench-{uuid.uuid4().hex[:8]}", {})
        now = clock.now_iso()
        self.store.upsert_tenant(tenant.tenant_id, "bench", now)
        for index in range(count):
            endpoint = Endpoint(
                tenant_id=tenant.tenant_id,
                endpoint_id=ids.new_endpoint_id(),
                url=f"{url}/hook/{index}",
                secrets=(EndpointSecret(signing.generate_secret()),),
                created_at=now,
                updated_at=now,
            )
            self.store.create_endpoint(endpoint)
            tenant.urls[endpoint.endpoint_id] = endpoint.url
        return tenant

    def prepare_deliveries(self, tenant: Tenant, deliveries: int) -> Workload:
        """Store fresh events, queue one deliver job per (event, endpoint) up to ``deliveries`` jobs (as
        dispatch's fan-out would), receive them all and group them into full SQS batches."""
        tenant_id = tenant.tenant_id
        endpoint_ids = list(tenant.urls)
        events_needed = -(-deliveries // len(endpoint_ids))
        expires = clock.unix_now() + 86_400
        jobs: list[DeliveryJob] = []
        bodies: dict[str, bytes] = {}
        events = [_sample_event(tenant_id) for _ in range(events_needed)]
        self._put_events(events, expires)
        for event in events:
            bodies[event.event_id] = event.body.encode()
            jobs.extend(DeliveryJob(tenant_id, event.event_id, endpoint_id) for endpoint_id in endpoint_ids)
        jobs = jobs[:deliveries]
        self.queue.send_many(jobs)
        messages = self._receive({encode_job(job) for job in jobs})
        records = [lambda_record(message, self.queue_arn, REGION) for message in messages]
        batches = []
        for start in range(0, len(records), self.batch_size):
            chunk = records[start : start + self.batch_size]
            jobs_in_chunk = [json.loads(record["body"]) for record in chunk]
            targets = [(tenant.urls[job["endpoint_id"]], bodies[job["event_id"]]) for job in jobs_in_chunk]
            batches.append(Batch({"Records": chunk}, targets))
        return Workload(batches)

    def _put_events(self, events: list[Event], expires: int) -> None:
        """Store events as ingest would, but with BatchWriteItem: ``Store.put_event`` is a transaction, and
        moto deep-copies the whole table for every transaction, so seeding would slow down as it grows."""
        for start in range(0, len(events), 25):
            requests: list[Any] = [
                {"PutRequest": {"Item": store._event_item(event, expires)}}
                for event in events[start : start + 25]
            ]
            self._dynamodb.batch_write_item(RequestItems={self.environment["TABLE_NAME"]: requests})

    def _receive(self, wanted: set[str]) -> list[Any]:
        """Receive the messages whose bodies are ``wanted``. Anything else (a retry or deferral an earlier
        scenario left behind) is deleted, so it cannot end up in this workload."""
        messages: list[Any] = []
        deadline = time.monotonic() + 60
        while len(messages) < len(wanted):
            if time.monotonic() > deadline:
                raise RuntimeError(f"received {len(messages)} of {len(wanted)} queued jobs")
            received = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            for message in received:
                if message["Body"] in wanted:
                    messages.append(message)
                else:
                    self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages


def _sample_event(tenant_id: str) -> Event:
    """An event shaped like ingest's, with a ~1 KiB body."""
    timestamp = clock.now_iso()
    event_id = ids.new_event_id()
    data = {
        "order_id": f"ord_{event_id[-12:]}",
        "amount": 4200,
        "currency": "EUR",
        "customer": {"id": "cus_0123456789", "email": "someone@example.com", "name": "Some One"},
        "items": [{"sku": f"SKU-{n:04d}", "quantity": n, "price": 1000 + n} for n in range(10)],
    }
    body = json.dumps({"type": "order.created", "timestamp": timestamp, "data": data}, separators=(",", ":"))
    return Event(tenant_id, event_id, "order.created", timestamp, body)


@contextlib.contextmanager
def deployed_stack(*, intercept_requests: bool = False) -> Iterator[BenchStack]:
    """template.yaml deployed into in-process moto, the dispatch function ready to invoke."""
    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(_FAKE_CREDENTIALS)
    stack: BenchStack | None = None
    try:
        with mock_aws():
            reset_dispatch_container()
            with contextlib.redirect_stderr(io.StringIO()):
                deployed = deploy_stack(
                    boto3.session.Session(region_name=REGION),
                    REPO / "template.yaml",
                    "hookline-bench",
                    STACK_PARAMETERS,
                )
            if not intercept_requests:
                from moto.core.models import responses_mock

                responses_mock.stop()
            stack = BenchStack(deployed)
            with stack.backend_clock.installed(), stack.metered_clients():
                yield stack
    finally:
        if stack is not None:
            stack.close()
        reset_dispatch_container()
        os.environ.clear()
        os.environ.update(saved)
