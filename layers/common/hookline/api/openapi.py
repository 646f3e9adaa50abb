"""The OpenAPI 3.1 document, built from the route declarations (``api.router``) and the pydantic models they
name, so the document cannot drift from what the API validates and returns. Built once per container, on
the first request for it."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from hookline import __version__
from hookline.api.http import JSON, HttpResponse
from hookline.api.models import REQUEST_MODELS
from hookline.api.router import ROUTES, RouteSpec
from hookline.api.views import BatchAccepted, BatchFailed, ErrorOut

REF = "#/components/schemas/{model}"
DESCRIPTION = """Hookline sends webhooks: register your customers' endpoints, post events, and Hookline
signs (Standard Webhooks), delivers, retries, dead-letters and logs every attempt.

Every route but this description needs `Authorization: Bearer <key>`: the admin key (everything), or a
tenant key limited to its tenant and scopes (`endpoints:read`, `endpoints:write`, `events:read`,
`events:write`, `portal:create`), or a portal session's token (`hkp_...`, from `.../portal-sessions`).
Errors are `{"error": {"code", "message"}}`. Lists are pages of
`{"data", "next_cursor", "has_more"}`; pass `next_cursor` back as `cursor`."""

_ERRORS = {
    400: "invalid_request: the request is malformed; the message names the field",
    401: "unauthorized: no valid API key",
    403: "forbidden: the key lacks the scope, or the route needs the admin key",
    404: "not_found: no such tenant, endpoint, event or key (or another tenant's)",
    409: "conflict: the resource changed meanwhile, or is disabled; idempotency_in_progress: another request "
    "with this Idempotency-Key has not finished, retry after Retry-After seconds",
    413: "payload_too_large: the body is over the size limit",
    422: "unprocessable: understood, but cannot be done as asked",
    500: "internal_error: a bug; the request may be retried",
    503: "service_unavailable: a backing service failed; retry after Retry-After seconds",
}


def _schemas() -> dict[str, Any]:
    """Every request model and response TypedDict as a component schema, named after its class."""
    views: dict[str, Any] = {view.__name__: view for view in (ErrorOut, BatchAccepted, BatchFailed)}
    for spec in ROUTES:
        views.update({view.__name__: view for view in spec.responses.values() if view is not None})
    bodies = tuple(dict.fromkeys([*REQUEST_MODELS, *(spec.body for spec in ROUTES if spec.body is not None)]))
    inputs: list[Any] = [(model, "validation", model.__pydantic_core_schema__) for model in _built(bodies)]
    outputs: list[Any] = [
        (view, "serialization", TypeAdapter(view).core_schema) for _, view in sorted(views.items())
    ]
    _, definitions = GenerateJsonSchema(ref_template=REF).generate_definitions([*inputs, *outputs])
    return {str(name): schema for name, schema in definitions.items()}


def _built(models: tuple[type[BaseModel], ...]) -> tuple[type[BaseModel], ...]:
    for model in models:
        model.model_rebuild()  # deferred until now: build the core schema the document is made from
    return models


def _ref(model: Any) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _error(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": _ERRORS[status],
        "content": {"application/json": {"schema": _ref(ErrorOut)}},
    }
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}}
    if status in {409, 503}:
        answer["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return answer


def _operation(spec: RouteSpec) -> dict[str, Any]:
    path_names = re.findall(r"\{(\w+)\}", spec.path)
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in path_names
    ]
    parameters += [
        {"name": param.name, "in": "query", "required": False, "schema": param.schema}
        | ({"description": param.description} if param.description else {})
        for param in spec.query
    ]
    parameters += spec.extra.get("parameters", [])
    responses: dict[str, Any] = {}
    for status, model in sorted(spec.responses.items()):
        if "response" in spec.extra:
            responses[str(status)] = {"description": spec.summary, **spec.extra["response"]}
        elif model is None:
            responses[str(status)] = {"description": "Done; no content."}
        else:
            responses[str(status)] = {
                "description": spec.summary,
                "content": {"application/json": {"schema": _ref(model)}},
            }
    if not spec.access.public:
        errors = {401, 403, 500, 503, *spec.errors}
        if spec.body is not None or spec.query or "tenant_id" in path_names:
            errors.add(400)
        if spec.body is not None:
            errors.add(413)
        if path_names:
            errors.add(404)
        responses.update({str(status): _error(status) for status in sorted(errors)})
    operation: dict[str, Any] = {
        "operationId": spec.operation_id,
        "summary": spec.summary,
        "tags": [spec.tag],
        "responses": responses,
    }
    if spec.description:
        operation["description"] = spec.description
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {
            "required": not spec.body_optional,
            "content": {"application/json": {"schema": _ref(spec.body)}},
        }
    if spec.access.public:
        operation["security"] = []
    return operation


@cache
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        if spec.extra.get("hidden"):
            continue
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hookline API", "version": __version__, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


@cache
def _document_text() -> str:
    return json.dumps(document(), ensure_ascii=False, separators=(",", ":"))


def response() -> HttpResponse:
    return HttpResponse(200, _document_text(), JSON)
