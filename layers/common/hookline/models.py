"""The domain's records: tenants, endpoints, events, deliveries and attempts.

Plain frozen dataclasses. ``store`` maps them to DynamoDB items and ``api`` to JSON; neither leaks here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # queued, no attempt yet
    RETRYING = "retrying"  # at least one attempt failed, another is scheduled
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # no attempt left, endpoint gone or disabled: only a resend or recover delivers it now


class AttemptOutcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"  # failed; another attempt is worth it if the schedule has one
    GONE = "gone"  # 410: disable the endpoint, stop retrying


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant_id: str
    name: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class EndpointSecret:
    value: str  # "whsec_" + base64 of the key bytes
    expires_at: int | None = None  # Unix seconds; None while current


@dataclass(frozen=True, slots=True)
class Endpoint:
    tenant_id: str
    endpoint_id: str
    url: str
    secrets: tuple[EndpointSecret, ...]
    event_types: tuple[str, ...] | None = None  # None: every event type
    filter: dict[str, Any] | None = None
    description: str = ""
    enabled: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    rate_limit: int | None = None
    disabled_reason: str | None = None
    created_at: str = ""
    updated_at: str = ""

    def signing_secrets(self, now: int) -> tuple[str, ...]:
        """Secrets that sign right now: the current one plus any still inside its rotation grace window."""
        return tuple(s.value for s in self.secrets if s.expires_at is None or s.expires_at > now)

    @property
    def current_secret(self) -> str:
        return next(s.value for s in self.secrets if s.expires_at is None)


@dataclass(frozen=True, slots=True)
class Event:
    tenant_id: str
    event_id: str
    event_type: str
    timestamp: str  # ISO-8601, UTC
    body: str  # the exact JSON every endpoint receives: {"type", "timestamp", "data"}
    endpoint_ids: tuple[str, ...] | None = None  # None until fan-out has run


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where one (event, endpoint) pair stands."""

    tenant_id: str
    event_id: str
    endpoint_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_attempt_at: str | None = None
    last_status_code: int | None = None
    last_error_kind: str | None = None
    last_error: str | None = None
    next_attempt_at: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one HTTP attempt produced, before it is recorded."""

    outcome: AttemptOutcome
    latency_ms: int
    status_code: int | None = None
    error_kind: str | None = None  # None on success; else DeliveryError.kind
    error_message: str | None = None
    response_excerpt: str = ""
    retry_after_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One recorded HTTP attempt, as the delivery log keeps it."""

    tenant_id: str
    event_id: str
    endpoint_id: str
    attempt: int
    attempted_at: str
    result: AttemptResult


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """The circuit breaker's and auto-disable's view of one endpoint.

    ``consecutive_failures`` counts failed attempts since the last success; ``failing_since`` is when
    that run of failures began. While ``open_until`` is in the future the breaker is open: deliveries
    wait instead of spending attempts. After it, one probe (leased until ``probe_until``) decides.
    """

    tenant_id: str
    endpoint_id: str
    consecutive_failures: int = 0
    failing_since: float | None = None
    open_until: float | None = None
    probe_until: float | None = None
    alerted_failing: bool = False

    def is_open(self, now: float) -> bool:
        return self.open_until is not None and now < self.open_until

    def awaits_probe(self, now: float) -> bool:
        return self.open_until is not None and now >= self.open_until


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """A dead-lettered delivery kept for an operator's redrive."""

    key: str
    tenant_id: str
    event_id: str
    endpoint_id: str
    dead_lettered_at: str
