"""The delivery queue's messages. Every job is JSON with a ``kind``; the DLQ receives the same bodies.

- ``event``: one per accepted event, carrying the whole event, so dispatch never reads it back. Dispatch
  matches endpoints, delivers the first round, writes the event record once, and hands every pair that
  failed or had to wait to a ``deliver`` job. ``body`` is None when the event was too large for a message
  and is read from its record instead. ``known`` carries outcomes that could not be written (a 2xx must
  never be sent twice); ``after`` continues a large fan-out past that endpoint id.
- With an ``ordering_key``, event jobs and the deliver jobs of their fan-outs travel on the ordered (FIFO)
  queue instead (``hookline.core.ordering``).
- ``deliver``: one (event, endpoint) pair after its first round, or a resend (``resend_token``).
  Attempts are counted in the record, not by the queue's receive count.
- ``recover``: resend an endpoint's failed deliveries since a time, a page per job.
- ``redrive``: send dead letters back, a page per job.
- ``release``: a delayed event is due (``api.delayed``): unless it was cancelled, its event job goes out.
- ``fire``: a recurring schedule fired (sent by EventBridge Scheduler, ``scheduled_time`` filled in by it).
- ``replay``: re-send the deliveries a replay's filter matches, a page per job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hookline.core.models import (
    Attempt,
    AttemptOutcome,
    Claim,
    Delivery,
    DeliveryStatus,
    FailureKind,
    ResendClaim,
)

MAX_COUNT = 1_000  # bounds a count read from a message body


@dataclass(frozen=True, slots=True)
class EventJob:
    tenant_id: str
    event_id: str
    event_type: str
    timestamp: str
    body: str | None  # None: read it from the event record
    only_endpoint: str | None = None  # a test send
    read_first: bool = False  # a repeat or a replacement: the record may already hold outcomes
    known: tuple[Delivery, ...] = ()
    after: str | None = None  # a large fan-out continues past this endpoint id
    ordering_key: str | None = None
    traceparent: str | None = None  # the W3C trace context the event arrived with


@dataclass(frozen=True, slots=True)
class DeliverJob:
    tenant_id: str
    event_id: str
    endpoint_id: str
    resend_token: str | None = None
    known: Delivery | None = None  # an outcome that could not be written when it happened
    ordering_key: str | None = None  # set on the ordered queue's jobs only (a resend goes unordered)
    waits: int = 0  # times it found its endpoint's in-flight slots taken: each wait is longer


@dataclass(frozen=True, slots=True)
class RecoverJob:
    tenant_id: str
    endpoint_id: str
    since: str
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class RedriveJob:
    """Each page it moves is deleted, so every redrive job starts from the beginning again."""

    cursor: str | None = field(default=None)


@dataclass(frozen=True, slots=True)
class ReleaseJob:
    tenant_id: str
    event_id: str


@dataclass(frozen=True, slots=True)
class FireJob:
    tenant_id: str
    schedule_id: str
    scheduled_time: str  # ISO-8601, as EventBridge Scheduler's <aws.scheduler.scheduled-time> gives it


@dataclass(frozen=True, slots=True)
class ReplayJob:
    tenant_id: str
    replay_id: str
    cursor: str | None = None


Job = EventJob | DeliverJob | RecoverJob | RedriveJob | ReleaseJob | FireJob | ReplayJob
_KINDS: dict[type, str] = {
    EventJob: "event",
    DeliverJob: "deliver",
    RecoverJob: "recover",
    RedriveJob: "redrive",
    ReleaseJob: "release",
    FireJob: "fire",
    ReplayJob: "replay",
}


def is_ordered(job: Job) -> bool:
    """Does this job travel on the ordered queue? A resend (a claimed, operator-made job) never does."""
    if isinstance(job, EventJob):
        return job.ordering_key is not None
    return isinstance(job, DeliverJob) and job.ordering_key is not None and job.resend_token is None


# The fair-queue group of jobs that belong to no tenant (a redrive works for the whole deployment).
SYSTEM_GROUP = "_hookline"


def message_group(job: Job) -> str:
    """The tenant a job works for: its ``MessageGroupId`` on the delivery queue, so that SQS fair queues
    keep one tenant's backlog from delaying the others (docs/fairness.md)."""
    return SYSTEM_GROUP if isinstance(job, RedriveJob) else job.tenant_id


