"""What a chaos run needs to see inside the local stack, without reaching into ``hookline``.

- ``CrashLog``: one JSON line per invocation whose worker died (SIGKILL, crash, or killed for outliving
  the function's timeout) while it held SQS records, with those records' message ids, receive counts and
  bodies. A duplicate delivery can then be traced to a kill: Lambda re-delivers such records, so their
  second delivery is expected at-least-once behaviour, not a bug.
- ``ControlServer``: a small HTTP server on 127.0.0.1 (its URL is ``control_url`` in the state file):
  ``GET /workers`` lists each function's live worker processes (pid, number, busy, request id), so a
  chaos driver can SIGKILL one mid-invocation; ``GET /crashes`` returns the crash log's entries.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from local_stack.background_server import BackgroundServer
from local_stack.runtime import Invocation

WorkerStates = Callable[[], dict[str, list[dict[str, Any]]]]


class CrashLog:
    """Append-only JSON lines (the file is emptied when the stack starts); also kept in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("", encoding="utf-8")

    def record(
        self, function: str, source: str, records: list[dict[str, Any]], invocation: Invocation
    ) -> None:
        error = invocation.error or {}
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "function": function,
            "event_source": source,
            "worker_pid": invocation.worker_pid,
            "request_id": invocation.request_id,
            "error_type": error.get("errorType"),
            "records": [
                {
                    "messageId": record.get("messageId"),
                    "approximateReceiveCount": record.get("attributes", {}).get("ApproximateReceiveCount"),
                    "body": record.get("body"),
                }
                for record in records
            ],
        }
        with self._lock:
            self._entries.append(entry)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)


class ControlServer(BackgroundServer):
    def __init__(self, host: str, port: int, workers: WorkerStates, crashes: CrashLog) -> None:
        handler = type("ControlHandler", (_Handler,), {"workers": staticmethod(workers), "crashes": crashes})
        super().__init__(host, port, handler, "control")


class _Handler(BaseHTTPRequestHandler):
    workers: WorkerStates
    crashes: CrashLog
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        if self.path == "/workers":
            self._json(200, {"functions": self.workers()})
        elif self.path == "/crashes":
            self._json(200, {"crashes": self.crashes.entries()})
        else:
            self._json(404, {"error": {"code": "not_found", "message": "GET /workers or /crashes"}})

    def _json(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
