"""API Gateway (HTTP API, payload format 2.0), played locally.

A ``ThreadingHTTPServer`` on 127.0.0.1 matches each request against the routes the template gives the
function (for example ``ANY /v1/{proxy+}``), builds the event API Gateway would send, invokes the function
and turns its answer back into an HTTP response, following API Gateway's rules:

- no matching route: 404 ``{"message":"Not Found"}``; a method API Gateway does not route (anything but
  GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS) never matches a route either, so it gets the same 404;
- request body over 10 MB: 413 ``{"message":"Request Entity Too Large"}``;
- request line and headers over 10,240 bytes (HTTP API's quota): 431
  ``{"message":"Request Header Fields Too Large"}``;
- malformed framing (a bad request line, HTTP/0.9, a bad or conflicting ``Content-Length``, an unknown
  ``Transfer-Encoding``, both of those headers, a bad chunk, a body cut short): 400
  ``{"message":"Bad Request"}``, and the connection is closed;
- a client that stops sending mid-request: 408 ``{"message":"Request Timeout"}`` after
  ``READ_TIMEOUT_SECONDS``; an idle keep-alive connection is closed after the same time. The request line
  and headers must arrive whole within ``HEAD_DEADLINE_SECONDS`` of the connection's turn, however
  slowly they trickle in (a header sent a byte at a time gets its 408 then). Nothing hangs;
- a function error, timeout or malformed answer: 500 ``{"message":"Internal Server Error"}``;
- an answer without ``statusCode`` is a 200 with the answer as JSON body.

AWS does not document the exact answers to bad framing; these statuses are the ones HTTP defines.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local_stack.background_server import BackgroundServer
from local_stack.http_framing import DeadlineReader, read_body
from local_stack.runtime import Invocation, PoolClosed

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
MAX_HEADER_BYTES = 10_240  # HTTP API's quota on the request line and header values together
READ_TIMEOUT_SECONDS = 10.0
HEAD_DEADLINE_SECONDS = 10.0
ROUTABLE_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Statuses http.server answers on its own that API Gateway would not: an unknown method matches no route.
_GATEWAY_STATUS: dict[int, int] = {
    HTTPStatus.NOT_IMPLEMENTED: HTTPStatus.NOT_FOUND,
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: 400,
}
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|xml|javascript|x-www-form-urlencoded|[\w.+-]+\+(json|xml))|.*/.*json)$"
)
_JSON_HEADERS = (("content-type", "application/json"),)

Invoke = Callable[[dict[str, Any]], Invocation]


@dataclass(frozen=True, slots=True)
class Route:
    """One route key of an HTTP API, e.g. ``ANY /v1/{proxy+}``."""

    route_key: str
    method: str
    pattern: re.Pattern[str]
    literal_segments: int
    greedy: bool

    @classmethod
    def parse(cls, route_key: str) -> Route:
        if route_key == "$default":
            return cls(route_key, "ANY", re.compile(r"^/.*$"), -1, True)
        method, _, path = route_key.partition(" ")
        regex, literals, greedy = "", 0, False
        for segment in path.strip("/").split("/"):
            if not segment:
                continue
            variable = re.fullmatch(r"\{([A-Za-z0-9_.-]+?)(\+?)\}", segment)
            if variable is None:
                regex += "/" + re.escape(segment)
                literals += 1
            elif variable.group(2):
                # A greedy variable takes the rest of the path (at least one character).
                regex += f"/(?P<{_group(variable.group(1))}>.+)"
                greedy = True
            else:
                regex += f"/(?P<{_group(variable.group(1))}>[^/]+)"
        return cls(route_key, method.upper(), re.compile(f"^{regex or '/'}$"), literals, greedy)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in {"ANY", method}:
            return None
        found = self.pattern.match(path)
        if found is None:
            return None
        return {_name(group): unquote(value) for group, value in found.groupdict().items()}


def _group(name: str) -> str:
    return "p_" + name.encode().hex()


def _name(group: str) -> str:
    return bytes.fromhex(group[2:]).decode()


class Router:
    """API Gateway's route selection: the most specific matching route wins, ``$default`` last."""

    def __init__(self, routes: Iterable[tuple[str, Invoke]]) -> None:
        parsed = [(Route.parse(key), invoke) for key, invoke in routes]
        self.routes = sorted(
            parsed, key=lambda item: (item[0].greedy, -item[0].literal_segments, item[0].method == "ANY")
        )

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str], Invoke] | None:
        for route, invoke in self.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters, invoke
        return None


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    return bool(_TEXT_TYPES.match(content_type.split(";")[0].strip().lower()))


