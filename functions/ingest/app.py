"""API Gateway (HTTP API) -> the v1 API. Everything it does lives in the hookline layer."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline.api import routes
from hookline.core.config import ingest_settings, portal_settings
from hookline.observability import logger

ingest_settings()  # fail the cold start, not the first request, when configuration is missing
portal_settings()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return routes.handle(event, context)
