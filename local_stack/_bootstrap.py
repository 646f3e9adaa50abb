"""The Lambda runtime inside one local-stack worker process (a warm "container").

This file runs as a script (``python -u -P _bootstrap.py <handler> <control-fd>``), never as part of the
``local_stack`` package: the worker's ``sys.path`` holds only what Lambda's would (the function's code
directory and its layers, from ``PYTHONPATH``, plus the interpreter's own packages), and its environment
holds only the function's variables. So it uses the standard library only.

Protocol with the parent (one JSON document per line):
- parent -> worker on stdin: ``{"request_id", "deadline_ms", "invoked_function_arn", "event"}``;
- worker -> parent on the control fd: ``{"type": "ready", "init_ms"}`` once the handler is imported (or
  ``{"type": "init_error", ...}`` and exit), then one ``{"type": "result", "request_id", "payload"}`` or
  ``{"type": "error", "request_id", "error": {"errorType", "errorMessage", "stackTrace"}}`` per request.
stdout and stderr are the function's log stream, as on Lambda. EOF on stdin ends the worker.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import signal
import sys
import time
import traceback
from typing import Any, BinaryIO


class LambdaContext:
    """The attributes and methods of the Python runtime's context object (awslambdaric's LambdaContext)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # The real runtime passes the environment variable through as a string.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: str) -> None:
        sys.stdout.write(message)
        sys.stdout.flush()

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},function_name={self.function_name},"
            f"remaining_time_in_millis={self.get_remaining_time_in_millis()}])"
        )


def _default(value: Any) -> Any:
    # awslambdaric serialises Decimal (what DynamoDB returns) as a number.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorType": error_type or type(exc).__name__,
        "errorMessage": str(exc),
        # Like Lambda's, the trace starts in the function's code, not in the runtime.
        "stackTrace": traceback.format_list(
            [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename != __file__]
        ),
    }


def _log_error(error: dict[str, Any], request_id: str | None) -> None:
    # The Python runtime logs an unhandled error as one record: "[ERROR] Type: message" plus the trace.
    prefix = f"[ERROR] {error['errorType']}: {error['errorMessage']}"
    if request_id:
        prefix = f"{prefix} (RequestId: {request_id})"
    sys.stderr.write(prefix + "\nTraceback (most recent call last):\n" + "".join(error["stackTrace"]))
    sys.stderr.flush()


class _Control:
    def __init__(self, fd: int) -> None:
        self._out: BinaryIO = os.fdopen(fd, "wb", buffering=0)

    def send(self, message: dict[str, Any]) -> None:
        # Logs written before the answer must reach the parent first.
        sys.stdout.flush()
        sys.stderr.flush()
        self._out.write(json.dumps(message, default=_default).encode() + b"\n")


def _load_handler(spec: str) -> Any:
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler {spec!r}: expected module.function")
    module = importlib.import_module(module_name.replace("/", "."))
    handler = getattr(module, function_name, None)
    if handler is None:
        raise AttributeError(f"Handler {function_name!r} missing on module {module_name!r}")
    return handler


def main() -> int:
    handler_spec, control_fd = sys.argv[1], int(sys.argv[2])
    # Ctrl-C reaches the whole process group; the parent decides when workers stop (EOF on stdin).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = _Control(control_fd)

    started = time.perf_counter()
    try:
        handler = _load_handler(handler_spec)
    except Exception as exc:  # noqa: BLE001 - any init failure is reported as Lambda reports it
        missing = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.HandlerNotFound"
        error_type = missing
        error = _error(exc, error_type)
        error["errorMessage"] = f"Unable to import module {handler_spec!r}: {exc}"
        _log_error(error, None)
        control.send({"type": "init_error", "error": error})
        return 1
    control.send({"type": "ready", "init_ms": round((time.perf_counter() - started) * 1000, 2)})

    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            # The parent is done with this worker: exit at once, like a Lambda environment being shut
            # down (no interpreter teardown).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        request = json.loads(line)
        request_id = request["request_id"]
        context = LambdaContext(request_id, int(request["deadline_ms"]), request["invoked_function_arn"])
        try:
            payload = handler(request["event"], context)
        except Exception as exc:  # noqa: BLE001 - an unhandled error is the invocation's result
            error = _error(exc)
            _log_error(error, request_id)
            control.send({"type": "error", "request_id": request_id, "error": error})
            continue
        try:
            control.send({"type": "result", "request_id": request_id, "payload": payload})
        except (TypeError, ValueError) as exc:
            error = _error(exc, "Runtime.MarshalError")
            error["errorMessage"] = f"Unable to marshal response: {exc}"
            _log_error(error, request_id)
            control.send({"type": "error", "request_id": request_id, "error": error})


if __name__ == "__main__":
    sys.exit(main())
