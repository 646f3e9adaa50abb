"""Declared routes, their dispatch, and the one place where errors meet HTTP.

A route is declared once with ``route(...)``: its method and path, who may call it (``Access``), its body
model, query parameters and response models. The same declaration serves requests (authenticate,
authorize, bind the body, call the handler, serialise its view) and the OpenAPI document (``api.openapi``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hookline.api import binding, container
from hookline.api.auth import ADMIN, Access, Principal, authorize
from hookline.api.binding import QueryParam
from hookline.api.http import JSON, HttpRequest, HttpResponse
from hookline.api.models import RequestModel
from hookline.core.errors import ApiError, HooklineError, UnauthorizedError
from hookline.observability import logger

TENANT = "/v1/tenants/{tenant_id}"
ENDPOINT = TENANT + "/endpoints/{endpoint_id}"
EVENT = TENANT + "/events/{event_id}"


@dataclass(frozen=True, slots=True)
class Request:
    principal: Principal
    params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: RequestModel | None

    @property
    def tenant_id(self) -> str:
        return self.params["tenant_id"]

    @property
    def cursor(self) -> str | None:
        return self.query.get("cursor")

    def body_as[M: RequestModel](self, model: type[M]) -> M:
        assert isinstance(self.body, model), "the route declares this body model"
        return self.body

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


View = Mapping[str, object]  # a response body: one of the TypedDicts in ``api.views``


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer when the route's default status does not fit (201 or 200, say)."""

    status: int
    view: View | None


Result = View | Reply | HttpResponse | None
Handler = Callable[[Request], Result]


@dataclass(frozen=True, slots=True)
class RouteSpec:
    method: str
    path: str  # OpenAPI style: /v1/tenants/{tenant_id}
    summary: str
    tag: str
    access: Access
    responses: Mapping[int, Any]  # status -> a TypedDict of ``api.views``, or None (no body)
    body: type[RequestModel] | None = None
    body_optional: bool = False
    query: tuple[QueryParam, ...] = ()
    errors: tuple[int, ...] = ()  # route-specific error statuses, for the document
    description: str = ""
    operation_id: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # OpenAPI fields for routes that are not JSON

    @property
    def status(self) -> int:
        return min(self.responses)


ROUTES: list[RouteSpec] = []
_DISPATCH: list[tuple[str, re.Pattern[str], Callable[[HttpRequest, dict[str, str]], HttpResponse]]] = []


def route(
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    access: Access,
    responses: Mapping[int, Any],
    body: type[RequestModel] | None = None,
    body_optional: bool = False,
    query: tuple[QueryParam, ...] = (),
    errors: tuple[int, ...] = (),
    extra: Mapping[str, Any] | None = None,
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        spec = RouteSpec(
            method=method,
            path=path,
            summary=summary,
            tag=tag,
            access=access,
            responses=responses,
            body=body,
            body_optional=body_optional,
            query=query,
            errors=errors,
            description=(handler.__doc__ or "").strip(),
            operation_id=handler.__name__,
            extra=extra or {},
        )

        def serve(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
            return _serve(spec, handler, request, params)

        pattern = re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)))
        _DISPATCH.append((method, pattern, serve))
        ROUTES.append(spec)
        return handler

    return register


def _serve(spec: RouteSpec, handler: Handler, event: HttpRequest, params: Mapping[str, str]) -> HttpResponse:
    try:
        headers = event.headers
        principal = ADMIN if spec.access.public else container.authenticator().authenticate(headers)
        tenant_id = params.get("tenant_id")
        authorize(principal, spec.access, tenant_id)
        if tenant_id is not None:
            binding.tenant_id(tenant_id)
        body = None
        if not spec.access.public:
            settings = container.settings()
            raw = binding.raw_body(event.body, event.is_base64, settings.max_payload_bytes)
            if spec.body is not None:
                data = binding.json_object(raw, optional=spec.body_optional)
                body = binding.validate(spec.body, data, {"target_policy": settings.target_policy})
        result = handler(Request(principal, params, event.query, headers, body))
    except Exception as exc:  # noqa: BLE001 - every error becomes a JSON answer, here and nowhere else
        return error_response(exc)
    if isinstance(result, HttpResponse):
        return result
    if isinstance(result, Reply):
        return json_response(result.status, result.view)
    return json_response(spec.status, result)


def json_response(status: int, view: View | None) -> HttpResponse:
    if view is None:
        return HttpResponse(status)
    return HttpResponse(status, json.dumps(view, ensure_ascii=False, separators=(",", ":")), JSON)


# --- errors, in one place -------------------------------------------------------------------------------


def error_body(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)
    return HttpResponse(status, body, JSON, headers or {})


def error_response(exc: BaseException) -> HttpResponse:
    """An API error is its own answer; a retryable fault (AWS) is a 503 to retry; anything else is a bug."""
    if isinstance(exc, ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, UnauthorizedError) else {}
        if exc.retry_after_seconds is not None:
            headers["Retry-After"] = str(exc.retry_after_seconds)
        return error_body(exc.status, exc.code, exc.message, headers)
    if isinstance(exc, HooklineError) and exc.retryable:
        logger.warning("a backing service failed", extra={"reason": str(exc), "error": type(exc).__name__})
        return error_body(
            503, "service_unavailable", "a backing service failed; retry the request", {"Retry-After": "1"}
        )
    logger.exception("unhandled error", exc_info=exc)
    return error_body(500, "internal_error", "an unexpected error occurred")


def _route_not_found(request: HttpRequest) -> HttpResponse:
    # Callers without a valid key learn nothing about which routes exist: 401 comes before 404.
    try:
        container.authenticator().authenticate(request.headers)
    except Exception as failure:  # noqa: BLE001 - mapped like any route's error
        return error_response(failure)
    return error_body(404, "not_found", "no such route; see /v1/docs")


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Route one HTTP API request (payload format 2.0) to its handler; the answer as Lambda returns it."""
    request = HttpRequest.from_event(event)
    for method, pattern, serve in _DISPATCH:
        if method == request.method:
            matched = pattern.fullmatch(request.path)
            if matched is not None:
                return serve(request, matched.groupdict()).to_event()
    return _route_not_found(request).to_event()
