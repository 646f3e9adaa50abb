"""A lean webhook receiver for benchmarks, run in its own process on 127.0.0.1.

It answers every POST with ``--status`` (200) and an empty body (HTTP/1.1 keep-alive), after ``--delay``
seconds. With ``--fail-first-fraction F`` it is a flaky endpoint: that fraction of the deliveries it sees
(a delivery is a ``webhook-id`` at a path; spread evenly, in arrival order) get a 500 on their first
attempt and ``--status`` on every later one.
Running it in a separate process keeps its CPU out of the measured process's GIL, so the numbers reflect the
client side only. ``GET /__stats`` answers with JSON counters (requests, signed requests, TCP connections)
so a run can check that every delivery really arrived, and on how many connections (``delivered``
counts deliveries that got a 2xx at least once, ``failed`` the answers that were not 2xx, ``bytes`` the
request lines, headers and bodies received).

    with ReceiverProcess(delay=0.1) as receiver:
        post(receiver.url + "/hook")
        receiver.stats()  # {"posts": 1, "signed": 0, "connections": 1, "delivered": 1, "failed": 0}
        receiver.reset()

Standalone: ``python -m bench.receiver [--delay SECONDS] [--status CODE] [--fail-first-fraction F]``
prints the port on its first line and serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast

from local_stack.process import stop_at_eof


class _Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts = 0
        self.signed = 0
        self.connections = 0
        self.failed = 0
        self.bytes = 0  # request lines, headers and bodies received: what the sender sent out
        self.seen: set[tuple[str, str]] = set()  # (path, webhook-id): deliveries seen
        self.succeeded: set[tuple[str, str]] = set()

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {
                "posts": self.posts,
                "signed": self.signed,
                "connections": self.connections,
                "delivered": len(self.succeeded),
                "failed": self.failed,
                "bytes": self.bytes,
            }

    def reset(self) -> None:
        with self.lock:
            self.posts = self.signed = self.connections = self.failed = self.bytes = 0
            self.seen.clear()
            self.succeeded.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, delay: float, status: int, fail_first_fraction: float = 0.0) -> None:
        self.delay = delay
        self.status = status
        self.fail_first_fraction = fail_first_fraction
        self.counters = _Counters()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client closing an idle keep-alive connection is routine


class _Handler(BaseHTTPRequestHandler):
    """One instance per TCP connection (it serves every keep-alive request on it)."""

    protocol_version = "HTTP/1.1"
    timeout = 60
    _carried_post = False

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server = self._server
        counters = server.counters
        delivery = (self.path, self.headers.get("webhook-id", ""))
        size = len(self.requestline.encode()) + 2 + len(self.headers.as_bytes()) + len(body)
        with counters.lock:
            counters.posts += 1
            counters.bytes += size
            if not self._carried_post:
                self._carried_post = True
                counters.connections += 1  # connections that carried at least one webhook
            if self.headers.get("webhook-signature", "").startswith("v1,"):
                counters.signed += 1
            status = server.status
            if delivery not in counters.seen:
                number = len(counters.seen)  # fail the deliveries where the running share crosses a step
                counters.seen.add(delivery)
                fraction = server.fail_first_fraction
                if int((number + 1) * fraction) > int(number * fraction):
                    status = 500
            if 200 <= status < 300:
                counters.succeeded.add(delivery)
            else:
                counters.failed += 1
        if server.delay:
            time.sleep(server.delay)
        self.send_response_only(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path == "/__stats":
            body = json.dumps(self._server.counters.snapshot()).encode()
        elif self.path == "/__reset":
            self._server.counters.reset()
            body = b"{}"
        else:
            body = b""
        self.send_response_only(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(delay: float, status: int, fail_first_fraction: float = 0.0) -> None:
    server = _Server(delay, status, fail_first_fraction)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin (or exits)
    server.shutdown()


class ReceiverProcess:
    """The receiver in a child process: started on enter, stopped on exit."""

    def __init__(self, delay: float = 0.0, status: int = 200, fail_first_fraction: float = 0.0) -> None:
        self.delay = delay
        self.status = status
        self.fail_first_fraction = fail_first_fraction
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "bench.receiver",
                "--delay",
                str(self.delay),
                "--status",
                str(self.status),
                "--fail-first-fraction",
                str(self.fail_first_fraction),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.isdigit():
            self._stop()
            raise RuntimeError(f"the bench receiver did not start (said {line!r})")
        self.port = int(line)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        stop_at_eof(process)
        if process.stdout is not None:
            process.stdout.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _get(self, path: str) -> dict[str, int]:
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return cast(dict[str, int], json.loads(response.read()))

    def stats(self) -> dict[str, int]:
        return self._get("/__stats")

    def reset(self) -> None:
        self._get("/__reset")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    parser.add_argument("--status", type=int, default=200, help="the status code of every answer")
    parser.add_argument(
        "--fail-first-fraction",
        type=float,
        default=0.0,
        help="share of deliveries whose first attempt gets a 500 (0 to 1)",
    )
    args = parser.parse_args()
    serve(args.delay, args.status, args.fail_first_fraction)


if __name__ == "__main__":
    main()
