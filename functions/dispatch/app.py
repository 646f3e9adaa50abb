"""SQS (delivery queue) -> fan-out and signed HTTP deliveries, with partial batch failures."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline.batch_response import sqs_batch_processor
from hookline.core.config import dispatch_settings
from hookline.delivery.container import dispatcher
from hookline.observability import logger, metrics

dispatch_settings()  # fail the cold start, not the first batch, when configuration is missing
processor = sqs_batch_processor()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatcher().handle(event, context, processor)
