"""What delivery and the dead-letter handler need from storage, as small Protocols over core's values.

The DynamoDB, SQS and SNS classes in ``storage`` satisfy them; the unit tests' in-memory fakes do too, so the
pipeline's decisions are tested without moto or sockets. They live in core so that every layer above
storage can name them (imports only point down).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hookline.core.jobs import Job
from hookline.core.models import (
    AttemptResult,
    BreakerState,
    DeadLetter,
    Delivery,
    DeliveryChange,
    DeliveryRef,
    Endpoint,
    EventRecord,
    FailureEntry,
    FanoutState,
)

# Where a store's listing resumes: opaque to the caller, handed back as the store gave it.
PageStart = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordReads:
    """What one queued message needs read: its event's record, a delivery stored apart from it, breakers."""

    event: tuple[str, str] | None = None  # (tenant, event)
    delivery: tuple[str, str, str] | None = None  # (tenant, event, endpoint): read in case it is stored apart
    breakers: tuple[tuple[str, str], ...] = ()  # (tenant, endpoint)


class BatchReads(Protocol):
    def read(
        self, wanted: Sequence[RecordReads], action: str
    ) -> tuple[dict[tuple[str, str], EventRecord], dict[tuple[str, str], BreakerState]]:
        """Everything ``wanted`` in one go: records by (tenant, event), breaker states by (tenant,
        endpoint). What does not exist is left out."""
        ...


class DeliveryLog(Protocol):
    def create(self, record: EventRecord, expires_at: int, failures: Sequence[FailureEntry] = ()) -> bool: ...

    def create_overflow_delivery(self, record: EventRecord, delivery: Delivery, expires_at: int) -> bool: ...

    def get(self, tenant_id: str, event_id: str) -> EventRecord | None: ...

    def load(self, refs: Iterable[tuple[str, str, str | None]]) -> dict[tuple[str, str], EventRecord]: ...

    def set_fanout(
        self, tenant_id: str, event_id: str, state: FanoutState, endpoint_ids: Sequence[str] | None = None
    ) -> None: ...

    def swap(
        self,
        ref: DeliveryRef,
        seen: Delivery | None,
        new: Delivery,
        index_failure: FailureEntry | None = None,
        expires_at: int | None = None,
    ) -> bool: ...

    def swap_many(self, tenant_id: str, event_id: str, changes: Sequence[DeliveryChange]) -> bool: ...

    def index_failure(self, entry: FailureEntry, expires_at: int) -> None: ...

    def failures_since(
        self, tenant_id: str, endpoint_id: str, since: str, limit: int, start: PageStart | None
    ) -> tuple[list[FailureEntry], PageStart | None]: ...

    def forget_failures(self, entries: Sequence[FailureEntry]) -> None: ...


class Jobs(Protocol):
    def send(self, job: Job, delay_seconds: int = 0) -> None: ...

    def send_batch(self, jobs: Sequence[tuple[Job, int]]) -> list[int]: ...

    def send_bodies(self, bodies: Sequence[tuple[str, int]]) -> list[int]: ...

    def change_visibility(self, receipts: Sequence[tuple[str, int]]) -> list[int]: ...


class EndpointDirectoryPort(Protocol):
    def endpoints(self, tenant_id: str) -> Mapping[str, Endpoint]: ...

    def forget(self, tenant_id: str) -> None: ...


class EndpointWriter(Protocol):
    def disable(self, tenant_id: str, endpoint_id: str, reason: str, now: str) -> bool: ...


class BreakerStates(Protocol):
    def record_failures(
        self, tenant_id: str, endpoint_id: str, failures: int, now: float
    ) -> BreakerState: ...

    def open(self, tenant_id: str, endpoint_id: str, now: float, until: float) -> bool: ...

    def acquire_probe(self, tenant_id: str, endpoint_id: str, now: float, lease_until: float) -> bool: ...

    def close(self, tenant_id: str, endpoint_id: str, success_started_at: float) -> BreakerState | None: ...

    def clear(self, tenant_id: str, endpoint_id: str) -> None: ...

    def mark_slow(self, tenant_id: str, endpoint_id: str, until: float) -> None: ...


class RateSlots(Protocol):
    def next_slot(self, tenant_id: str, endpoint_id: str) -> float | None: ...

    def claim(
        self, tenant_id: str, endpoint_id: str, seen: float | None, next_slot: float, expires_at: int
    ) -> bool: ...


class InFlightSlots(Protocol):
    def acquire(
        self, tenant_id: str, endpoint_id: str, limit: int, now: float, until: float
    ) -> str | None: ...

    def release(self, tenant_id: str, endpoint_id: str, token: str) -> None: ...


class Sender(Protocol):
    @property
    def timeout_seconds(self) -> float: ...

    def send(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout_seconds: float | None = None
    ) -> AttemptResult: ...


class Alerts(Protocol):
    def endpoint_changed(self, kind: str, endpoint: Endpoint, details: dict[str, Any]) -> None: ...


class Topic(Protocol):
    def publish(self, subject: str, message: dict[str, Any], attributes: dict[str, str]) -> None: ...


class EndpointReader(Protocol):
    def get(self, tenant_id: str, endpoint_id: str) -> Endpoint | None: ...


class DeadLetterKeeper(Protocol):
    def keep(self, letter: DeadLetter, expires_at: int) -> None: ...

    def page(self, limit: int, start: PageStart | None) -> tuple[list[DeadLetter], PageStart | None]: ...

    def forget(self, keys: Sequence[str]) -> None: ...
