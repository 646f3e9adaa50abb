"""Reading an HTTP/1.1 request body strictly, as a front door such as API Gateway must.

Request smuggling and hung connections start with lenient framing, so anything ambiguous is refused:
several different ``Content-Length`` values, one that is not plain digits, a ``Transfer-Encoding`` whose
last coding is not ``chunked``, both headers at once, a malformed chunk, or a body that ends early. And the
request head is read under a deadline (``DeadlineReader``), so trickling bytes cannot hold a connection.
"""

from __future__ import annotations

import io
import re
import socket
import time
from email.message import Message
from io import BufferedIOBase
from typing import Any

_DIGITS = re.compile(r"[0-9]+")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_LINE_ENDS = frozenset({b"\r\n", b"\n"})
_MAX_TRAILER_LINE = 8192


class MalformedFraming(ValueError):
    """The request's framing is ambiguous or broken: answer 400 and close the connection."""


def read_body(stream: BufferedIOBase, headers: Message, limit: int) -> bytes | None:
    """The body, or None when it is over ``limit`` bytes (the rest is left unread: close the connection).

    Raises ``MalformedFraming``; a client that stops sending raises the socket's ``TimeoutError``.
    """
    lengths = [value.strip() for value in headers.get_all("content-length") or []]
    codings = ",".join(headers.get_all("transfer-encoding") or [])
    if codings:
        if lengths:
            raise MalformedFraming("both Transfer-Encoding and Content-Length")
        if codings.split(",")[-1].strip().lower() != "chunked":
            raise MalformedFraming(f"unsupported Transfer-Encoding {codings!r}")
        return _read_chunked(stream, limit)
    if not lengths:
        return b""
    if len(set(lengths)) != 1 or not _DIGITS.fullmatch(lengths[0]):
        raise MalformedFraming(f"bad Content-Length {lengths!r}")
    significant = lengths[0].lstrip("0") or "0"
    if len(significant) > len(str(limit)):  # more digits than the limit has: over it (and int() is spared)
        return None
    length = int(significant)
    if length > limit:
        return None
    return _read_exactly(stream, length)


def _read_chunked(stream: BufferedIOBase, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_field = stream.readline(1024).split(b";")[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_field):
            raise MalformedFraming(f"bad chunk size {size_field[:20]!r}")
        size = int(size_field, 16)
        if size == 0:
            while (line := stream.readline(_MAX_TRAILER_LINE)) not in _LINE_ENDS:
                if not line or not line.endswith(b"\n"):
                    raise MalformedFraming("the trailers end early or are too long")
            return b"".join(chunks)
        total += size
        if total > limit:
            return None
        chunks.append(_read_exactly(stream, size))
        if stream.readline(3) not in _LINE_ENDS:
            raise MalformedFraming("a chunk is longer than its size")


def _read_exactly(stream: BufferedIOBase, length: int) -> bytes:
    data = stream.read(length) if length else b""
    if len(data) != length:
        raise MalformedFraming("the body ends before its length")
    return data


class DeadlineReader(io.RawIOBase):
    """The connection's bytes. Each read waits at most the read timeout, and while ``deadline`` (monotonic)
    is set, no longer than what is left of it: a client trickling bytes cannot stretch the wait."""

    def __init__(self, connection: socket.socket, timeout: float) -> None:
        self._connection = connection
        self._timeout = timeout
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        timeout = self._timeout
        if self.deadline is not None:
            timeout = min(timeout, self.deadline - time.monotonic())
            if timeout <= 0:
                raise TimeoutError("the request head did not arrive in time")
        self._connection.settimeout(timeout)
        return self._connection.recv_into(buffer)