def body_group(body: str) -> str:
    """``message_group`` of an encoded job; a body that is not one of our jobs goes to the system group."""
    try:
        return message_group(decode_job(body))
    except ValueError:
        return SYSTEM_GROUP


def job_kind(job: Job) -> str:
    return _KINDS[type(job)]


# --- deliveries as JSON (the delivery log's history, and outcomes carried in jobs) ----------------------


def attempt_to_json(attempt: Attempt) -> list[Any]:
    return [
        attempt.number,
        attempt.attempted_at,
        attempt.outcome.value,
        attempt.latency_ms,
        attempt.status_code,
        attempt.failure.value if attempt.failure else None,
        attempt.message,
        attempt.excerpt,
    ]


def attempt_from_json(raw: Any) -> Attempt:
    if not isinstance(raw, list) or len(raw) != 8:
        raise ValueError("an attempt is a list of eight fields")
    number, at, outcome, latency, code, failure, message, excerpt = raw
    return Attempt(
        number=int(number),
        attempted_at=str(at),
        outcome=AttemptOutcome(outcome),
        latency_ms=int(latency),
        status_code=None if code is None else int(code),
        failure=None if failure is None else FailureKind(failure),
        message=None if message is None else str(message),
        excerpt=str(excerpt or ""),
    )


def delivery_to_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "ep": delivery.endpoint_id,
        "s": delivery.status.value,
        "n": delivery.attempts,
        "rb": delivery.round_base,
        "nx": delivery.next_attempt_at,
        "k": delivery.last_error_kind.value if delivery.last_error_kind else None,
        "m": delivery.last_error,
        "h": [attempt_to_json(a) for a in delivery.history],
        "cl": [delivery.claim.attempt, delivery.claim.until, delivery.claim.owner]
        if delivery.claim
        else None,
        "rs": [delivery.resend.token, delivery.resend.until] if delivery.resend else None,
        "u": delivery.updated_at,
    }


def delivery_from_json(raw: Any) -> Delivery:
    if not isinstance(raw, dict) or not isinstance(raw.get("ep"), str):
        raise ValueError("a delivery is an object with an endpoint id")
    claim, resend = raw.get("cl"), raw.get("rs")
    kind = raw.get("k")
    return Delivery(
        endpoint_id=raw["ep"],
        status=DeliveryStatus(raw.get("s", DeliveryStatus.PENDING.value)),
        attempts=int(raw.get("n", 0)),
        round_base=int(raw.get("rb", 0)),
        next_attempt_at=None if raw.get("nx") is None else float(raw["nx"]),
        last_error_kind=None if kind is None else FailureKind(kind),
        last_error=raw.get("m"),
        history=tuple(attempt_from_json(a) for a in raw.get("h") or ()),
        claim=Claim(int(claim[0]), float(claim[1]), str(claim[2])) if claim else None,
        resend=ResendClaim(str(resend[0]), float(resend[1])) if resend else None,
        updated_at=str(raw.get("u") or ""),
    )


# --- the wire format -----------------------------------------------------------------------------------


