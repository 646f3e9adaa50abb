"""The v1 API's response bodies, declared once, and how domain records become them.

Responses are TypedDicts: mypy checks every view against its declaration, pydantic turns the same
declarations into the OpenAPI document's schemas (``api.openapi``), and no model is built or validated per
response (nor at import). Signing secrets never appear here except in the two secret routes' own views,
and custom header values are always masked."""

import json
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from pydantic import Field

from hookline.core import clock
from hookline.core.event_types import EventType
from hookline.core.models import (
    ApiKey,
    Attempt,
    AttemptOutcome,
    DeadLetter,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EventRecord,
    FanoutState,
    Tenant,
)

MASK = "****"


# A real whpk_ value (the ed25519 public key of the seed bytes 0..31), so the document's example parses.
EXAMPLE_PUBLIC_KEY = "whpk_A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="


class ErrorDetail(TypedDict):
    code: Annotated[str, Field(examples=["invalid_request"])]
    message: str


class ErrorOut(TypedDict):
    error: ErrorDetail


NextCursor = Annotated[
    str | None, Field(description="Pass as `cursor` for the next page; null on the last page.")
]


# --- tenants and keys -----------------------------------------------------------------------------------


class TenantOut(TypedDict):
    id: str
    name: str
    created_at: str
    updated_at: str


class ApiKeyOut(TypedDict):
    id: Annotated[str, Field(examples=["key_01JDEMO0000000000000000000"])]
    name: str
    scopes: list[str]
    created_at: str
    expires_at: str | None


class ApiKeyCreated(ApiKeyOut):
    key: Annotated[
        str, Field(description="The key itself. Shown in this response only; only its hash is stored.")
    ]


class ApiKeyPage(TypedDict):
    data: list[ApiKeyOut]
    next_cursor: NextCursor
    has_more: bool


def tenant_view(tenant: Tenant) -> TenantOut:
    return TenantOut(
        id=tenant.tenant_id, name=tenant.name, created_at=tenant.created_at, updated_at=tenant.updated_at
    )


def api_key_view(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.key_id,
        name=key.name,
        scopes=[scope.value for scope in key.scopes],
        created_at=key.created_at,
        expires_at=None if key.expires_at is None else clock.iso_from_unix(key.expires_at),
    )


# --- endpoints ------------------------------------------------------------------------------------------


class EndpointOut(TypedDict):
    id: Annotated[str, Field(examples=["ep_01JDEMO0000000000000000000"])]
    tenant_id: str
    url: str
    event_types: list[str] | None
    filter: dict[str, Any] | None
    description: str
    enabled: bool
    disabled_reason: str | None
    headers: Annotated[
        dict[str, str], Field(description="Header names; values are write-only and shown as `****`.")
    ]
    rate_limit: int | None
    max_in_flight: int | None
    signature: Annotated[Literal["v1", "v1a"], Field(description="How deliveries are signed.")]
    created_at: str
    updated_at: str


class EndpointPage(TypedDict):
    data: list[EndpointOut]
    next_cursor: NextCursor
    has_more: bool


class SecretOut(TypedDict):
    secret: Annotated[str, Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])]


class PublicKeyOut(TypedDict):
    """A `v1a` endpoint's verification key: `whpk_` and the base64 of the raw 32-byte ed25519 public key."""

    public_key: Annotated[str, Field(examples=[EXAMPLE_PUBLIC_KEY])]


class RotatedPublicKeyOut(PublicKeyOut):
    previous_key_expires_at: Annotated[
        str, Field(description="Until then the previous key keeps signing too.")
    ]


class SigningKeyOut(TypedDict, total=False):
    """`secret` for a `v1` endpoint; `public_key` (and never the private key) for a `v1a` endpoint."""

    secret: Annotated[str, Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])]
    public_key: Annotated[str, Field(examples=[EXAMPLE_PUBLIC_KEY])]


class RotatedSigningKeyOut(SigningKeyOut, total=False):
    """The new key as `GET .../secret` shows it, and until when the previous one keeps signing too."""

    previous_secret_expires_at: str  # v1
    previous_key_expires_at: str  # v1a


class RotatedSecretOut(SecretOut):
    previous_secret_expires_at: Annotated[
        str, Field(description="Until then the previous secret keeps signing too.")
    ]


