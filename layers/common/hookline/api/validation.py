"""Request validation: JSON bodies and query strings into typed values, or a clear 400.

Unknown fields are refused rather than ignored, so a typo ("event_type" for "event_types") is an error the
caller sees instead of a setting that silently does nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookline import clock, ids
from hookline.config import TargetPolicy
from hookline.errors import InvalidRequestError
from hookline.filters import validate_filter
from hookline.matching import is_valid_event_type, is_valid_event_type_pattern
from hookline.signing import SECRET_PREFIX, secret_key
from hookline.ssrf import validate_endpoint_url

MAX_EVENT_TYPES = 100
MAX_HEADERS = 20
MAX_HEADER_VALUE = 1024
MAX_DESCRIPTION = 1024
MAX_NAME = 256
MAX_RATE_LIMIT = 10_000
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 250
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~\-]{1,128}$")
# Headers that belong to the webhook itself or to HTTP framing; an endpoint may not override them.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "user-agent",
        "host",
        "transfer-encoding",
        "connection",
        "authorization",
    }
)
_UNSET: Any = object()


def parse_json_object(body: str | None) -> dict[str, Any]:
    if not body:
        raise InvalidRequestError("the request body must be a JSON object")
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise InvalidRequestError(f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidRequestError("the request body must be a JSON object")
    return value


def _refuse_unknown(payload: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise InvalidRequestError(
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def tenant_id(value: str) -> str:
    if not ids.is_valid_tenant_id(value):
        raise InvalidRequestError(
            "tenant_id must be 1-128 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"
        )
    return value


def tenant_name(payload: Mapping[str, Any]) -> str:
    _refuse_unknown(payload, frozenset({"name"}))
    name = payload.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidRequestError(f"name is required: a non-empty string of at most {MAX_NAME} characters")
    return name


@dataclass(frozen=True, slots=True)
class EventInput:
    event_type: str
    data: dict[str, Any]


def event_input(payload: Mapping[str, Any]) -> EventInput:
    _refuse_unknown(payload, frozenset({"type", "data"}))
    event_type = payload.get("type")
    if not isinstance(event_type, str) or not is_valid_event_type(event_type):
        raise InvalidRequestError(
            "type is required: dot-separated words of letters, digits, '_' or '-', such as 'order.created'"
        )
    data = payload.get("data")
    if not isinstance(data, dict):
        raise InvalidRequestError("data is required and must be a JSON object")
    return EventInput(event_type, data)


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    """Fields of an endpoint create or patch; ``None`` attributes were not given (except where noted)."""

    url: str | None = None
    event_types: tuple[str, ...] | None = None
    event_types_given: bool = False  # event_types: null means "every type", so presence is tracked apart
    filter: dict[str, Any] | None = None
    filter_given: bool = False
    description: str | None = None
    enabled: bool | None = None
    headers: dict[str, str] | None = None
    rate_limit: int | None = None
    rate_limit_given: bool = False
    secret: str | None = None


_ENDPOINT_FIELDS = frozenset(
    {"url", "event_types", "filter", "description", "enabled", "headers", "rate_limit", "secret"}
)


def endpoint_changes(payload: Mapping[str, Any], policy: TargetPolicy, creating: bool) -> EndpointChanges:
    allowed = _ENDPOINT_FIELDS if creating else _ENDPOINT_FIELDS - {"secret"}
    _refuse_unknown(payload, allowed)
    if creating and "url" not in payload:
        raise InvalidRequestError("url is required")
    url = payload.get("url", _UNSET)
    if url is not _UNSET:
        if not isinstance(url, str):
            raise InvalidRequestError("url must be a string")
        url = validate_endpoint_url(url, policy)
    else:
        url = None

    event_types = _event_types(payload["event_types"]) if "event_types" in payload else None
    filter_value = _filter(payload["filter"]) if "filter" in payload else None

    description = payload.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise InvalidRequestError(f"description must be a string of at most {MAX_DESCRIPTION} characters")

    enabled = payload.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidRequestError("enabled must be true or false")

    headers = _headers(payload["headers"]) if payload.get("headers") is not None else None

    rate_limit = payload.get("rate_limit")
    if rate_limit is not None and (
        isinstance(rate_limit, bool)
        or not isinstance(rate_limit, int)
        or not 1 <= rate_limit <= MAX_RATE_LIMIT
    ):
        raise InvalidRequestError(
            f"rate_limit must be a whole number of deliveries per second, 1 to {MAX_RATE_LIMIT}"
        )

    secret = payload.get("secret")
    if secret is not None:
        secret = _secret(secret)

    return EndpointChanges(
        url=url,
        event_types=event_types,
        event_types_given="event_types" in payload,
        filter=filter_value,
        filter_given="filter" in payload,
        description=description,
        enabled=enabled,
        headers=headers,
        rate_limit=rate_limit,
        rate_limit_given="rate_limit" in payload,
        secret=secret,
    )


def _event_types(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or len(value) > MAX_EVENT_TYPES
        or not all(isinstance(item, str) and is_valid_event_type_pattern(item) for item in value)
    ):
        raise InvalidRequestError(
            f"event_types must be null (every type) or a list of 1 to {MAX_EVENT_TYPES} event types, "
            "each exact ('order.created') or a prefix wildcard ('order.*')"
        )
    return tuple(dict.fromkeys(value))


def _filter(value: Any) -> dict[str, Any] | None:
    return None if value is None else validate_filter(value)


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_HEADERS:
        raise InvalidRequestError(f"headers must be an object of at most {MAX_HEADERS} string headers")
    headers: dict[str, str] = {}
    for name, header_value in value.items():
        lowered = name.lower() if isinstance(name, str) else ""
        if not _HEADER_NAME.match(lowered):
            raise InvalidRequestError(f"header name {name!r} is not a valid HTTP header name")
        if lowered in RESERVED_HEADERS or lowered.startswith("webhook-"):
            raise InvalidRequestError(f"header {name!r} is set by Hookline and cannot be overridden")
        if (
            not isinstance(header_value, str)
            or len(header_value) > MAX_HEADER_VALUE
            or any(ch in header_value for ch in "\r\n\0")
        ):
            raise InvalidRequestError(
                f"header {name!r} needs a single-line string value of at most {MAX_HEADER_VALUE}"
            )
        headers[lowered] = header_value
    return headers


def _secret(value: Any) -> str:
    try:
        if not isinstance(value, str) or not value.startswith(SECRET_PREFIX):
            raise ValueError
        key = secret_key(value)
    except ValueError as exc:
        raise InvalidRequestError("secret must be 'whsec_' followed by the base64 of 24 to 64 bytes") from exc
    if not 24 <= len(key) <= 64:
        raise InvalidRequestError("secret must be 'whsec_' followed by the base64 of 24 to 64 bytes")
    return value


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    cursor: str | None


def page_request(query: Mapping[str, str] | None) -> PageRequest:
    query = query or {}
    raw_limit = query.get("limit", str(DEFAULT_PAGE_SIZE))
    try:
        limit = int(raw_limit)
    except ValueError as exc:
        raise InvalidRequestError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}") from exc
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequestError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return PageRequest(limit, query.get("cursor") or None)


def rotation_secret(payload: Mapping[str, Any]) -> str | None:
    _refuse_unknown(payload, frozenset({"secret"}))
    secret = payload.get("secret")
    return None if secret is None else _secret(secret)


def optional_endpoint_id(payload: Mapping[str, Any]) -> str | None:
    _refuse_unknown(payload, frozenset({"endpoint_id"}))
    endpoint_id = payload.get("endpoint_id")
    if endpoint_id is not None and (not isinstance(endpoint_id, str) or not endpoint_id):
        raise InvalidRequestError("endpoint_id must be an endpoint id string")
    return endpoint_id


def recover_since(payload: Mapping[str, Any]) -> str:
    """``since`` as the canonical UTC form the delivery log sorts by. Recovery reaches back at most as
    far as the log does, so the delivery-log retention bounds it."""
    _refuse_unknown(payload, frozenset({"since"}))
    since = payload.get("since")
    if not isinstance(since, str):
        raise InvalidRequestError("since is required: an ISO-8601 time such as 2026-11-27T08:00:00Z")
    try:
        parsed = clock.parse_iso(since)
    except ValueError as exc:
        raise InvalidRequestError(f"since is not an ISO-8601 time: {since!r}") from exc
    if parsed.timestamp() > clock.unix_now() + 60:
        raise InvalidRequestError("since is in the future")
    return clock.iso_from_unix(parsed.timestamp())
