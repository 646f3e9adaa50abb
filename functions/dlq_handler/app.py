"""SQS (dead-letter queue) -> deliveries marked failed, kept for redrive, counted, one alert per endpoint."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline.batch_response import sqs_batch_processor
from hookline.core.config import dead_letter_settings
from hookline.dead_letters.container import dead_letter_handler
from hookline.observability import logger, metrics

dead_letter_settings()  # fail the cold start, not the first batch, when configuration is missing
processor = sqs_batch_processor()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dead_letter_handler().handle(event, context, processor)
