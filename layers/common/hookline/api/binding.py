"""From an HTTP request to typed values: bodies (size, encoding, strict JSON, the declared model), query
parameters and path ids. Every failure is an ``ApiError`` whose message names the field at fault, never a
pydantic class, document URL or traceback.

Why not powertools' ``enable_validation``: it pulls its whole OpenAPI machinery into every cold start, parses
bodies with ``json.loads`` (NaN, lone surrogates and deep nesting would reach the models), and answers
validation failures with its own 422 shape. This module binds the same pydantic models in a few lines, with
the API's own error body; ``api.openapi`` builds the document from the same declarations.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from hookline.api.models import RequestModel, check_event_type
from hookline.core import clock, ids, jsonsafe
from hookline.core.errors import InvalidRequestError, NamedValueError, NotFoundError, PayloadTooLargeError
from hookline.core.models import DeliveryStatus
from hookline.core.numbers import parse_whole

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 250
_SHOWN_ERRORS = 3


# --- bodies ---------------------------------------------------------------------------------------------


def raw_body(body: str | None, is_base64: bool, max_bytes: int) -> bytes:
    """The request body's bytes; 413 above ``max_bytes`` (checked before anything is decoded)."""
    text = body or ""
    too_large = PayloadTooLargeError(f"the request body is larger than the {max_bytes}-byte limit")
    if not is_base64:
        if len(text) > max_bytes:  # a character is at least one byte: no need to encode to know
            raise too_large
        raw = text.encode("utf-8", errors="surrogatepass")
    else:
        if len(text) > (max_bytes + 2) // 3 * 4 + 4:
            raise too_large
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequestError("the request body is marked base64 but is not valid base64") from None
    if len(raw) > max_bytes:
        raise too_large
    return raw


def json_object(raw: bytes, optional: bool = False) -> dict[str, Any]:
    """A strict-JSON object (``core.jsonsafe``); an empty body is ``{}`` where the body is optional."""
    if not raw.strip():
        if optional:
            return {}
        raise InvalidRequestError("the request body must be a JSON object")
    value = jsonsafe.parse(raw)
    if not isinstance(value, dict):
        raise InvalidRequestError("the request body must be a JSON object")
    return value


def validate[M: RequestModel](
    model: type[M], data: Any, context: Mapping[str, Any] | None = None, path: str = ""
) -> M:
    """``data`` as ``model``, or a 400 naming each field at fault (``path`` prefixes the names)."""
    try:
        return model.model_validate(data, strict=True, context=dict(context or {}))
    except ValidationError as exc:
        raise InvalidRequestError(describe_errors(exc, path)) from None


def describe_errors(exc: ValidationError, path: str = "") -> str:
    errors = exc.errors(include_url=False, include_context=True, include_input=False)
    messages = [_describe(error, path) for error in errors[:_SHOWN_ERRORS]]
    if len(errors) > _SHOWN_ERRORS:
        messages.append(f"and {len(errors) - _SHOWN_ERRORS} more")
    return "; ".join(messages)


def _describe(error: Any, path: str) -> str:
    location = list(error.get("loc") or ())
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, NamedValueError):
        # The message names its own field (``filter.data.x: ...``): prefix only the enclosing path.
        return _join(path, _location(location[:-1]), str(cause))
    message = str(error.get("msg") or "is not valid")
    kind = error.get("type")
    message = _FRIENDLY.get(kind, message)
    context = error.get("ctx") or {}
    if kind == "too_long":  # pydantic says "at most 4 items after validation", which reads as a riddle
        message = f"must have at most {context.get('max_length')} items"
    elif kind == "too_short":
        message = f"must have at least {context.get('min_length')} item(s)"
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    message = message.replace("Input should be", "must be").replace("Input should have", "must have")
    where = _location(location)
    prefix = _join(path, where)
    return f"{prefix}: {message}" if prefix else f"request body: {message}"


_FRIENDLY = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "list_type": "must be an array",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "enum": "is not one of the allowed values",
}


def _location(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            text += f".{part}" if text else str(part)
    return text


def _join(*parts: str) -> str:
    text = ""
    for part in parts:
        if not part:
            continue
        if not text:
            text = part
        elif part.startswith("["):
            text += part
        else:
            text += "." + part
    return text


# --- query parameters -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueryParam:
    """A query parameter, as the OpenAPI document describes it."""

    name: str
    schema: dict[str, Any]
    description: str = ""


LIMIT = QueryParam(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
    "Items per page.",
)
CURSOR = QueryParam("cursor", {"type": "string", "minLength": 1}, "The `next_cursor` of the previous page.")
PAGING = (LIMIT, CURSOR)


def page_size(query: Mapping[str, str]) -> int:
    raw = query.get("limit")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    size = parse_whole(raw)
    if size is None or not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidRequestError(f"limit: must be an integer from 1 to {MAX_PAGE_SIZE}")
    return size


def csv_values(query: Mapping[str, str], name: str) -> list[str]:
    """Values given as ``a,b`` or as a repeated parameter (API Gateway joins repeats with commas)."""
    raw = query.get(name)
    return [part.strip() for part in raw.split(",") if part.strip()] if raw else []


def iso_param(query: Mapping[str, str], name: str) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return clock.parse_iso(raw).timestamp()
    except (ValueError, OverflowError):
        raise InvalidRequestError(f"{name}: must be an ISO-8601 time, like 2026-11-27T08:00:00Z") from None


def delivery_status(query: Mapping[str, str], allowed: Sequence[DeliveryStatus]) -> DeliveryStatus | None:
    raw = query.get("status")
    if raw is None:
        return None
    for status in allowed:
        if raw == status.value:
            return status
    raise InvalidRequestError(f"status: must be one of {', '.join(s.value for s in allowed)}")


# --- path ids -------------------------------------------------------------------------------------------


def tenant_id(value: str) -> str:
    if not ids.is_valid_tenant_id(value):
        raise InvalidRequestError(
            "tenant_id: must be 1-128 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"
        )
    return value


def endpoint_id(value: str) -> str:
    if not ids.ENDPOINT_ID_PATTERN.fullmatch(value):
        raise NotFoundError(f"endpoint {value!r} does not exist")
    return value


def event_id(value: str) -> str:
    if not ids.is_event_id(value):
        raise NotFoundError(f"event {value!r} does not exist")
    return value


def key_id(value: str) -> str:
    if not ids.KEY_ID_PATTERN.fullmatch(value):
        raise NotFoundError(f"API key {value!r} does not exist")
    return value


def event_type_name(value: str) -> str:
    try:
        return check_event_type(value)
    except ValueError as exc:
        raise InvalidRequestError(f"name: {exc}") from None
