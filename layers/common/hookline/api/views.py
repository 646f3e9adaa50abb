"""JSON shapes of the v1 API. The endpoint view never includes signing secrets."""

from __future__ import annotations

import json
from typing import Any

from hookline.models import Attempt, DeadLetterRecord, Delivery, DeliveryStatus, Endpoint, Event, Tenant


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.tenant_id,
        "name": tenant.name,
        "created_at": tenant.created_at,
        "updated_at": tenant.updated_at,
    }


def endpoint_view(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.endpoint_id,
        "tenant_id": endpoint.tenant_id,
        "url": endpoint.url,
        "event_types": None if endpoint.event_types is None else list(endpoint.event_types),
        "filter": endpoint.filter,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "headers": endpoint.headers,
        "rate_limit": endpoint.rate_limit,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def accepted_event_view(event: Event) -> dict[str, Any]:
    return {"id": event.event_id, "type": event.event_type, "timestamp": event.timestamp}


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    return {
        "endpoint_id": delivery.endpoint_id,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "last_attempt_at": delivery.last_attempt_at,
        "last_status_code": delivery.last_status_code,
        "last_error_kind": delivery.last_error_kind,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at,
    }


def event_view(event: Event, deliveries: list[Delivery]) -> dict[str, Any]:
    """The event with one status per endpoint: matched endpoints without a record yet are pending."""
    by_endpoint = {delivery.endpoint_id: delivery for delivery in deliveries}
    ordered = list(event.endpoint_ids or ())
    matched = set(ordered)
    ordered += sorted(endpoint_id for endpoint_id in by_endpoint if endpoint_id not in matched)
    views = []
    for endpoint_id in ordered:
        delivery = by_endpoint.get(endpoint_id)
        if delivery is None:
            delivery = Delivery(
                event.tenant_id, event.event_id, endpoint_id, event.event_type, DeliveryStatus.PENDING, 0
            )
        views.append(delivery_view(delivery))
    return {
        "id": event.event_id,
        "type": event.event_type,
        "timestamp": event.timestamp,
        "data": json.loads(event.body)["data"],
        "fanout": "done" if event.endpoint_ids is not None else "pending",
        "deliveries": views,
    }


def attempt_view(attempt: Attempt) -> dict[str, Any]:
    result = attempt.result
    return {
        "event_id": attempt.event_id,
        "endpoint_id": attempt.endpoint_id,
        "attempt": attempt.attempt,
        "attempted_at": attempt.attempted_at,
        "outcome": result.outcome.value,
        "status_code": result.status_code,
        "latency_ms": result.latency_ms,
        "error_kind": result.error_kind,
        "error_message": result.error_message,
        "response_excerpt": result.response_excerpt,
    }


def page_view(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"data": items, "next_cursor": next_cursor, "has_more": next_cursor is not None}


def dead_letter_view(record: DeadLetterRecord) -> dict[str, Any]:
    return {
        "tenant_id": record.tenant_id,
        "event_id": record.event_id,
        "endpoint_id": record.endpoint_id,
        "dead_lettered_at": record.dead_lettered_at,
    }
