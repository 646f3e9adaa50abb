"""The process-wide powertools Logger and Metrics (service name and namespace come from the environment).

Log lines are what an operator pays for by the byte (CloudWatch Logs ingestion, $0.50 per GB), so each line
keeps what tells it apart and drops what the log group and Lambda's own records already say: the function's
name, ARN and memory size (the log group and the REPORT line), cold start (REPORT's Init Duration), the
service name (one per deployment) and the code location (each message names its place).
``docs/cost.md`` has what each log level costs per million events.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

REDUNDANT_KEYS = (
    "function_name",
    "function_arn",
    "function_memory_size",
    "cold_start",
    "service",
    "location",
    "sampling_rate",
)


class CompactFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines without the keys every line of a log group repeats."""

    def serialize(self, log: Any) -> str:
        for key in REDUNDANT_KEYS:
            log.pop(key, None)
        return super().serialize(log)


logger = Logger(logger_formatter=CompactFormatter())
metrics = Metrics()
