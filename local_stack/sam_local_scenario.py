"""What ``make sam-local-check`` does inside its network namespace (``local_stack.sam_local_check`` starts
it there with ``nsenter``, after the engine, the image and ``sam build`` are ready).

1. ``sam local invoke``, against a local stack without pollers (so the queues keep what the functions
   send): each fixture in ``events/`` through the function it is for, then dispatch on a batch built from
   what the delivery queue really holds after ``post_event.json``. Answers: 201, 201, 202 and empty
   ``batchItemFailures``.
2. ``sam local start-api``, against a local stack with pollers (as ``make sam-local`` runs it): the API
   fixtures replayed over HTTP (tenant, endpoint aimed at a receiver on this namespace's loopback,
   event), then the signed delivery arrives and is verified with ``standardwebhooks``.

The fixtures are read, never copied, so a change to them (or to the job format) is what gets checked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import requests

from local_stack.demo import DemoReceiver
from local_stack.process import REPO_ROOT, StackInfo, StackProcess
from local_stack.sam_local import SamCommands, docker_bridge_gateway, sam_environment, start_stack
from local_stack.sqs_poller import lambda_record
from local_stack.stack import FAKE_ACCESS_KEY, FAKE_SECRET_KEY

EVENTS = REPO_ROOT / "events"
# Each fixture in events/, the function it is for, and the status code its answer must carry (None: an
# SQS batch, whose answer must report no failed record).
FIXTURES: dict[str, tuple[str, int | None]] = {
    "put_tenant.json": ("IngestFunction", 201),
    "create_endpoint.json": ("IngestFunction", 201),
    "post_event.json": ("IngestFunction", 202),
    "dispatch_batch.json": ("DispatchFunction", None),
    "dlq_batch.json": ("DlqHandlerFunction", None),
    # EventBridge Scheduler's firing of a recurring schedule, as the delivery queue hands it to dispatch
    "schedule_firing.json": ("DispatchFunction", None),
}
API_FIXTURES = ("put_tenant.json", "create_endpoint.json", "post_event.json")
REPLAYED_HEADERS = ("authorization", "content-type", "idempotency-key")
START_API_READY_SECONDS = 120.0
DELIVERY_SECONDS = 60.0

Say = Callable[[str], None]


class CheckFailed(Exception):
    pass


def load_fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return loaded


def fixture_api_key() -> str:
    """The bearer key the API fixtures carry: the local stack is started with it."""
    authorization = str(load_fixture(API_FIXTURES[0])["headers"]["authorization"])
    return authorization.removeprefix("Bearer ").strip()


def _short(text: str, limit: int = 220) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Scenario:
    def __init__(self, commands: SamCommands, say: Say, work_dir: Path) -> None:
        self.commands = commands
        self.say = say
        self.work_dir = work_dir
        self.env = sam_environment()
        self.gateway = docker_bridge_gateway(self.env)
        self.api_key = fixture_api_key()

    @contextlib.contextmanager
    def _stack(self, *, pollers: bool, label: str) -> Iterator[StackInfo]:
        started = time.monotonic()
        stack: StackProcess = start_stack(
            self.gateway,
            self.gateway,
            self.commands.env_json,
            pollers=pollers,
            extra_args=["--api-key", self.api_key],
            log_file=self.work_dir / f"local-stack-{label}.log",
        )
        assert stack.info is not None
        self.say(
            f"local stack ({'with' if pollers else 'without'} pollers) ready in "
            f"{time.monotonic() - started:.1f} s; containers reach moto at "
            f"{stack.info.state['container_aws_endpoint_url']}"
        )
        try:
            yield stack.info
        finally:
            code = stack.stop()
            if code != 0:
                raise CheckFailed(f"the local stack exited with {code}")

    # ---------------------------------------------------------------- sam local invoke

    def invoke(self, function: str, event: Path, label: str, status: int | None) -> Any:
        started = time.monotonic()
        result = subprocess.run(
            self.commands.invoke(function, event), capture_output=True, text=True, env=self.env, check=False
        )
        seconds = time.monotonic() - started
        lines = result.stdout.strip().splitlines()
        try:
            answer = json.loads(lines[-1]) if lines else None
        except ValueError:
            answer = None
        if result.returncode != 0 or answer is None:
            raise CheckFailed(
                f"sam local invoke {function} -e {label}: exit {result.returncode}\n"
                f"{_short(result.stdout, 2000)}\n{_short(result.stderr[-3000:], 3000)}"
            )
        self.say(f"  sam local invoke {function} -e {label}  ({seconds:.1f} s)")
        self.say(f"    -> {_short(json.dumps(answer))}")
        # The function's own log lines (a traceback, say) are on sam's stderr.
        function_log = _short(result.stderr[-3000:], 3000)
        if status is not None and (not isinstance(answer, dict) or answer.get("statusCode") != status):
            raise CheckFailed(f"{label}: expected statusCode {status}, got {answer}\n{function_log}")
        if status is None and answer != {"batchItemFailures": []}:
            raise CheckFailed(f"{label}: expected no batch item failures, got {answer}\n{function_log}")
        return answer

    def _queued_batch(self, info: StackInfo, function: str) -> Path:
        """A Lambda SQS event of what the function's queue holds now (as its event source would build it)."""
        # post_event.json has no ordering_key: its job waits on the standard queue, not on the FIFO one.
        sources = [
            source
            for source in info.state["functions"][function]["event_sources"]
            if not str(source["queue_url"]).endswith(".fifo")
        ]
        if len(sources) != 1:
            raise CheckFailed(f"{function}: expected one standard SQS event source, got {len(sources)}")
        session = boto3.session.Session(
            aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_SECRET_KEY, region_name=info.region
        )
        sqs = session.client("sqs", endpoint_url=info.aws_endpoint_url)
        queue_url = sources[0]["queue_url"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            raise CheckFailed(f"nothing on {function}'s queue after post_event.json was accepted")
        path = self.work_dir / f"{function}-queued-batch.json"
        records = [lambda_record(message, arn, info.region) for message in messages]
        path.write_text(json.dumps({"Records": records}, indent=2), encoding="utf-8")
        return path

    def invokes(self) -> None:
        present = {path.name for path in EVENTS.glob("*.json")}
        if present != set(FIXTURES):
            raise CheckFailed(
                f"events/ holds {sorted(present)}; this check knows {sorted(FIXTURES)}: say which function "
                "each new fixture is for in FIXTURES (local_stack/sam_local_scenario.py)"
            )
        self.say("\n== sam local invoke, each fixture in events/ (the local stack without pollers)")
        with self._stack(pollers=False, label="invoke") as info:
            for name in API_FIXTURES:
                function, status = FIXTURES[name]
                self.invoke(function, EVENTS / name, f"events/{name}", status)
            batch = self._queued_batch(info, "DispatchFunction")
            self.invoke("DispatchFunction", batch, "<the delivery queue's messages>", None)
            for name, (function, status) in FIXTURES.items():
                if name not in API_FIXTURES:
                    self.invoke(function, EVENTS / name, f"events/{name}", status)

    # ---------------------------------------------------------------- sam local start-api

    def start_api(self) -> None:
        self.say("\n== sam local start-api (the local stack with pollers, as `make sam-local` runs it)")
        receiver = DemoReceiver("receiver", lambda event_id, seen: 200)
        log_path = self.work_dir / "start-api.log"
        try:
            with self._stack(pollers=True, label="start-api"), log_path.open("wb") as log:
                port = _free_port()
                api = subprocess.Popen(
                    self.commands.start_api("127.0.0.1", port),
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                try:
                    base = f"http://127.0.0.1:{port}"
                    self._wait_for_api(base, api, log_path)
                    self._deliver_through(base, receiver)
                finally:
                    _interrupt(api)
        finally:
            receiver.close()

    def _wait_for_api(self, base: str, api: subprocess.Popen[bytes], log_path: Path) -> None:
        started = time.monotonic()
        deadline = started + START_API_READY_SECONDS
        while True:
            with contextlib.suppress(requests.ConnectionError):
                requests.get(f"{base}/v1/", timeout=2)
                break
            if api.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
                raise CheckFailed(f"sam local start-api did not come up:\n{tail}")
            time.sleep(0.3)
        self.say(f"  sam local start-api listening on {base} after {time.monotonic() - started:.1f} s")

    def _call(self, base: str, fixture: str, *, suffix: str = "", body: Any = None) -> dict[str, Any]:
        """The fixture's request (method, path, headers, body) sent over HTTP; its status must match."""
        event = load_fixture(fixture)
        method = str(event["requestContext"]["http"]["method"])
        headers = {key: value for key, value in event["headers"].items() if key.lower() in REPLAYED_HEADERS}
        data = event.get("body") if body is None else json.dumps(body)
        started = time.monotonic()
        response = requests.request(
            method, base + event["rawPath"] + suffix, headers=headers, data=data, timeout=60
        )
        wanted = FIXTURES[fixture][1]
        self.say(
            f"  {method} {event['rawPath']}{suffix} -> {response.status_code}  "
            f"({time.monotonic() - started:.1f} s) {_short(response.text, 160)}"
        )
        if response.status_code != wanted:
            raise CheckFailed(f"{method} {event['rawPath']}: expected {wanted}, got {response.status_code}")
        answer: dict[str, Any] = response.json()
        return answer

    def _deliver_through(self, base: str, receiver: DemoReceiver) -> None:
        self._call(base, "put_tenant.json")
        endpoint_body = json.loads(load_fixture("create_endpoint.json")["body"])
        endpoint_body["url"] = receiver.url
        endpoint = self._call(base, "create_endpoint.json", body=endpoint_body)
        secret_path = f"{load_fixture('create_endpoint.json')['rawPath']}/{endpoint['id']}/secret"
        secret = requests.get(
            base + secret_path, headers={"authorization": f"Bearer {self.api_key}"}, timeout=60
        )
        if secret.status_code != 200:
            raise CheckFailed(f"GET {secret_path}: {secret.status_code} {secret.text}")
        receiver.secret = str(secret.json()["secret"])
        accepted = self._call(base, "post_event.json")
        event_id = str(accepted["id"])
        deadline = time.monotonic() + DELIVERY_SECONDS
        while not any(item.event_id == event_id for item in receiver.received):
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"no delivery of {event_id} reached {receiver.url} in {DELIVERY_SECONDS:.0f} s"
                )
            time.sleep(0.1)
        delivery = next(item for item in receiver.received if item.event_id == event_id)
        if not delivery.verified:
            raise CheckFailed(f"the delivery of {event_id} failed verification: {delivery.note}")
        self.say(
            f"  delivery to {receiver.url}: webhook-id {event_id}; signature verified with standardwebhooks "
            f"(Webhook(secret).verify); answered {delivery.status}"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _interrupt(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Ctrl-C for sam (it then stops its warm containers), then harder if it does not exit."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(commands: SamCommands, say: Say) -> None:
    """Both parts; on a failure the work directory (env.json, logs of the stacks and start-api) is kept."""
    work = Path(tempfile.mkdtemp(prefix="sam-local-check-"))
    try:
        scenario = Scenario(dataclasses.replace(commands, env_json=work / "env.json"), say, work)
        scenario.invokes()
        scenario.start_api()
    except BaseException:
        say(f"logs kept in {work}")
        raise
    shutil.rmtree(work, ignore_errors=True)