class RecoverOut(TypedDict):
    endpoint_id: str
    since: str
    status: Literal["queued"]


class EndpointTestOut(TypedDict):
    id: Annotated[str, Field(examples=["evt_01JDEMO0000000000000000000"])]


def endpoint_view(endpoint: Endpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.endpoint_id,
        tenant_id=endpoint.tenant_id,
        url=endpoint.url,
        event_types=None if endpoint.event_types is None else list(endpoint.event_types),
        filter=endpoint.filter,
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        headers=dict.fromkeys(endpoint.headers, MASK),
        rate_limit=endpoint.rate_limit,
        max_in_flight=endpoint.max_in_flight,
        signature=endpoint.signature,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


# --- the event-type catalog -----------------------------------------------------------------------------


class EventTypeOut(TypedDict):
    name: Annotated[str, Field(examples=["order.created"])]
    description: str
    schema: dict[str, Any] | None
    examples: list[dict[str, Any]]
    deprecated: bool
    created_at: str
    updated_at: str


class EventTypePage(TypedDict):
    data: list[EventTypeOut]
    next_cursor: NextCursor
    has_more: bool


def event_type_view(event_type: EventType) -> EventTypeOut:
    return EventTypeOut(
        name=event_type.name,
        description=event_type.description,
        schema=event_type.schema,
        examples=list(event_type.examples),
        deprecated=event_type.deprecated,
        created_at=event_type.created_at,
        updated_at=event_type.updated_at,
    )


# --- events, deliveries and attempts --------------------------------------------------------------------


class EventAccepted(TypedDict):
    id: Annotated[str, Field(examples=["evt_01JDEMO0000000000000000000"])]
    type: str
    timestamp: str
    deliver_at: NotRequired[Annotated[str, Field(description="The request's `deliver_at`, echoed.")]]


class BatchAccepted(EventAccepted):
    status: Literal[202]


class BatchFailed(TypedDict):
    status: Annotated[int, Field(examples=[400])]
    error: ErrorDetail


class BatchOut(TypedDict):
    data: Annotated[
        list[BatchAccepted | BatchFailed], Field(description="One result per event, in input order.")
    ]


class DeliveryOut(TypedDict):
    endpoint_id: str
    status: DeliveryStatus
    attempts: int
    last_attempt_at: str | None
    last_status_code: int | None
    last_error_kind: str | None
    last_error: str | None
    next_attempt_at: str | None


class EventOut(TypedDict):
    id: str
    type: str
    timestamp: str
    data: dict[str, Any]
    fanout: Annotated[
        FanoutState,
        Field(
            description="pending: endpoints not matched yet; dead_lettered: matching kept failing (redrive)."
        ),
    ]
    deliveries: list[DeliveryOut]
    ordering_key: Annotated[
        str | None, Field(description="The event's ordering key; null for an event sent without one.")
    ]
    status: NotRequired[
        Annotated[
            Literal["scheduled", "cancelled"],
            Field(description="A delayed event not delivered yet (`scheduled`), or cancelled before it was."),
        ]
    ]
    deliver_at: NotRequired[Annotated[str, Field(description="A delayed event's delivery time.")]]
    schedule_id: NotRequired[Annotated[str, Field(description="The schedule whose firing made this event.")]]


class EventPage(TypedDict):
    data: list[EventOut]
    next_cursor: NextCursor
    has_more: bool


class AttemptOut(TypedDict):
    event_id: str
    endpoint_id: str
    attempt: int
    attempted_at: str
    outcome: AttemptOutcome
    status_code: int | None
    latency_ms: int
    error_kind: str | None
    error_message: str | None
    response_excerpt: str


class AttemptPage(TypedDict):
    data: list[AttemptOut]
    next_cursor: NextCursor
    has_more: bool


class RetryOut(TypedDict):
    event_id: str
    endpoint_ids: list[str]
    status: Literal["queued"]


def delivery_view(delivery: Delivery) -> DeliveryOut:
    last = delivery.last_attempt
    return DeliveryOut(
        endpoint_id=delivery.endpoint_id,
        status=delivery.status,
        attempts=delivery.attempts,
        last_attempt_at=last.attempted_at if last else None,
        last_status_code=last.status_code if last else None,
        last_error_kind=delivery.last_error_kind.value if delivery.last_error_kind else None,
        last_error=delivery.last_error,
        next_attempt_at=(
            clock.iso_from_unix(delivery.next_attempt_at)
            if delivery.next_attempt_at is not None and not delivery.status.final
            else None
        ),
    )


def matched_endpoints(record: EventRecord) -> list[str]:
    """The endpoints the event went to: those it matched, then any others that got a delivery (a resend)."""
    ordered = list(record.endpoint_ids or ())
    if record.only_endpoint and record.only_endpoint not in ordered:
        ordered.append(record.only_endpoint)
    return ordered + sorted(set(record.deliveries) - set(ordered))


def event_view(record: EventRecord) -> EventOut:
    """The event with one status per endpoint; matched endpoints without a delivery yet show pending."""
    deliveries = [
        delivery_view(record.deliveries.get(endpoint_id) or Delivery(endpoint_id, DeliveryStatus.PENDING))
        for endpoint_id in matched_endpoints(record)
    ]
    event = record.event
    return EventOut(
        id=event.event_id,
        type=event.event_type,
        timestamp=event.timestamp,
        data=json.loads(event.body)["data"],
        fanout=record.fanout,
        deliveries=deliveries,
        ordering_key=event.ordering_key,
    )


def attempt_view(event_id: str, endpoint_id: str, attempt: Attempt) -> AttemptOut:
    return AttemptOut(
        event_id=event_id,
        endpoint_id=endpoint_id,
        attempt=attempt.number,
        attempted_at=attempt.attempted_at,
        outcome=attempt.outcome,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        error_kind=attempt.failure.value if attempt.failure else None,
        error_message=attempt.message,
        response_excerpt=attempt.excerpt,
    )


# --- operators ------------------------------------------------------------------------------------------


class DeadLetterOut(TypedDict):
    kind: Annotated[str, Field(examples=["deliver"])]
    tenant_id: str | None
    event_id: str | None
    endpoint_id: str | None
    dead_lettered_at: str
    reason: str


class DeadLetterPage(TypedDict):
    data: list[DeadLetterOut]
    next_cursor: NextCursor
    has_more: bool


class ScheduleOut(TypedDict):
    id: Annotated[str, Field(examples=["sch_01JDEMO0000000000000000000"])]
    type: str
    data: dict[str, Any]
    cron: str | None
    rate: str | None
    timezone: str
    ordering_key: str | None
    start_at: str | None
    end_at: str | None
    enabled: bool
    created_at: str
    updated_at: str
    next_run_at: Annotated[
        str | None, Field(description="The next firing (null while disabled, or after `end_at`).")
    ]


class SchedulePage(TypedDict):
    data: list[ScheduleOut]
    next_cursor: NextCursor
    has_more: bool


class ReplayOut(TypedDict):
    id: Annotated[str, Field(examples=["rpl_01JDEMO0000000000000000000"])]
    status: Literal["running", "done"]
    matched: Annotated[int, Field(description="Deliveries the filters matched so far.")]
    queued: Annotated[int, Field(description="Of those, re-sent (once each).")]
    skipped: Annotated[
        int, Field(description="Of those, not re-sent: endpoint disabled or deleted, or a resend in flight.")
    ]


class QueuedOut(TypedDict):
    status: Literal["queued"]


class ResealOut(TypedDict):
    resealed: Annotated[int, Field(description="Endpoints re-sealed under the current key in this call.")]
    next_cursor: Annotated[
        str | None, Field(description="Call again with this cursor; null when every one is done.")
    ]


def dead_letter_view(letter: DeadLetter) -> DeadLetterOut:
    return DeadLetterOut(
        kind=letter.kind,
        tenant_id=letter.tenant_id,
        event_id=letter.event_id,
        endpoint_id=letter.endpoint_id,
        dead_lettered_at=letter.dead_lettered_at,
        reason=letter.reason,
    )


class PortalSessionOut(TypedDict):
    url: Annotated[
        str,
        Field(
            description="Opens the tenant's portal. The credential is in the fragment, which browsers never "
            "send to a server or in a Referer.",
            examples=["https://api.example.com/v1/portal#session=hkp_..."],
        ),
    ]
    expires_at: str
