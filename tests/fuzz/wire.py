"""A deliberately naive HTTP/1.1 client: it sends exactly the bytes it is given (header names and values
with CR, LF or UTF-8 in them, any body), one request per connection, and reads the answer strictly.
``requests`` and ``http.client`` refuse to send much of what a fuzzer must."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any

READ_TIMEOUT = 35.0  # above the ingest function's 10 s timeout and the gateway's 10 s read timeout


@dataclass(frozen=True)
class FuzzRequest:
    method: str
    target: str  # path and query, already encoded as they go on the wire
    headers: tuple[tuple[str, bytes], ...] = ()
    body: bytes | None = None
    route: str = ""  # the route template it aims at, for grouping
    kind: str = ""  # structured / mutated / raw / special
    must_refuse: str = ""  # non-empty: a known-bad input that must get a 4xx; says why
    # Batch items that must each get a 4xx of their own when the batch is answered 207: (index, why).
    refuse_items: tuple[tuple[int, str], ...] = ()

    def wire(self, host: str) -> bytes:
        # The framing headers come first: a fuzzed header that ends the header block early must not
        # take them with it.
        lines = [
            f"{self.method} {self.target} HTTP/1.1".encode("latin-1", "replace"),
            b"Host: " + host.encode(),
            b"Connection: close",
        ]
        if self.body is not None:
            lines.append(b"Content-Length: " + str(len(self.body)).encode())
        lines += [name.encode("latin-1", "replace") + b": " + value for name, value in self.headers]
        return b"\r\n".join(lines) + b"\r\n\r\n" + (self.body or b"")

    def describe(self, limit: int = 300) -> str:
        body = (self.body or b"")[:limit]
        headers = {name: value[:80] for name, value in self.headers if name.lower() != "authorization"}
        return f"{self.method} {self.target[:limit]} headers={headers} body={body!r}"


@dataclass
class FuzzResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""  # no answer at all: the connection closed, reset or timed out

    def json(self) -> Any:
        return json.loads(self.body)


def send(host: str, port: int, request: FuzzRequest) -> FuzzResponse:
    try:
        with socket.create_connection((host, port), timeout=READ_TIMEOUT) as sock:
            sock.sendall(request.wire(f"{host}:{port}"))
            # Nothing more is coming: a server still waiting for bytes (its framing read differently
            # from ours) sees the end at once instead of after its read timeout.
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                piece = sock.recv(65536)
                if not piece:
                    break
                data += piece
    except OSError as exc:
        return FuzzResponse(0, error=f"{type(exc).__name__}: {exc}")
    return parse(data)


def parse(data: bytes) -> FuzzResponse:
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return FuzzResponse(0, error=f"no complete answer ({len(data)} bytes)")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return FuzzResponse(0, error=f"bad status line {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length")
    if length is not None and length.isdigit():
        body = body[: int(length)]
    return FuzzResponse(int(parts[1]), headers, body)
