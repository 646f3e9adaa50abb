"""The v1 HTTP API on API Gateway's HTTP API (payload format 2.0), routed by powertools.

Every request is authenticated by a middleware; every error becomes ``{"error": {"code", "message"}}``
in ``error_response``, the one place where domain errors meet HTTP statuses.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookline import aws, clock
from hookline.api import views
from hookline.api.auth import ApiKeyVerifier
from hookline.api.validation import parse_json_object
from hookline.config import ingest_settings
from hookline.errors import (
    ApiError,
    DependencyError,
    PayloadTooLargeError,
    UnauthorizedError,
)
from hookline.ingest import IngestService
from hookline.observability import logger
from hookline.queue import JobQueue
from hookline.store import Store

app = APIGatewayHttpResolver()


@cache
def service() -> IngestService:
    settings = ingest_settings()
    return IngestService(
        settings=settings,
        store=Store(settings.table_name, aws.dynamodb()),
        queue=JobQueue(settings.delivery_queue_url, aws.sqs()),
        idempotency_store=DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table_name, boto3_client=aws.dynamodb()
        ),
    )


@cache
def verifier() -> ApiKeyVerifier:
    secret_arn = ingest_settings().admin_api_key_secret_arn

    def load_admin_key() -> str:
        try:
            return aws.secretsmanager().get_secret_value(SecretId=secret_arn)["SecretString"]
        except Exception as exc:
            raise DependencyError(f"could not read the admin API key: {type(exc).__name__}") from exc

    return ApiKeyVerifier(load_admin_key)


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


# --- errors, in one place ----------------------------------------------------------------------------


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": {"code": code, "message": message}}),
        headers=headers,
    )


def _api_error(exc: ApiError) -> Response[str]:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, UnauthorizedError) else None
    return error_response(exc.status, exc.code, exc.message, headers)


def _dependency_error(exc: DependencyError) -> Response[str]:
    logger.warning("dependency failed", extra={"reason": str(exc)})
    return error_response(
        503, "service_unavailable", "a backing service failed; retry the request", {"Retry-After": "1"}
    )


def _unexpected_error(exc: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return error_response(500, "internal_error", "an unexpected error occurred")


def _route_not_found(exc: Exception) -> Response[str]:
    # Unauthenticated callers learn nothing about which routes exist: 401 comes before 404.
    try:
        verifier().verify(app.current_event.headers or {})
    except UnauthorizedError as unauthorized:
        return _api_error(unauthorized)
    except DependencyError as failed:
        return _dependency_error(failed)
    return error_response(404, "not_found", "no such route")


# Registered by call rather than as decorators: powertools' decorators are untyped.
app.exception_handler(ApiError)(_api_error)
app.exception_handler(DependencyError)(_dependency_error)
app.exception_handler(Exception)(_unexpected_error)
app.not_found(_route_not_found)


# --- middleware --------------------------------------------------------------------------------------


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


def authenticate_and_limit(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    verifier().verify(app.current_event.headers or {})
    limit = service().settings.max_payload_bytes
    if len(_raw_body()) > limit:
        raise PayloadTooLargeError(f"the request body is larger than the {limit}-byte limit")
    return next_middleware(app)


app.use(middlewares=[authenticate_and_limit])


def _json_body() -> dict[str, Any]:
    return parse_json_object(_raw_body().decode("utf-8", errors="strict") if app.current_event.body else None)


def _optional_json_body() -> dict[str, Any] | None:
    return _json_body() if (app.current_event.body or "").strip() else None


def _query() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


def _json(status: int, body: Any) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def _no_content() -> Response[str]:
    return Response(status_code=204, body="")


# --- routes ------------------------------------------------------------------------------------------

TENANT = "/v1/tenants/<tenant_id>"
ENDPOINT = TENANT + "/endpoints/<endpoint_id>"
EVENT = TENANT + "/events/<event_id>"


@app.put(TENANT)
def put_tenant(tenant_id: str) -> Response[str]:
    tenant, created = service().put_tenant(tenant_id, _json_body())
    return _json(201 if created else 200, views.tenant_view(tenant))


@app.get(TENANT)
def get_tenant(tenant_id: str) -> Response[str]:
    return _json(200, views.tenant_view(service().get_tenant(tenant_id)))


@app.delete(TENANT)
def delete_tenant(tenant_id: str) -> Response[str]:
    service().delete_tenant(tenant_id)
    return _no_content()


@app.post(TENANT + "/endpoints")
def create_endpoint(tenant_id: str) -> Response[str]:
    return _json(201, views.endpoint_view(service().create_endpoint(tenant_id, _json_body())))


@app.get(TENANT + "/endpoints")
def list_endpoints(tenant_id: str) -> Response[str]:
    page = service().list_endpoints(tenant_id, _query())
    return _json(200, views.page_view([views.endpoint_view(e) for e in page.items], page.next_cursor))


@app.get(ENDPOINT)
def get_endpoint(tenant_id: str, endpoint_id: str) -> Response[str]:
    return _json(200, views.endpoint_view(service().get_endpoint(tenant_id, endpoint_id)))


@app.patch(ENDPOINT)
def update_endpoint(tenant_id: str, endpoint_id: str) -> Response[str]:
    return _json(200, views.endpoint_view(service().update_endpoint(tenant_id, endpoint_id, _json_body())))


@app.delete(ENDPOINT)
def delete_endpoint(tenant_id: str, endpoint_id: str) -> Response[str]:
    service().delete_endpoint(tenant_id, endpoint_id)
    return _no_content()


@app.get(ENDPOINT + "/secret")
def get_endpoint_secret(tenant_id: str, endpoint_id: str) -> Response[str]:
    return _json(200, {"secret": service().endpoint_secret(tenant_id, endpoint_id)})


@app.post(ENDPOINT + "/secret/rotate")
def rotate_endpoint_secret(tenant_id: str, endpoint_id: str) -> Response[str]:
    secret, previous_expires_at = service().rotate_secret(tenant_id, endpoint_id, _optional_json_body())
    return _json(
        200, {"secret": secret, "previous_secret_expires_at": clock.iso_from_unix(previous_expires_at)}
    )


@app.get(ENDPOINT + "/attempts")
def list_endpoint_attempts(tenant_id: str, endpoint_id: str) -> Response[str]:
    page = service().list_endpoint_attempts(tenant_id, endpoint_id, _query())
    return _json(200, views.page_view([views.attempt_view(a) for a in page.items], page.next_cursor))


@app.post(ENDPOINT + "/recover")
def recover_endpoint(tenant_id: str, endpoint_id: str) -> Response[str]:
    since = service().recover_endpoint(tenant_id, endpoint_id, _json_body())
    return _json(202, {"endpoint_id": endpoint_id, "since": since, "status": "queued"})


@app.post(TENANT + "/events")
def post_event(tenant_id: str) -> Response[str]:
    idempotency_key = app.current_event.headers.get("idempotency-key")
    accepted = service().accept_event(tenant_id, _json_body(), idempotency_key, app.lambda_context)
    return _json(202, accepted)


@app.get(EVENT)
def get_event(tenant_id: str, event_id: str) -> Response[str]:
    event, deliveries = service().get_event(tenant_id, event_id)
    return _json(200, views.event_view(event, deliveries))


@app.get(EVENT + "/attempts")
def list_event_attempts(tenant_id: str, event_id: str) -> Response[str]:
    page = service().list_event_attempts(tenant_id, event_id, _query())
    return _json(200, views.page_view([views.attempt_view(a) for a in page.items], page.next_cursor))


@app.post(EVENT + "/retry")
def resend_event(tenant_id: str, event_id: str) -> Response[str]:
    endpoint_ids = service().resend_event(tenant_id, event_id, _optional_json_body())
    return _json(202, {"event_id": event_id, "endpoint_ids": endpoint_ids, "status": "queued"})


@app.get("/v1/admin/dead-letters")
def list_dead_letters() -> Response[str]:
    page = service().list_dead_letters(_query())
    return _json(200, views.page_view([views.dead_letter_view(r) for r in page.items], page.next_cursor))


@app.post("/v1/admin/dead-letters/redrive")
def redrive_dead_letters() -> Response[str]:
    service().redrive_dead_letters()
    return _json(202, {"status": "queued"})


__all__ = ["app", "handle", "service", "verifier"]