def encode_job(job: Job) -> str:
    payload: dict[str, Any] = {"kind": job_kind(job)}
    if isinstance(job, EventJob):
        payload |= {
            "tenant_id": job.tenant_id,
            "event_id": job.event_id,
            "type": job.event_type,
            "timestamp": job.timestamp,
            "body": job.body,
        }
        if job.only_endpoint:
            payload["only_endpoint"] = job.only_endpoint
        if job.read_first:
            payload["read_first"] = True
        if job.known:
            payload["known"] = [delivery_to_json(d) for d in job.known]
        if job.after:
            payload["after"] = job.after
        if job.ordering_key is not None:
            payload["ordering_key"] = job.ordering_key
        if job.traceparent:
            payload["traceparent"] = job.traceparent
    elif isinstance(job, DeliverJob):
        payload |= {"tenant_id": job.tenant_id, "event_id": job.event_id, "endpoint_id": job.endpoint_id}
        if job.resend_token:
            payload["resend_token"] = job.resend_token
        if job.known:
            payload["known"] = delivery_to_json(job.known)
        if job.ordering_key is not None:
            payload["ordering_key"] = job.ordering_key
        if job.waits:
            payload["waits"] = job.waits
    elif isinstance(job, RecoverJob):
        payload |= {"tenant_id": job.tenant_id, "endpoint_id": job.endpoint_id, "since": job.since}
        if job.cursor:
            payload["cursor"] = job.cursor
    elif isinstance(job, ReleaseJob):
        payload |= {"tenant_id": job.tenant_id, "event_id": job.event_id}
    elif isinstance(job, FireJob):
        payload |= {
            "tenant_id": job.tenant_id,
            "schedule_id": job.schedule_id,
            "scheduled_time": job.scheduled_time,
        }
    elif isinstance(job, ReplayJob):
        payload |= {"tenant_id": job.tenant_id, "replay_id": job.replay_id}
        if job.cursor:
            payload["cursor"] = job.cursor
    elif job.cursor:
        payload["cursor"] = job.cursor
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _count(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name, 0)
    if type(value) is not int or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_COUNT}")
    return value


def _text(payload: dict[str, Any], name: str, optional: bool = False) -> Any:
    value = payload.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def decode_job(body: str) -> Job:
    """Parse a queue message body. Raises ValueError for anything that is not one of our jobs."""
    try:
        payload: Any = json.loads(body)
    except RecursionError as exc:
        raise ValueError("job body nests too deeply") from exc
    if not isinstance(payload, dict):
        raise ValueError("job body is not a JSON object")
    kind = payload.get("kind")
    try:
        if kind == "event":
            body_text = payload.get("body")
            if body_text is not None and not isinstance(body_text, str):
                raise ValueError("body must be a string")
            return EventJob(
                tenant_id=_text(payload, "tenant_id"),
                event_id=_text(payload, "event_id"),
                event_type=_text(payload, "type"),
                timestamp=_text(payload, "timestamp"),
                body=body_text,
                only_endpoint=_text(payload, "only_endpoint", optional=True),
                read_first=payload.get("read_first") is True,
                known=tuple(delivery_from_json(d) for d in payload.get("known") or ()),
                after=_text(payload, "after", optional=True),
                ordering_key=_text(payload, "ordering_key", optional=True),
                traceparent=_text(payload, "traceparent", optional=True),
            )
        if kind == "deliver":
            known = payload.get("known")
            return DeliverJob(
                tenant_id=_text(payload, "tenant_id"),
                event_id=_text(payload, "event_id"),
                endpoint_id=_text(payload, "endpoint_id"),
                resend_token=_text(payload, "resend_token", optional=True),
                known=None if known is None else delivery_from_json(known),
                ordering_key=_text(payload, "ordering_key", optional=True),
                waits=_count(payload, "waits"),
            )
        if kind == "recover":
            return RecoverJob(
                tenant_id=_text(payload, "tenant_id"),
                endpoint_id=_text(payload, "endpoint_id"),
                since=_text(payload, "since"),
                cursor=_text(payload, "cursor", optional=True),
            )
        if kind == "redrive":
            return RedriveJob(cursor=_text(payload, "cursor", optional=True))
        if kind == "release":
            return ReleaseJob(_text(payload, "tenant_id"), _text(payload, "event_id"))
        if kind == "fire":
            return FireJob(
                _text(payload, "tenant_id"), _text(payload, "schedule_id"), _text(payload, "scheduled_time")
            )
        if kind == "replay":
            return ReplayJob(
                _text(payload, "tenant_id"),
                _text(payload, "replay_id"),
                _text(payload, "cursor", optional=True),
            )
    except (TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"malformed {kind} job: {exc}") from exc
    raise ValueError(f"unknown job kind {kind!r}")
