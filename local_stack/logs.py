"""Readable operation logs from the functions' own log streams.

The functions log structured JSON (Powertools Logger) to stdout, as on Lambda. The local stack reads each
worker's stdout and stderr and shows:

- one aligned line per delivery attempt, from dispatch's ``{"message": "delivery attempt", "event_id",
  "endpoint_id", "attempt", "status_code", "error_kind", "latency_ms", "outcome", "next_retry_in_s"}``;
- one line per alert, from dlq_handler's ``{"message": "alert published", "tenant_id", "endpoint_id",
  "deliveries"}``;
- errors (records at ERROR or above, and anything on stderr such as an unhandled exception);
- with ``verbose``, everything else too (other records, metrics, START/REPORT lines).
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime
from typing import Any, TextIO

ATTEMPT_MESSAGE = "delivery attempt"
ALERT_MESSAGE = "alert published"
_ERROR_LEVELS = {"ERROR", "CRITICAL", "FATAL"}


def _clock() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]


def _fmt_latency(value: Any) -> str:
    if isinstance(value, int | float):
        return f"{value:.0f} ms"
    return "-"


class LogRenderer:
    def __init__(self, out: TextIO | None = None, *, verbose: bool = False, quiet: bool = False) -> None:
        self._out = out or sys.stdout
        self.verbose = verbose
        self.quiet = quiet
        self._lock = threading.Lock()
        self._widths: dict[str, int] = {}

    # ---------------------------------------------------------------- output

    def emit(self, text: str) -> None:
        with self._lock:
            self._out.write(text + "\n")
            self._out.flush()

    def info(self, text: str) -> None:
        """A message of the local stack itself."""
        if not self.quiet:
            self.emit(f"{_clock()} {'stack':<9} {text}")

    def warn(self, text: str) -> None:
        self.emit(f"{_clock()} {'WARNING':<9} {text}")

    # ---------------------------------------------------------------- function logs

    def sink(self, label: str, stream: str, line: str) -> None:
        """Receives every line a worker writes (see ``runtime.LogSink``)."""
        if stream == "runtime":
            if self.verbose:
                self.emit(f"{_clock()} {label:<9} {line}")
            return
        record = _parse(line)
        if record is None:
            if stream == "stderr" or self.verbose:
                self.emit(f"{_clock()} {label:<9} {line}")
            return
        message = record.get("message")
        if message == ATTEMPT_MESSAGE:
            if not self.quiet:
                self.emit(self.render_attempt(record))
            return
        if message == ALERT_MESSAGE:
            self.emit(self.render_alert(record))
            return
        level = str(record.get("level", "")).upper()
        if level in _ERROR_LEVELS or self.verbose:
            self.emit(f"{_clock()} {label:<9} {_render_record(record)}")

    def _pad(self, column: str, value: str) -> str:
        width = max(self._widths.get(column, 0), len(value))
        self._widths[column] = width
        return value.ljust(width)

    def render_attempt(self, record: dict[str, Any]) -> str:
        status = record.get("status_code")
        error_kind = record.get("error_kind")
        if status is not None and error_kind not in {None, "http_status"}:
            result = f"{status} {error_kind}"
        elif status is not None:
            result = f"HTTP {status}"
        else:
            result = str(error_kind or "-")
        outcome = _describe_outcome(record.get("outcome"), record.get("next_retry_in_s"))
        with self._lock:
            return " ".join(
                [
                    _clock(),
                    f"{'attempt':<9}",
                    self._pad("event", str(record.get("event_id", "?"))),
                    "->",
                    self._pad("endpoint", str(record.get("endpoint_id", "?"))),
                    f"#{record.get('attempt', '?')!s:<3}",
                    f"{result:<16}",
                    f"{_fmt_latency(record.get('latency_ms')):>8}",
                    f" {outcome}",
                ]
            ).rstrip()

    def render_alert(self, record: dict[str, Any]) -> str:
        kind = str(record.get("type") or "deliveries.dead_lettered")
        text = f"{_clock()} {'ALERT':<9} {kind} tenant {record.get('tenant_id', '?')}"
        if record.get("endpoint_id"):
            text += f" endpoint {record['endpoint_id']}"
        deliveries = record.get("deliveries")
        if isinstance(deliveries, list):
            deliveries = len(deliveries)
        if isinstance(deliveries, int) and deliveries > 0:
            text += f": {deliveries} dead-lettered {'delivery' if deliveries == 1 else 'deliveries'}"
        return text + " (published to the alerts topic)"


def _describe_outcome(outcome: Any, next_retry: Any) -> str:
    """dispatch's outcome ("succeeded", "retry", "gone") with what happens next."""
    if outcome == "succeeded":
        return "succeeded"
    if outcome == "gone":
        return "410 Gone: endpoint disabled"
    if outcome == "retry":
        if next_retry is None:
            return "failed: no attempt left, dead-lettered"
        return f"failed: retry in {next_retry} s"
    text = str(outcome or "")
    return f"{text}, next retry in {next_retry} s" if next_retry is not None else text


def _parse(line: str) -> dict[str, Any] | None:
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _render_record(record: dict[str, Any]) -> str:
    if "_aws" in record:  # an EMF metrics document: show the metric values
        metrics = {
            key: value
            for key, value in record.items()
            if key != "_aws"
            and (_is_number(value) or (isinstance(value, list) and all(map(_is_number, value))))
        }
        return "metrics " + json.dumps(metrics, separators=(",", ":"))
    skip = {
        "level", "message", "timestamp", "service", "location", "cold_start", "function_name",
        "function_memory_size", "function_arn", "function_request_id", "xray_trace_id", "sampling_rate",
    }  # fmt: skip
    extra = {key: value for key, value in record.items() if key not in skip}
    text = f"{record.get('level', 'INFO')} {record.get('message')}"
    if extra:
        text += " " + json.dumps(extra, separators=(",", ":"), default=str)
    return text
