"""Injected AWS faults: a WSGI middleware in front of moto that answers a share of requests as AWS does
when it throttles or fails, so that the functions' error handling meets what it will meet on AWS.

Each fault is written in its service's own wire format, so botocore parses it into the same
``ClientError`` code and HTTP status that AWS would produce (and retries it as it would AWS's):

- JSON protocols (``X-Amz-Target``): ``{"__type": ..., "message": ...}``; DynamoDB and SQS (JSON 1.0)
  name the type with its namespace, Secrets Manager and KMS (JSON 1.1) without; SQS, a former query
  service, also sends ``x-amzn-query-error`` with the query-era code and fault;
- the query protocol (SNS): an XML ``<ErrorResponse>`` with ``Type``, ``Code``, ``Message``, ``RequestId``.

A fault is answered before moto sees the request, so a faulted call never took effect (as with a
throttled call on AWS). REST-protocol services are passed through untouched. The middleware counts what
it did; ``FaultControl`` serves those counts and lets a test change the rate while the server runs.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from xml.sax.saxutils import escape

CONTROL_PATH = "/_local_stack/aws-faults"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Fault:
    status: int
    code: str  # the code botocore reports (ClientError.response["Error"]["Code"])
    message: str
    wire_type: str = ""  # the JSON ``__type`` when it differs from ``code`` (namespaced)
    query_error: str = ""  # SQS: "Code;Sender|Receiver" in x-amzn-query-error


def _dynamodb(status: int, code: str, message: str) -> Fault:
    return Fault(status, code, message, f"com.amazonaws.dynamodb.v20120810#{code}")


def _sqs(status: int, code: str, message: str) -> Fault:
    namespace = "com.amazonaws.sqs" if status < 500 else "com.amazon.coral.service"
    fault = "Sender" if status < 500 else "Receiver"
    return Fault(status, code, message, f"{namespace}#{code}", f"{code};{fault}")


FAULTS: dict[str, tuple[Fault, ...]] = {
    "dynamodb": (
        _dynamodb(400, "ProvisionedThroughputExceededException", "The level of configured provisioned "
                  "throughput for the table was exceeded."),
        _dynamodb(400, "ThrottlingException", "Throughput exceeds the current capacity of your table."),
        _dynamodb(500, "InternalServerError", "Internal server error"),
    ),
    "sqs": (
        _sqs(400, "RequestThrottled", "Request is throttled."),
        _sqs(500, "InternalFailure", "We encountered an internal error. Please try again."),
        _sqs(503, "ServiceUnavailable", "Service is unavailable. Try again later."),
    ),
    "secretsmanager": (
        Fault(400, "ThrottlingException", "Rate exceeded"),
        Fault(500, "InternalServiceError", "An error occurred on the server side."),
    ),
    "kms": (
        Fault(400, "ThrottlingException", "Rate exceeded"),
        Fault(500, "KMSInternalException", "An internal error occurred."),
    ),
    "sns": (
        Fault(400, "Throttling", "Rate exceeded"),
        Fault(429, "Throttled", "Rate exceeded"),
        Fault(500, "InternalError", "An internal error occurred. Please try again."),
    ),
}  # fmt: skip
GENERIC_JSON_FAULTS = (
    Fault(400, "ThrottlingException", "Rate exceeded"),
    Fault(500, "InternalFailure", "The request processing has failed because of an unknown error."),
)
GENERIC_QUERY_FAULTS = (
    Fault(400, "Throttling", "Rate exceeded"),
    Fault(500, "InternalFailure", "The request processing has failed because of an unknown error."),
)


def service_of(environ: dict[str, Any]) -> str:
    """The signing name in a SigV4 ``Authorization`` header (``.../us-east-1/dynamodb/aws4_request``)."""
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    _, _, credential = authorization.partition("Credential=")
    parts = credential.split(",", 1)[0].split("/")
    return parts[3] if len(parts) >= 5 else ""


def protocol_of(environ: dict[str, Any]) -> str:
    """``json``, ``query`` or ``rest`` (REST services are never faulted)."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    content_type = str(environ.get("CONTENT_TYPE", "")).lower()
    if environ.get("REQUEST_METHOD") == "POST" and content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        return "query"
    return "rest"


def render(fault: Fault, protocol: str, service: str, request_id: str) -> tuple[list[tuple[str, str]], bytes]:
    """The response headers and body AWS sends for ``fault``."""
    if protocol == "json":
        version = "1.0" if service in {"dynamodb", "sqs"} else "1.1"
        body = json.dumps({"__type": fault.wire_type or fault.code, "message": fault.message}).encode()
        headers = [("Content-Type", f"application/x-amz-json-{version}"), ("x-amzn-RequestId", request_id)]
        if fault.query_error:
            headers.append(("x-amzn-query-error", fault.query_error))
        return headers, body
    kind = "Receiver" if fault.status >= 500 else "Sender"
    xml = (
        f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/">'
        f"<Error><Type>{kind}</Type><Code>{escape(fault.code)}</Code>"
        f"<Message>{escape(fault.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode()


class FaultInjector:
    """WSGI middleware: answers a share (``rate``) of faultable requests with a fault of their service."""

    def __init__(self, app: WsgiApp, rate: float, seed: int | None = None) -> None:
        self._app = app
        self._random = random.Random(seed)  # chaos, not cryptography
        self._lock = threading.Lock()
        self.rate = rate
        self.requests = 0
        self.passed_through = 0
        self.injected: Counter[str] = Counter()

    @property
    def rate(self) -> float:
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"the fault rate must be between 0 and 1, got {value}")
        self._rate = value

    def _choose(self, environ: dict[str, Any]) -> tuple[Fault, str, str] | None:
        service, protocol = service_of(environ), protocol_of(environ)
        with self._lock:
            self.requests += 1
            if protocol == "rest" or self._random.random() >= self._rate:
                self.passed_through += 1
                return None
            faults = FAULTS.get(service) or (
                GENERIC_JSON_FAULTS if protocol == "json" else GENERIC_QUERY_FAULTS
            )
            fault = self._random.choice(faults)
            self.injected[f"{service or 'unknown'}:{fault.code}"] += 1
        return fault, protocol, service

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        chosen = self._choose(environ)
        if chosen is None:
            return self._app(environ, start_response)
        fault, protocol, service = chosen
        _drain(environ)  # keep-alive: the next request on this connection must start where this one ends
        headers, body = render(fault, protocol, service, str(uuid.uuid4()))
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{fault.status} {HTTPStatus(fault.status).phrase}", headers)
        return [body]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rate": self._rate,
                "requests": self.requests,
                "passed_through": self.passed_through,
                "injected": sum(self.injected.values()),
                "by_service_and_code": dict(sorted(self.injected.items())),
            }


class FaultControl:
    """WSGI middleware on the clean port: ``GET`` the injector's counts, ``PUT {"rate": r}`` to change it."""

    def __init__(self, app: WsgiApp, injector: FaultInjector) -> None:
        self._app = app
        self._injector = injector

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != CONTROL_PATH:
            return self._app(environ, start_response)
        status = 200
        if environ.get("REQUEST_METHOD") in {"PUT", "POST"}:
            try:
                self._injector.rate = float(json.loads(_drain(environ) or b"{}")["rate"])
            except (KeyError, TypeError, ValueError) as exc:
                status = 400
                body = json.dumps({"error": f"expected {{'rate': 0..1}}: {exc}"}).encode()
        if status == 200:
            body = json.dumps(self._injector.stats()).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]


def _drain(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    return stream.read(length) if stream is not None and length > 0 else b""
