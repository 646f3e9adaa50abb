"""The domain's records: tenants, endpoints, API keys, events, deliveries and attempts.

Plain frozen dataclasses. ``storage`` maps them to DynamoDB items and ``api`` to JSON; neither leaks here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any

from hookline.core.body_codec import changes_kept_apart
from hookline.core.signing import Scheme, scheme_of


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # queued, no attempt yet (or a resend is queued)
    RETRYING = "retrying"  # at least one attempt failed, another is scheduled
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # no attempt left, endpoint gone or disabled: only a resend or recover delivers it now

    @property
    def final(self) -> bool:
        return self in {DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED}


class AttemptOutcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"  # failed; another attempt is worth it if the schedule has one
    GONE = "gone"  # 410: disable the endpoint, stop retrying


class FailureKind(enum.StrEnum):
    """Why an attempt failed, or why a delivery ended without one. The delivery log's ``error_kind``."""

    TIMEOUT = "timeout"
    CONNECTION = "connection"
    TLS = "tls"
    DNS = "dns"
    SSRF_BLOCKED = "ssrf_blocked"
    HTTP_STATUS = "http_status"
    INVALID_REQUEST = "invalid_request"  # the request could not be built (a header the endpoint's data broke)
    INTERNAL = "internal"  # a bug of ours, contained to this delivery
    ENDPOINT_DISABLED = "endpoint_disabled"
    ENDPOINT_DELETED = "endpoint_deleted"


class FanoutState(enum.StrEnum):
    PENDING = "pending"  # the event is stored, its endpoints are not matched yet
    DONE = "done"
    DEAD_LETTERED = (
        "dead_lettered"  # fan-out kept failing; the job waits among the dead letters for a redrive
    )


class Scope(enum.StrEnum):
    ENDPOINTS_READ = "endpoints:read"
    ENDPOINTS_WRITE = "endpoints:write"
    EVENTS_READ = "events:read"
    EVENTS_WRITE = "events:write"
    PORTAL_CREATE = "portal:create"  # mint portal sessions (``POST .../portal-sessions``) for its tenant
    SCHEDULES_READ = "schedules:read"
    SCHEDULES_WRITE = "schedules:write"


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant_id: str
    name: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class EndpointSecret:
    # "whsec_" (v1) or "whsk_" (v1a) + base64 of the key bytes (plain text only in memory; sealed at rest)
    value: str
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
    max_in_flight: int | None = None  # None: the deployment's EndpointMaxInFlight
    disabled_reason: str | None = None
    created_at: str = ""
    updated_at: str = ""

    def signing_secrets(self, now: int) -> tuple[str, ...]:
        """Secrets that sign right now: the current one plus any still inside its rotation grace window."""
        return tuple(s.value for s in self.secrets if s.expires_at is None or s.expires_at > now)

    @property
    def current_secret(self) -> str:
        return next(s.value for s in self.secrets if s.expires_at is None)

    @property
    def signature(self) -> Scheme:
        """How deliveries are signed: the current key's scheme (a rotation keeps the scheme)."""
        return scheme_of(self.current_secret)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A tenant-scoped API key. Only a digest of the key itself is ever stored."""

    key_id: str
    tenant_id: str
    name: str
    scopes: tuple[Scope, ...]
    created_at: str
    expires_at: int | None  # Unix seconds
    digest: str  # hex SHA-256 of the key

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True, slots=True)
class Event:
    tenant_id: str
    event_id: str
    event_type: str
    timestamp: str  # ISO-8601, UTC
    body: str  # the exact JSON every endpoint receives: {"type", "timestamp", "data"}
    ordering_key: str | None = None  # deliveries to each endpoint keep the order of this key's events
    traceparent: str | None = None  # the W3C trace context it was sent with (``core.trace``)


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one HTTP attempt produced, before it is recorded. Attempts never raise; this is their outcome."""

    outcome: AttemptOutcome
    latency_ms: int
    status_code: int | None = None
    failure: FailureKind | None = None  # None on success
    message: str | None = None
    excerpt: str = ""
    retry_after_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One recorded HTTP attempt of one delivery, as the delivery log keeps it."""

    number: int
    attempted_at: str
    outcome: AttemptOutcome
    latency_ms: int
    status_code: int | None = None
    failure: FailureKind | None = None
    message: str | None = None
    excerpt: str = ""

    @classmethod
    def of(cls, number: int, attempted_at: str, result: AttemptResult) -> Attempt:
        return cls(
            number=number,
            attempted_at=attempted_at,
            outcome=result.outcome,
            latency_ms=result.latency_ms,
            status_code=result.status_code,
            failure=result.failure,
            message=result.message,
            excerpt=result.excerpt,
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """A carrier's lease on attempt ``attempt`` of a delivery: its ``owner`` sends; it lapses at ``until``."""

    attempt: int
    until: float
    owner: str


