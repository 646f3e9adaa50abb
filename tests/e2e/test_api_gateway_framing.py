"""The local API Gateway at the byte level: unknown methods, oversized headers and malformed framing get
API Gateway's JSON errors, a stalled client gets a 408, and nothing hangs.

Most cases run against an ``ApiGatewayServer`` of their own (a stub function, a one-second read
timeout); the last few go through the whole local stack.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from local_stack.apigw import MAX_HEADER_BYTES, ApiGatewayServer
from local_stack.background_server import LISTEN_BACKLOG
from local_stack.runtime import Invocation
from tests.e2e.conftest import Target

# A test fails rather than hangs if the gateway never answers.
CLIENT_TIMEOUT = 5.0


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _echo(event: dict[str, Any]) -> Invocation:
    answer = {"method": event["requestContext"]["http"]["method"], "body": event.get("body", "")}
    return Invocation("req", True, payload={"statusCode": 200, "body": json.dumps(answer)})


@pytest.fixture(scope="module")
def gateway() -> Iterator[ApiGatewayServer]:
    server = ApiGatewayServer("127.0.0.1", 0, [("ANY /v1/{proxy+}", _echo)], "123456789012", print, 1.0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)


def _read_response(sock: socket.socket) -> RawResponse:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise AssertionError(f"the connection closed before a full answer: {data!r}")
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return RawResponse(int(status_line.split(" ")[1]), headers, body[:length])


def _exchange(port: int, raw: bytes) -> RawResponse:
    with _connect(port) as sock:
        sock.sendall(raw)
        return _read_response(sock)


def _assert_gateway_error(response: RawResponse, status: int, message: str) -> None:
    assert response.status == status, response
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": message}
    assert response.headers.get("connection") == "close"


@pytest.mark.parametrize("method", ["FOO", "TRACE", "CONNECT", "PROPFIND"])
def test_a_method_api_gateway_does_not_route_gets_its_404(gateway: ApiGatewayServer, method: str) -> None:
    response = _exchange(gateway.port, f"{method} /v1/x HTTP/1.1\r\nHost: a\r\n\r\n".encode())

    _assert_gateway_error(response, 404, "Not Found")


def test_headers_over_the_http_api_quota_get_431(gateway: ApiGatewayServer) -> None:
    big = "x" * MAX_HEADER_BYTES
    response = _exchange(gateway.port, f"GET /v1/x HTTP/1.1\r\nHost: a\r\nX-Big: {big}\r\n\r\n".encode())

    _assert_gateway_error(response, 431, "Request Header Fields Too Large")


def test_too_many_headers_get_431(gateway: ApiGatewayServer) -> None:
    headers = "".join(f"X-{number}: 1\r\n" for number in range(150))
    response = _exchange(gateway.port, f"GET /v1/x HTTP/1.1\r\nHost: a\r\n{headers}\r\n".encode())

    _assert_gateway_error(response, 431, "Request Header Fields Too Large")


def test_a_request_line_over_64_kib_gets_414(gateway: ApiGatewayServer) -> None:
    response = _exchange(gateway.port, b"GET /v1/" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")

    _assert_gateway_error(response, 414, "URI Too Long")


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /v1/x\r\n\r\n",  # HTTP/0.9
        b"GET /v1/x HTTP/2.0\r\n\r\n",
        b"GET /v1/x HTTP/1.1 extra\r\n\r\n",
        b"POST /v1/x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST /v1/x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST /v1/x HTTP/1.1\r\nContent-Length: +2\r\n\r\nab",
        b"POST /v1/x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nab",
        b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n",
    ],
    ids=[
        "bad-request-line",
        "http-0.9",
        "http-2-in-plain-text",
        "four-word-request-line",
        "non-numeric-length",
        "negative-length",
        "signed-length",
        "conflicting-lengths",
        "unknown-transfer-encoding",
        "chunked-and-length",
        "bad-chunk-size",
        "chunk-longer-than-its-size",
    ],
)
def test_malformed_framing_gets_400(gateway: ApiGatewayServer, raw: bytes) -> None:
    _assert_gateway_error(_exchange(gateway.port, raw), 400, "Bad Request")


def test_a_body_that_stops_short_gets_408_after_the_read_timeout(gateway: ApiGatewayServer) -> None:
    response = _exchange(gateway.port, b"POST /v1/x HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly this")

    _assert_gateway_error(response, 408, "Request Timeout")


def test_headers_that_stop_short_get_408(gateway: ApiGatewayServer) -> None:
    response = _exchange(gateway.port, b"GET /v1/x HTTP/1.1\r\nHost: a\r\nX-Half")

    _assert_gateway_error(response, 408, "Request Timeout")


def test_an_idle_keep_alive_connection_is_closed(gateway: ApiGatewayServer) -> None:
    with _connect(gateway.port) as sock:
        sock.sendall(b"GET /v1/x HTTP/1.1\r\nHost: a\r\n\r\n")
        assert _read_response(sock).status == 200
        assert sock.recv(1) == b""  # closed by the gateway within its read timeout, not by ours


def test_a_header_dripped_a_byte_at_a_time_gets_408_at_the_head_deadline() -> None:
    # Each byte comes well within the read timeout: only a deadline for the whole head stops it.
    server = ApiGatewayServer(
        "127.0.0.1", 0, [("ANY /v1/{proxy+}", _echo)], "1", print, 5.0, head_deadline=1.0
    )
    server.start()
    try:
        with _connect(server.port) as sock:
            sock.sendall(b"GET /v1/x HTTP/1.1\r\nHost: a\r\n")
            dripped = 0
            # Pace the drip by waiting for an answer: at most 100 bytes, 0.2 s apart (20 s in all).
            while dripped < 100 and not select.select([sock], [], [], 0.2)[0]:
                sock.sendall(b"X" if dripped % 10 else b"X-Slow: ")
                dripped += 1
            response = _read_response(sock)
    finally:
        server.stop()
    assert dripped < 100, "the gateway waited for the dripping header without end"
    _assert_gateway_error(response, 408, "Request Timeout")


def test_a_burst_of_simultaneous_connections_is_queued_and_answered(gateway: ApiGatewayServer) -> None:
    assert LISTEN_BACKLOG >= 128
    sockets = [_connect(gateway.port) for _ in range(100)]  # all connected before any is served
    try:

        def ask(sock: socket.socket) -> int:
            sock.sendall(b"GET /v1/burst HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            return _read_response(sock).status

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(ask, sockets))
    finally:
        for sock in sockets:
            sock.close()
    assert statuses == [200] * 100


def test_a_chunked_body_with_trailers_reaches_the_function_whole(gateway: ApiGatewayServer) -> None:
    raw = (
        b"POST /v1/x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: gzip, chunked\r\n\r\n"
    )
    # "gzip, chunked" is well framed (the last coding is chunked); the function gets the bytes as sent.
    raw += b'3;ext=1\r\n{"a\r\n4\r\n":1}\r\n0\r\nX-Trailer: y\r\n\r\n'

    response = _exchange(gateway.port, raw)

    assert response.status == 200
    assert response.json() == {"method": "POST", "body": '{"a":1}'}


def test_after_all_that_the_gateway_still_answers(gateway: ApiGatewayServer) -> None:
    response = _exchange(gateway.port, b"GET /v1/ok HTTP/1.1\r\nHost: a\r\n\r\n")

    assert response.status == 200
    assert response.json()["method"] == "GET"


# ------------------------------------------------------------------------- through the local stack


def _stack_port(target: Target) -> int:
    if not target.local:
        pytest.skip("the local API Gateway only")
    return int(target.api_url.rsplit(":", 1)[1])


def test_the_local_stack_answers_an_unknown_method_with_json(target: Target) -> None:
    response = _exchange(_stack_port(target), b"BREW /v1/tenants HTTP/1.1\r\nHost: a\r\n\r\n")

    _assert_gateway_error(response, 404, "Not Found")


def test_the_local_stack_answers_oversized_headers_with_json(target: Target) -> None:
    raw = f"GET /v1/tenants/x HTTP/1.1\r\nHost: a\r\nCookie: {'c' * 12_000}\r\n\r\n".encode()

    _assert_gateway_error(_exchange(_stack_port(target), raw), 431, "Request Header Fields Too Large")


def test_the_local_stack_answers_malformed_framing_with_json(target: Target) -> None:
    raw = b"POST /v1/tenants/x/events HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n"

    _assert_gateway_error(_exchange(_stack_port(target), raw), 400, "Bad Request")
