"""From what a scenario did (AWS calls, invocations, deliveries) to billable units and dollars.

Billing units, per AWS's pricing pages (see bench/prices.py):
- API Gateway HTTP API: one request per 512 KB of request, at least one, per API call.
- Lambda: one request per invocation; GB-seconds = billed duration (the measured handler time, rounded up
  to 1 ms) x the function's MemorySize from template.yaml.
- SQS: one request per 64 KB chunk of the payload it carries (SendMessage, SendMessageBatch, the messages a
  ReceiveMessage returns), at least one; every other action is one request. The event source's
  ReceiveMessage and DeleteMessageBatch are counted (one of each per batch, as Lambda's poller makes them
  under load; empty receives, which load does not leave, are not). A FIFO queue's requests (its URL ends
  in ``.fifo``) are priced at the FIFO rate, and shown as ``sqs-fifo:<operation>`` in the breakdown.
- SNS: one publish per 64 KB chunk of the messages published.
- DynamoDB: read and write units from ``bench.dynamodb_units``.
- Secrets Manager: per API call.
- A botocore retry is one more request of the same kind.

Beyond the requests (``all_in``):
- CloudWatch Logs: every byte the functions print, Lambda's platform lines and the HTTP API's access log
  line per request (``bench.log_lines``), priced at ingestion plus storage for the log groups' retention.
- DynamoDB storage and point-in-time-recovery backups of what the scenario left stored, until its TTL
  (``bench.stored_items``).
- Beside the total: egress, the bytes of every webhook request sent and every API answer, at internet
  data-transfer rates.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench import prices
from bench.aws_meter import AwsCall
from bench.dynamodb_units import Units
from bench.log_lines import access_log_bytes, platform_bytes
from bench.stored_items import DAYS_PER_MONTH, Stored

if TYPE_CHECKING:
    from bench.lambda_stack import Invocation, LambdaFunction

SQS_CHUNK = 64 * 1024
SNS_CHUNK = 64 * 1024
API_GATEWAY_CHUNK = 512 * 1024
SERVICES = ("API Gateway", "Lambda", "SQS", "DynamoDB", "SNS", "Secrets Manager")
_SERVICE_NAMES = {
    "sqs": "SQS",
    "sqs-fifo": "SQS",
    "dynamodb": "DynamoDB",
    "sns": "SNS",
    "secretsmanager": "Secrets Manager",
}


def _chunks(size: int, chunk: int) -> int:
    return max(1, math.ceil(size / chunk))


def _attributes_size(attributes: dict[str, Any] | None) -> int:
    total = 0
    for name, value in (attributes or {}).items():
        content = value.get("StringValue") or value.get("BinaryValue") or b""
        total += len(name.encode()) + len(value.get("DataType", "").encode())
        total += len(content if isinstance(content, bytes) else str(content).encode())
    return total


def _message_size(body: str, attributes: dict[str, Any] | None) -> int:
    return len(body.encode()) + _attributes_size(attributes)


def sqs_requests(call: AwsCall) -> int:
    params, operation = call.params, call.operation
    if operation == "SendMessage":
        size = _message_size(params.get("MessageBody", ""), params.get("MessageAttributes"))
    elif operation == "SendMessageBatch":
        size = sum(
            _message_size(entry.get("MessageBody", ""), entry.get("MessageAttributes"))
            for entry in params.get("Entries", [])
        )
    elif operation == "ReceiveMessage":
        size = sum(
            _message_size(message.get("Body", ""), message.get("MessageAttributes"))
            for message in call.response.get("Messages", [])
        )
    else:
        return call.requests
    return _chunks(size, SQS_CHUNK) * call.requests


def sqs_queue_url(call: AwsCall) -> str:
    return str(call.params.get("QueueUrl", ""))


def row_name(call: AwsCall) -> str:
    """The breakdown's name of a call: ``service:operation``, with a FIFO queue's SQS calls apart."""
    if call.service == "sqs" and prices.sqs_request_price(sqs_queue_url(call)) is prices.SQS_FIFO_REQUEST:
        return f"sqs-fifo:{call.operation}"
    return call.name


def sns_publishes(call: AwsCall) -> int:
    params = call.params
    if call.operation == "Publish":
        size = _message_size(params.get("Message", ""), params.get("MessageAttributes"))
    elif call.operation == "PublishBatch":
        size = sum(
            _message_size(entry.get("Message", ""), entry.get("MessageAttributes"))
            for entry in params.get("PublishBatchRequestEntries", [])
        )
    else:
        return 0  # topic management, not a publish
    return _chunks(size, SNS_CHUNK) * call.requests


@dataclass
class OperationUsage:
    """One row of the breakdown: an operation made by one function (or the event source)."""

    calls: int = 0
    billed_requests: float = 0.0  # in the service's billing unit (64 KB chunks, publishes, ...)
    usd: float = 0.0  # SQS: what those requests cost (standard and FIFO queues differ)
    units: Units = field(default_factory=Units)
    moto_units: float = 0.0
    moto_answered: int = 0  # calls for which moto returned ConsumedCapacity


@dataclass
class FunctionUsage:
    invocations: int = 0
    billed_ms: int = 0
    billed_ms_with_moto: int = 0
    gb_seconds: float = 0.0
    log_bytes: int = 0  # what the function printed
    platform_log_bytes: int = 0  # Lambda's START/END/REPORT lines (or JSON records) around it
    memory_mb: int = 0


@dataclass
class Usage:
    """Everything a scenario was billed for, in billing units (not per event)."""

    events: int
    api_requests: int = 0
    functions: dict[str, FunctionUsage] = field(default_factory=lambda: defaultdict(FunctionUsage))
    operations: dict[tuple[str, str], OperationUsage] = field(
        default_factory=lambda: defaultdict(OperationUsage)
    )  # (function, service:operation) -> usage
    unpriced: Counter[str] = field(default_factory=Counter)
    delivery_attempts: int = 0  # what the receivers were sent (EventBridge would invoke as often)
    deliveries: int = 0
    published_event_chunks: int = 0  # what EventBridge would bill as published custom events
    access_log_bytes: int = 0  # the HTTP API's access log lines
    log_retention_days: float = 0.0  # the functions' and the API's log groups (template.yaml)
    egress_bytes: int = 0  # webhook requests sent and API answers, to the internet
    stored: Stored = field(default_factory=Stored)
    pitr: bool = False

    def add_invocations(
        self, invocations: list[Invocation], functions: dict[str, LambdaFunction], access_format: str = ""
    ) -> None:
        for invocation in invocations:
            function = self.functions[invocation.function]
            spec = functions[invocation.function]
            function.memory_mb = spec.memory_mb
            function.invocations += 1
            function.billed_ms += invocation.billed_ms
            function.billed_ms_with_moto += invocation.billed_ms_with_moto
            function.gb_seconds += invocation.billed_ms / 1000 * function.memory_mb / 1024
            function.log_bytes += invocation.log_bytes
            duration_ms = (invocation.seconds - invocation.excluded_seconds) * 1000
            function.platform_log_bytes += platform_bytes(
                spec.logging, duration_ms, invocation.billed_ms, spec.memory_mb
            )
            if not invocation.records:  # an API request
                self.api_requests += _chunks(invocation.request_bytes, API_GATEWAY_CHUNK)
            if invocation.api_request is not None:
                method, path, status, body_bytes = invocation.api_request
                self.egress_bytes += body_bytes
                if access_format:
                    latency = max(1, invocation.billed_ms)
                    self.access_log_bytes += access_log_bytes(
                        access_format, method, path, status, latency, body_bytes
                    )

    def add_calls(self, calls: list[AwsCall]) -> None:
        for call in calls:
            row = self.operations[(call.function, row_name(call))]
            row.calls += call.requests
            if call.service == "sqs":
                billed = sqs_requests(call)
                row.billed_requests += billed
                row.usd += billed * prices.sqs_request_price(sqs_queue_url(call)).usd
            elif call.service == "sns":
                row.billed_requests += sns_publishes(call)
            elif call.service == "secretsmanager":
                row.billed_requests += call.requests
            elif call.service == "dynamodb":
                row.units += call.notes.get("units", Units())
                moto = call.notes.get("moto_units")
                if moto is not None:
                    row.moto_units += moto
                    row.moto_answered += 1
            else:
                self.unpriced[call.name] += call.requests

    # -- totals ---------------------------------------------------------------------------------------

    def service_of(self, name: str) -> str:
        return _SERVICE_NAMES.get(name.split(":", 1)[0], "other")

    def dynamodb_units(self) -> Units:
        total = Units()
        for (_, name), row in self.operations.items():
            if name.startswith("dynamodb:"):
                total += row.units
        return total

    def billed(self, service: str) -> float:
        return sum(
            row.billed_requests
            for (_, name), row in self.operations.items()
            if self.service_of(name) == service
        )

    def dollars(self, architecture: dict[str, str]) -> dict[str, float]:
        """Dollars for the whole scenario, by line (DynamoDB split into writes and reads)."""
        units = self.dynamodb_units()
        lambda_requests = sum(f.invocations for f in self.functions.values()) * prices.LAMBDA_REQUEST.usd
        lambda_compute = sum(
            f.gb_seconds * prices.LAMBDA_GB_SECOND[architecture[name]].usd
            for name, f in self.functions.items()
        )
        return {
            "API Gateway": self.api_requests * prices.API_GATEWAY_HTTP_REQUEST.usd,
            "Lambda": lambda_requests + lambda_compute,
            "SQS": sum(
                row.usd for (_, name), row in self.operations.items() if self.service_of(name) == "SQS"
            ),
            "DynamoDB writes": units.all_writes * prices.DYNAMODB_WRITE_UNIT.usd,
            "DynamoDB reads": units.read * prices.DYNAMODB_READ_UNIT.usd,
            "SNS": self.billed("SNS") * prices.SNS_PUBLISH.usd,
            "Secrets Manager": self.billed("Secrets Manager") * prices.SECRETS_MANAGER_CALL.usd,
        }

    def log_bytes(self) -> int:
        """Every byte CloudWatch Logs ingests: printed, platform lines, access log lines."""
        printed = sum(f.log_bytes + f.platform_log_bytes for f in self.functions.values())
        return printed + self.access_log_bytes

    def logs_per_million(self) -> float:
        """CloudWatch Logs: ingestion, then storage for the log groups' retention."""
        months = self.log_retention_days / DAYS_PER_MONTH
        per_byte = prices.CLOUDWATCH_LOGS_GB.usd + prices.CLOUDWATCH_LOGS_STORAGE_GB_MONTH.usd * months
        return self.log_bytes() * per_byte / self.events * 1e6

    def storage_per_million(self) -> float:
        """DynamoDB storage of what the events left, until TTL removes it, and its PITR backups."""
        return (self.stored.storage_usd() + self.stored.backup_usd(self.pitr)) / self.events * 1e6

    def egress_per_million(self) -> float:
        return self.egress_bytes * prices.DATA_TRANSFER_OUT_GB.usd / self.events * 1e6

    def all_in(self, architecture: dict[str, str]) -> dict[str, float]:
        """$ per million events: requests + logs + storage (the total), egress beside it."""
        requests = sum(self.per_million_events(architecture).values())
        logs, storage = self.logs_per_million(), self.storage_per_million()
        return {
            "requests": requests,
            "logs": logs,
            "storage": storage,
            "total": requests + logs + storage,
            "egress": self.egress_per_million(),
            "eventbridge": self.eventbridge_per_million(),
        }

    def per_million_events(self, architecture: dict[str, str]) -> dict[str, float]:
        return {line: usd / self.events * 1e6 for line, usd in self.dollars(architecture).items()}

    def eventbridge_per_million(self) -> float:
        """EventBridge API destinations for the same traffic: each published event (per 64 KB chunk) plus
        each invocation of a destination, retries included."""
        usd = (
            self.published_event_chunks * prices.EVENTBRIDGE_CUSTOM_EVENT.usd
            + self.delivery_attempts * prices.EVENTBRIDGE_API_DESTINATION.usd
        )
        return usd / self.events * 1e6