RESEND_HOLD_SECONDS = 15 * 60  # a resend claim with no carrier left lapses after this


@dataclass(frozen=True, slots=True)
class ResendClaim:
    """An operator's resend (retry, recover, test, redrive) in flight: only the job with ``token`` sends."""

    token: str
    until: float


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where one (event, endpoint) pair stands, with its recent attempts."""

    endpoint_id: str
    status: DeliveryStatus
    attempts: int = 0  # every attempt ever made
    round_base: int = 0  # attempts made before the current round (a resend starts a new round)
    next_attempt_at: float | None = None  # Unix seconds; a carrier arriving earlier waits
    last_error_kind: FailureKind | None = None
    last_error: str | None = None
    history: tuple[Attempt, ...] = ()
    claim: Claim | None = None
    resend: ResendClaim | None = None
    updated_at: str = ""

    @property
    def round_attempts(self) -> int:
        return self.attempts - self.round_base

    @property
    def last_attempt(self) -> Attempt | None:
        return self.history[-1] if self.history else None

    def claim_held(self, now: float) -> bool:
        return self.claim is not None and self.claim.until > now

    def resend_held(self, now: float) -> bool:
        return self.resend is not None and self.resend.until > now

    def with_status(self, status: DeliveryStatus, **changes: Any) -> Delivery:
        return replace(self, status=status, **changes)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event with its fan-out and per-endpoint deliveries: the delivery log's unit."""

    event: Event
    fanout: FanoutState
    endpoint_ids: tuple[str, ...] | None  # the endpoints it matched; None until the fan-out ran
    deliveries: dict[str, Delivery]
    overflow: bool = False  # deliveries live in items of their own (large fan-outs, large bodies)
    only_endpoint: str | None = None  # a test send goes to this endpoint alone

    @property
    def changes_kept_apart(self) -> bool:
        """Whether its deliveries' changes after the first round go to items of their own (``body_codec``)."""
        endpoints = len(self.endpoint_ids) if self.endpoint_ids is not None else len(self.deliveries)
        return changes_kept_apart(self.event.body, endpoints, self.overflow)


@dataclass(frozen=True, slots=True)
class BreakerState:
    """The circuit breaker's and auto-disable's memory of one endpoint.

    ``consecutive_failures`` counts failed attempts since the last success; ``failing_since`` is when that
    run began. While ``open_until`` is in the future deliveries wait instead of spending attempts; after it,
    one probe (leased until ``probe_until``) decides. ``opened_at`` tells a success that started before
    breaker opened be told apart from the probe's.
    """

    tenant_id: str
    endpoint_id: str
    consecutive_failures: int = 0
    failing_since: float | None = None
    open_until: float | None = None
    opened_at: float | None = None
    probe_until: float | None = None
    alerted_failing: bool = False
    slow_until: float | None = None  # answers took a second or more: its in-flight limit is leased until then

    @property
    def failing(self) -> bool:
        return bool(self.consecutive_failures or self.failing_since or self.open_until)

    def slow(self, now: float) -> bool:
        return self.slow_until is not None and self.slow_until > now


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A job that exhausted its attempts, kept for an operator's redrive."""

    key: str
    kind: str
    tenant_id: str | None
    event_id: str | None
    endpoint_id: str | None
    dead_lettered_at: str
    reason: str
    job: str  # the job's queue body, sent again by a redrive


@dataclass(frozen=True, slots=True)
class DeliveryRef:
    """Where one delivery is stored: its event's record, or an item of its own (``overflow``)."""

    tenant_id: str
    event_id: str
    endpoint_id: str
    overflow: bool = False
    apart: bool = False  # a change after the first round goes to an item of its own (storage.event_log)

    @classmethod
    def of(cls, record: EventRecord, endpoint_id: str) -> DeliveryRef:
        """Where a change to a stored delivery after the record's first round goes (any carrier but the
        event job: deliver jobs, resends, the dead-letter handler)."""
        event = record.event
        return cls(event.tenant_id, event.event_id, endpoint_id, record.overflow, record.changes_kept_apart)

    @property
    def pair(self) -> tuple[str, str]:
        """(tenant, endpoint): the key of the endpoint's breaker and in-flight state."""
        return self.tenant_id, self.endpoint_id


DeliveryChange = tuple[str, Delivery | None, Delivery]  # endpoint id, the delivery as seen, the new one


@dataclass(frozen=True, slots=True)
class FailureEntry:
    """An entry of an endpoint's index of failed deliveries (what ``recover`` sends again)."""

    tenant_id: str
    endpoint_id: str
    event_id: str
    failed_at: str  # ISO-8601 UTC

    @property
    def sort_key(self) -> str:
        """Its place in the endpoint's index: by time, then event."""
        return f"{self.failed_at}#{self.event_id}"
