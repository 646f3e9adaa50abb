"""The log lines AWS writes around the functions' own output, sized as AWS writes them.

What a deployment pays CloudWatch Logs for is every byte the functions print (measured: ``bench.lambda_stack``
captures their stdout, stderr and logging output) plus the lines below, which no handler prints:

- Lambda's platform lines per invocation, by the function's ``LoggingConfig`` (template.yaml):
  - ``LogFormat: Text`` (Lambda's default), as the Lambda developer guide shows them::

        START RequestId: 8f5e... Version: $LATEST
        END RequestId: 8f5e...
        REPORT RequestId: 8f5e...\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\t
        Max Memory Used: 96 MB\t   (one line: the last field follows the tab)

  - ``LogFormat: JSON``: the ``platform.start`` and ``platform.report`` records (system level INFO), and
    none of them once ``SystemLogLevel`` is ``WARN`` (Lambda "only sends system logs at the selected level
    of detail and lower").
- API Gateway's access log line, one per HTTP API request, in the template's own ``AccessLogSettings``
  ``Format``, its ``$context`` variables filled with values of their real length.

Cold starts' ``INIT_START`` / ``Init Duration`` lines are left out: they come once per container, not per
event. The request id is a UUID (36 characters), as Lambda's are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

REQUEST_ID = "8f5e2a34-9b1c-4d7e-a0f3-2c6b8d9e1f47"  # Lambda request ids are UUIDs: 36 characters
TIMESTAMP = "2026-12-06T20:48:02.123Z"
MAX_MEMORY_USED_MB = 96  # what a warm Hookline container reports (a guess; 2 or 3 digits either way)
_CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


@dataclass(frozen=True)
class LambdaLogging:
    """A function's ``LoggingConfig``, with Lambda's defaults for what is not set."""

    log_format: str = "Text"
    application_level: str | None = None  # None: every line (no filter)
    system_level: str = "INFO"

    @classmethod
    def of(cls, properties: dict[str, Any], globals_: dict[str, Any] | None = None) -> LambdaLogging:
        config = {**((globals_ or {}).get("LoggingConfig") or {}), **(properties.get("LoggingConfig") or {})}
        log_format = str(config.get("LogFormat", "Text"))
        if log_format != "JSON":  # the levels apply to the JSON format only
            return cls()
        return cls(
            "JSON", config.get("ApplicationLogLevel", "INFO"), str(config.get("SystemLogLevel", "INFO"))
        )


def platform_lines(logging: LambdaLogging, duration_ms: float, billed_ms: int, memory_mb: int) -> list[str]:
    """Lambda's own lines for one invocation, as CloudWatch Logs ingests them (one event per line)."""
    if logging.log_format == "JSON":
        if logging.system_level == "WARN":
            return []
        start = {
            "time": TIMESTAMP,
            "type": "platform.start",
            "record": {"requestId": REQUEST_ID, "version": "$LATEST"},
        }
        report = {
            "time": TIMESTAMP,
            "type": "platform.report",
            "record": {
                "requestId": REQUEST_ID,
                "metrics": {
                    "durationMs": round(duration_ms, 3),
                    "billedDurationMs": billed_ms,
                    "memorySizeMB": memory_mb,
                    "maxMemoryUsedMB": MAX_MEMORY_USED_MB,
                },
                "status": "success",
            },
        }
        return [json.dumps(start, separators=(",", ":")), json.dumps(report, separators=(",", ":"))]
    return [
        f"START RequestId: {REQUEST_ID} Version: $LATEST\n",
        f"END RequestId: {REQUEST_ID}\n",
        f"REPORT RequestId: {REQUEST_ID}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed_ms} ms\t"
        f"Memory Size: {memory_mb} MB\tMax Memory Used: {MAX_MEMORY_USED_MB} MB\t\n",
    ]


def platform_bytes(logging: LambdaLogging, duration_ms: float, billed_ms: int, memory_mb: int) -> int:
    return sum(len(line.encode()) for line in platform_lines(logging, duration_ms, billed_ms, memory_mb))


def access_log_line(
    log_format: str, method: str, path: str, status: int, latency_ms: int, response_bytes: int
) -> str:
    """The template's access log ``Format`` for one request, every ``$context`` variable given a value
    of its real length (unknown ones and empty ones as API Gateway writes them: ``-``)."""
    values = {
        "requestId": "JTHoQgr2oAMEPMg=",  # HTTP API request ids are 16 characters
        "identity.sourceIp": "203.0.113.41",
        "requestTime": "06/Dec/2026:20:48:02 +0000",
        "httpMethod": method,
        "path": path,
        "routeKey": "ANY /v1/{proxy+}",
        "status": str(status),
        "protocol": "HTTP/1.1",
        "responseLatency": str(latency_ms),
        "integrationLatency": str(max(0, latency_ms - 2)),
        "responseLength": str(response_bytes),
        "integrationErrorMessage": "-",
    }
    return _CONTEXT_VARIABLE.sub(lambda match: values.get(match.group(1), "-"), log_format.strip())


def access_log_bytes(log_format: str, method: str, path: str, status: int, latency_ms: int, body: int) -> int:
    return len(access_log_line(log_format, method, path, status, latency_ms, body).encode())
