"""Real webhook receivers for tests: threaded HTTP(S) servers on 127.0.0.1 that record every request.

    def responder(request: RecordedRequest) -> Reply:          # or a (status, headers, body[, delay]) tuple
        return Reply(500, {"Retry-After": "7"}, b"busy")

    with Receiver(responder) as receiver:                       # Receiver() answers 200 with an empty body
        post_somewhere(receiver.url + "/hook")
        [request] = receiver.wait_for_requests(1)
        request.method, request.path, request.headers["webhook-id"], request.body, request.received_at

The server speaks HTTP/1.1 with keep-alive, so client connection pooling is observable: ``connections``
counts accepted TCP connections and each ``RecordedRequest.connection`` says which one carried it.
A reply body may be an iterable of byte strings, sent chunked piece by piece as the iterable yields them:
enough for endless or dripping responses. ``delay`` waits before answering. ``receiver.responder`` may be
replaced at any time (handy when the answer needs another receiver's URL). Pass ``ssl_context`` (a
server-side context) for HTTPS. Stopping the receiver cuts open connections and wakes delayed handlers.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast

from requests.structures import CaseInsensitiveDict


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # as sent, query string included
    headers: Mapping[str, str]  # case-insensitive lookups, original spelling when iterated
    body: bytes
    received_at: float  # time.time() once the whole request had arrived
    connection: int  # 1-based number of the TCP connection that carried it


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""  # an iterable is sent with chunked transfer encoding
    delay: float = 0.0  # seconds to wait before answering


ReplyLike = Reply | tuple[int, Mapping[str, str], bytes] | tuple[int, Mapping[str, str], bytes, float]
Responder = Callable[[RecordedRequest], ReplyLike]


def reply(
    status: int = 200, body: bytes = b"", headers: Mapping[str, str] | None = None, delay: float = 0.0
) -> Responder:
    """A responder that always gives the same answer."""
    fixed = Reply(status, dict(headers or {}), body, delay)
    return lambda request: fixed


def _as_reply(answer: ReplyLike) -> Reply:
    if isinstance(answer, Reply):
        return answer
    if len(answer) == 3:
        status, headers, body = answer
        return Reply(status, headers, body)
    status, headers, body, delay = answer
    return Reply(status, headers, body, delay)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: Receiver, ssl_context: ssl.SSLContext | None) -> None:
        self.owner = owner
        self.ssl_context = ssl_context
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.ssl_context is not None:
            # The handshake runs in the handler's thread, so a failing client cannot stall accept().
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def process_request(self, request: Any, client_address: Any) -> None:
        self.owner._accepted(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-answer is routine in these tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooling is visible
    disable_nagle_algorithm = True  # small replies would otherwise wait ~40 ms for a delayed ACK
    timeout = 30  # an idle keep-alive connection does not hold a thread forever

    @property
    def owner(self) -> Receiver:
        return cast(_Server, self.server).owner

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        body = self._read_body()
        recorded = RecordedRequest(
            method=self.command,
            path=self.path,
            headers=CaseInsensitiveDict(list(self.headers.items())),
            body=body,
            received_at=time.time(),
            connection=self.owner._connection_number(self.connection),
        )
        self.owner._record(recorded)
        answer = _as_reply(self.owner.responder(recorded))
        if answer.delay and self.owner._stopping.wait(answer.delay):
            self.close_connection = True
            return
        try:
            self._write(answer)
        except OSError:  # the client gave up (timeout, closed early): nothing left to answer
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _write(self, answer: Reply) -> None:
        self.send_response(answer.status)
        names = {name.lower() for name in answer.headers}
        for name, value in answer.headers.items():
            self.send_header(name, value)
        streamed = not isinstance(answer.body, bytes | bytearray)
        if "content-length" not in names and "transfer-encoding" not in names:
            if streamed:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(cast(bytes, answer.body))))
        self.end_headers()
        if self.command == "HEAD":
            return
        if not streamed:
            self.wfile.write(cast(bytes, answer.body))
            return
        chunked = "content-length" not in names
        for piece in cast(Iterable[bytes], answer.body):
            if self.owner._stopping.is_set():
                self.close_connection = True
                return
            if piece:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class Receiver:
    """A threaded HTTP(S) server on 127.0.0.1 that records requests and answers through ``responder``."""

    def __init__(
        self, responder: Responder | None = None, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.responder: Responder = responder or reply()
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._sockets: dict[int, socket.socket] = {}  # id(socket) -> socket, for numbering and shutdown
        self._numbers: dict[int, int] = {}
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = _Server(self, self._ssl_context)
        # A short poll interval keeps stop() (which waits for the serve loop to notice) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            open_sockets = list(self._sockets.values())
        for sock in open_sockets:  # wake handlers blocked on idle keep-alive connections
            with contextlib.suppress(OSError):  # already gone
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what tests look at ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:54321``."""
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request recorded so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """How many TCP connections the server has accepted."""
        with self._lock:
            return len(self._numbers)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests arrived; raise TimeoutError otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._requests) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} requests within {timeout}s, got {len(self._requests)}")
            return list(self._requests)

    # -- called from server threads -------------------------------------------------------------------

    def _accepted(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets[id(sock)] = sock
            self._numbers[id(sock)] = len(self._numbers) + 1

    def _connection_number(self, sock: socket.socket) -> int:
        with self._lock:
            return self._numbers.get(id(sock), 0)

    def _record(self, request: RecordedRequest) -> None:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()
