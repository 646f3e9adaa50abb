"""Partial batch responses through powertools' BatchProcessor.

Dispatch and the DLQ handler work on a whole batch at once (one read, concurrent sends, one write,
alerts grouped per endpoint), so they decide each record's fate first. BatchProcessor then turns those
decisions into ``batchItemFailures``, the one format Lambda's SQS event source understands.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline.core.errors import RecordNotSettled


def sqs_batch_processor() -> BatchProcessor:
    # A batch whose every record failed is still an ordinary answer here: raising would add nothing
    # (Lambda retries the same records) but an error in the function's metrics.
    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def report_failures(
    event: dict[str, Any],
    context: LambdaContext,
    processor: BatchProcessor,
    failed_message_ids: Collection[str],
) -> dict[str, Any]:
    def settle(record: SQSRecord) -> None:
        if record.message_id in failed_message_ids:
            raise RecordNotSettled(f"message {record.message_id} goes back to its queue")

    response = process_partial_response(
        event=event, record_handler=settle, processor=processor, context=context
    )
    return dict(response)