def build_event(
    *,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    route: Route,
    path_parameters: dict[str, str],
    source_ip: str,
    protocol: str,
    domain_name: str,
    account_id: str,
    api_id: str,
    request_id: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway's HTTP API sends to a Lambda integration."""
    now = time.time() if now is None else now
    split = urlsplit(target)
    raw_path = split.path or "/"
    combined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        combined[key] = f"{combined[key]},{value}" if key in combined else value
    # As API Gateway does: the Host the client sent (with its port, which matters on 127.0.0.1 only).
    combined.setdefault("host", domain_name)
    combined.setdefault("x-forwarded-for", source_ip)
    combined.setdefault("x-forwarded-proto", "http")
    combined.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{secrets.token_hex(12)}")

    query: dict[str, str] = {}
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": split.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = combined
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", maxsplit=1)[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": combined.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if path_parameters:
        event["pathParameters"] = path_parameters
    is_base64 = False
    if body:
        if _is_text(combined.get("content-type")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                is_base64 = True
        else:
            is_base64 = True
        if is_base64:
            event["body"] = base64.b64encode(body).decode("ascii")
    event["isBase64Encoded"] = is_base64
    return event


def _request_id() -> str:
    return base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("=")


class BadIntegrationResponse(Exception):
    pass


def translate_response(payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """An HTTP API (2.0) integration response as (status, headers, body)."""
    if not isinstance(payload, dict) or "statusCode" not in payload:
        # Any other JSON value is the body of a 200.
        return 200, list(_JSON_HEADERS), json.dumps(payload).encode()
    try:
        status = int(payload["statusCode"])
    except (TypeError, ValueError) as exc:
        raise BadIntegrationResponse(f"statusCode {payload['statusCode']!r} is not a number") from exc
    if not 100 <= status <= 599:
        raise BadIntegrationResponse(f"statusCode {status} is out of range")
    headers: list[tuple[str, str]] = []
    for name, value in (payload.get("headers") or {}).items():
        headers.append((str(name), _header_value(value)))
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        if isinstance(values, list):
            headers.extend((str(name), _header_value(value)) for value in values)
    for cookie in payload.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    body_value = payload.get("body")
    if body_value is None:
        body = b""
    elif payload.get("isBase64Encoded"):
        try:
            body = base64.b64decode(str(body_value), validate=True)
        except ValueError as exc:
            raise BadIntegrationResponse("body is not valid base64") from exc
    else:
        body = (body_value if isinstance(body_value, str) else json.dumps(body_value)).encode()
    return status, headers, body


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ApiGatewayServer(BackgroundServer):
    """The local HTTP API: one ``ThreadingHTTPServer`` in a background thread."""

    def __init__(
        self,
        host: str,
        port: int,
        routes: Iterable[tuple[str, Invoke]],
        account_id: str,
        report: Callable[[str], None],
        read_timeout: float = READ_TIMEOUT_SECONDS,
        head_deadline: float = HEAD_DEADLINE_SECONDS,
    ) -> None:
        self.router = Router(routes)
        self.head_deadline = head_deadline
        self.account_id = account_id
        self.api_id = secrets.token_hex(5)
        self.report = report
        handler = type("Handler", (_Handler,), {"gateway": self, "timeout": read_timeout})
        super().__init__(host, port, handler, "api-gateway")


class _Handler(BaseHTTPRequestHandler):
    gateway: ApiGatewayServer
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: headers and body are two writes, and Nagle + delayed ACK would hold the body ~40 ms.
    disable_nagle_algorithm = True
    server_version = "hookline-local-apigw"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced by a reader that keeps the head's deadline (the socket stays open)
        self._reader = DeadlineReader(self.connection, float(self.timeout or READ_TIMEOUT_SECONDS))
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + self.gateway.head_deadline
        super().handle_one_request()

    def _send(
        self,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        request_id: str,
        *,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        seen = set()
        for name, value in headers:
            if name.lower() in {"content-length", "connection", "transfer-encoding"}:
                continue
            seen.add(name.lower())
            self.send_header(name, value)
        if "content-type" not in seen and body:
            self.send_header("content-type", "application/json")
        self.send_header("apigw-requestid", request_id)
        self.send_header("content-length", str(len(body)))
        if close:
            self.close_connection = True
            self.send_header("connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _message(self, status: int, message: str, request_id: str, *, close: bool = False) -> None:
        self._send(status, _JSON_HEADERS, json.dumps({"message": message}).encode(), request_id, close=close)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every error http.server answers by itself (bad request line, headers too long or too many,
        unknown method...) as API Gateway would: JSON, and the connection closed."""
        status = HTTPStatus(_GATEWAY_STATUS.get(code, code))
        if self.request_version in {"", "HTTP/0.9"}:
            self.request_version = "HTTP/1.1"  # always answer with a status line
        self._message(status, status.phrase, _request_id(), close=True)

    def parse_request(self) -> bool:
        try:
            if not super().parse_request():
                return False
        except TimeoutError:  # the client stopped in the middle of its headers
            self.send_error(HTTPStatus.REQUEST_TIMEOUT)
            return False
        if self.request_version == "HTTP/0.9":
            self.send_error(HTTPStatus.BAD_REQUEST)
            return False
        self._reader.deadline = None  # the head is in; the body has the read timeout per read
        size = len(self.raw_requestline) + sum(len(name) + len(value) for name, value in self.headers.items())
        if size > MAX_HEADER_BYTES:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            return False
        return True

    def _read_body(self) -> bytes | None:
        return read_body(self.rfile, self.headers, MAX_REQUEST_BYTES)

    def _handle(self) -> None:
        request_id = _request_id()
        if self.command not in ROUTABLE_METHODS:
            self._message(404, "Not Found", request_id, close=True)  # its body, if any, is never read
            return
        try:
            body = self._read_body()
        except ValueError:
            self._message(400, "Bad Request", request_id, close=True)
            return
        except TimeoutError:
            self._message(408, "Request Timeout", request_id, close=True)
            return
        if body is None:
            # The rest of the body is never read.
            self._message(413, "Request Entity Too Large", request_id, close=True)
            return
        path = urlsplit(self.path).path or "/"
        matched = self.gateway.router.match(self.command, path)
        if matched is None:
            self._message(404, "Not Found", request_id)
            return
        route, parameters, invoke = matched
        host = self.headers.get("host") or f"{self.gateway.host}:{self.gateway.port}"
        event = build_event(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            route=route,
            path_parameters=parameters,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            domain_name=host.split(":")[0],
            account_id=self.gateway.account_id,
            api_id=self.gateway.api_id,
            request_id=request_id,
        )
        try:
            invocation = invoke(event)
        except PoolClosed:
            self._message(503, "Service Unavailable", request_id)
            return
        if not invocation.ok:
            error = invocation.error or {}
            self.gateway.report(
                f"{self.command} {path}: function error {error.get('errorType')}: {error.get('errorMessage')}"
            )
            self._message(500, "Internal Server Error", request_id)
            return
        try:
            status, headers, response_body = translate_response(invocation.payload)
        except BadIntegrationResponse as exc:
            self.gateway.report(f"{self.command} {path}: malformed Lambda response: {exc}")
            self._message(500, "Internal Server Error", request_id)
            return
        self._send(status, headers, response_body, request_id)

    def __getattr__(self, name: str) -> Any:
        # http.server looks up ``do_<METHOD>``: every method, known or not, is answered by _handle.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_PATCH = _handle
    do_DELETE = _handle
    do_HEAD = _handle
    do_OPTIONS = _handle
