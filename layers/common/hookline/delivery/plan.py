"""Planning a batch: pure decisions from what was loaded. No AWS call, no clock of its own, no network.

Each received record becomes a ``RecordPlan``: for an event job, one ``PairTask`` per matched endpoint; for a
deliver job, one task for its pair. A task's ``step`` says what happens to the pair in this batch:

- ``SEND``: attempt it now (``claim`` first, unless it is the event's first round, which has one carrier);
- ``SPLIT``: hand it to a deliver job of its own, due after ``delay`` (no attempt is spent);
- ``WAIT``: this deliver job is early; it comes back when the pair is due;
- ``FAIL``: settle it as failed without an attempt (its endpoint is disabled or deleted);
- ``EXHAUST``: its attempts are used up; it goes to the dead-letter queue;
- ``DROP``: this carrier has nothing to do (the pair is settled, or another carrier owns it).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from hookline.core.body_codec import stored_body_bytes
from hookline.core.filters import matches
from hookline.core.jobs import DeliverJob, EventJob, Job
from hookline.core.matching import event_type_matches
from hookline.core.models import (
    BreakerState,
    Delivery,
    DeliveryRef,
    Endpoint,
    Event,
    EventRecord,
    FailureKind,
    FanoutState,
)
from hookline.core.schedule import RetrySchedule
from hookline.delivery.breaker import Breaker, Gate

INLINE_ENDPOINT_LIMIT = 25  # more matching endpoints than this: deliveries get items (and jobs) of their own
INLINE_BODY_LIMIT = 16_384  # a larger stored (compressed) body: deliveries apart too


class Step(enum.StrEnum):
    SEND = "send"
    SPLIT = "split"
    WAIT = "wait"
    FAIL = "fail"
    EXHAUST = "exhaust"
    DROP = "drop"


class RecordKind(enum.StrEnum):
    EVENT = "event"
    DELIVER = "deliver"
    EXPAND = "expand"  # large fan-out, recover, redrive: the expander's work
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class Received:
    index: int
    message_id: str
    receipt: str
    receive_count: int
    body: str
    job: Job | None
    problem: str | None = None
    ordered: bool = False  # from the ordered (FIFO) queue: waits keep the message in flight
    group: str | None = None  # its FIFO message group


@dataclass(frozen=True, slots=True)
class PairTask:
    ref: DeliveryRef
    event: Event
    endpoint: Endpoint | None
    seen: Delivery | None  # as stored (or known); None: never stored
    step: Step
    delay: float = 0.0
    failure: FailureKind | None = None
    claim: bool = False
    probe: bool = False
    resend_token: str | None = None
    lease_limit: int | None = None  # a slow endpoint: the attempt first leases one of this many slots
    waits: int = 0  # the deliver job's count of in-flight waits (DeliverJob.waits)

    @property
    def first_wave(self) -> bool:
        """A fan-out's first attempt to an endpoint not known to be slow: it gets ``FIRST_WAVE_SECONDS``.
        Claimed attempts (deliver jobs: retries, hand-overs, resends) and probes keep the whole timeout:
        they come after the endpoint had its first wave."""
        return self.lease_limit is None and not self.claim and not self.probe

    def deliver_job(self) -> DeliverJob:
        """The deliver job that carries this pair on (on the ordered queue when its event has a key)."""
        ref = self.ref
        key = self.event.ordering_key
        return DeliverJob(
            ref.tenant_id,
            ref.event_id,
            ref.endpoint_id,
            self.resend_token,
            ordering_key=key,
            waits=self.waits,
        )


@dataclass(frozen=True, slots=True)
class RecordPlan:
    received: Received
    kind: RecordKind
    event: Event | None = None
    record: EventRecord | None = None
    endpoint_ids: tuple[str, ...] | None = None
    tasks: tuple[PairTask, ...] = ()
    retry_after: int | None = None  # decided at planning: come back after this many seconds
    dead_letter_body: bool = False  # an unreadable ordered message: to the DLQ now, not after many receives
    carried: Mapping[str, Delivery] = field(default_factory=dict)  # outcomes a job carried, not stored yet


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one batch loaded: records, endpoints (per tenant, from the directory) and breaker states."""

    records: Mapping[tuple[str, str], EventRecord]
    endpoints: Mapping[str, Mapping[str, Endpoint]]
    breakers: Mapping[tuple[str, str], BreakerState]
    unloadable: frozenset[int] = frozenset()  # records whose data could not be loaded: they retry
    known: Mapping[tuple[str, str, str], Delivery] = field(default_factory=dict)  # outcomes not yet stored
    # (tenant, event) -> ``matching_endpoints``, for the event jobs the loader matched (to read breakers)
    matched: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


# A first attempt to an endpoint not known to be slow gets this long, not the whole delivery timeout (see
# ``effects``): an endpoint that starts hanging would otherwise hold every dispatch invocation that received
# its deliveries for the whole timeout before anything knew it was slow.
FIRST_WAVE_SECONDS = 2.0


class InlineBudget:
    """How much first-round sending this invocation may still do inline, within its time limit, in
    thread-seconds: each send counts the longest it can take, the first wave's limit for an endpoint not
    known to be slow and the whole delivery timeout for a slow one. So a fan-out of 100 to healthy
    endpoints is sent inline, while a slow endpoint's sends are bounded as before."""

    def __init__(self, threads: int, seconds: float, timeout_seconds: float) -> None:
        self._left = threads * seconds
        self._timeout = timeout_seconds

    def take(self, task: PairTask) -> bool:
        cost = min(self._timeout, FIRST_WAVE_SECONDS) if task.first_wave else self._timeout
        if self._left < cost:
            return False
        self._left -= cost
        return True


@dataclass(frozen=True, slots=True)
class PlanSettings:
    schedule: RetrySchedule
    now: float
    inline_budget: InlineBudget
    max_in_flight: int = 10  # the deployment's EndpointMaxInFlight


def is_newer(known: Delivery, stored: Delivery | None) -> bool:
    """Is an outcome carried in a job (or remembered by this container) later than what is stored? Such an
    outcome could not be written when it happened; it must win, or its 2xx would be sent again."""
    if stored is None:
        return True
    if known.attempts != stored.attempts:
        return known.attempts > stored.attempts
    return known.status.final and not stored.status.final


def endpoint_wants(endpoint: Endpoint, event: Event, body: Mapping[str, object] | None) -> bool:
    """Event-type patterns first (cheap), then the endpoint's content filter over the delivered body."""
    if not event_type_matches(endpoint.event_types, event.event_type):
        return False
    return endpoint.filter is None or (body is not None and matches(endpoint.filter, body))


def matching_endpoints(event: Event, endpoints: Mapping[str, Endpoint]) -> tuple[str, ...]:
    """The ids of the endpoints whose event types and content filter select the event, in order."""
    body = _parsed(event.body)
    return tuple(sorted(e.endpoint_id for e in endpoints.values() if endpoint_wants(e, event, body)))


def needs_overflow(endpoint_count: int, body: str) -> bool:
    """Deliveries apart when there are many, or when the body as stored (compressed) is large: every inline
    delivery's write is billed on the whole record, body included."""
    if endpoint_count > INLINE_ENDPOINT_LIMIT:
        return True
    return (
        endpoint_count > 1 and len(body) > INLINE_BODY_LIMIT and stored_body_bytes(body) > INLINE_BODY_LIMIT
    )


def plan_event(received: Received, job: EventJob, snapshot: Snapshot, settings: PlanSettings) -> RecordPlan:
    key = (job.tenant_id, job.event_id)
    record = snapshot.records.get(key)
    if record is None and job.body is None:
        # The record is written before such a job is sent; if it is not visible yet, come back.
        return RecordPlan(received, RecordKind.EVENT, retry_after=settings.schedule.min_delay)
    event = (
        record.event
        if record
        else Event(
            job.tenant_id,
            job.event_id,
            job.event_type,
            job.timestamp,
            job.body or "",
            ordering_key=job.ordering_key,
            traceparent=job.traceparent,
        )
    )
    tenant_endpoints = snapshot.endpoints.get(job.tenant_id, {})
    matched_now: tuple[str, ...] | None = None
    if record is not None and record.endpoint_ids is not None and record.fanout is FanoutState.DONE:
        matched = record.endpoint_ids
    elif job.only_endpoint or (record is not None and record.only_endpoint):
        only = job.only_endpoint or (record.only_endpoint if record else None)
        matched = (only,) if only else ()
    else:
        known_match = snapshot.matched.get(key)
        matched = matching_endpoints(event, tenant_endpoints) if known_match is None else known_match
        matched_now = matched
    if (record is not None and record.overflow) or (
        record is None and needs_overflow(len(matched), event.body)
    ):
        # The spill goes on from the endpoints matched here, when they were (not taken from the record).
        return RecordPlan(received, RecordKind.EXPAND, event=event, record=record, endpoint_ids=matched_now)
    deliveries = dict(record.deliveries) if record else {}
    carried: dict[str, Delivery] = {}
    remembered = [d for (t, e, _), d in snapshot.known.items() if (t, e) == key]
    for known in (*job.known, *remembered):
        if is_newer(known, deliveries.get(known.endpoint_id)):
            deliveries[known.endpoint_id] = carried[known.endpoint_id] = known
    tasks = (
        _first_round_task(
            received,
            event,
            endpoint_id,
            tenant_endpoints.get(endpoint_id),
            deliveries.get(endpoint_id),
            snapshot,
            settings,
        )
        for endpoint_id in matched
    )
    return RecordPlan(
        received,
        RecordKind.EVENT,
        event=event,
        record=record,
        endpoint_ids=matched,
        tasks=tuple(task for task in tasks if task is not None),
        carried=carried,
    )


def _first_round_task(
    received: Received,
    event: Event,
    endpoint_id: str,
    endpoint: Endpoint | None,
    seen: Delivery | None,
    snapshot: Snapshot,
    settings: PlanSettings,
) -> PairTask | None:
    ref = DeliveryRef(event.tenant_id, event.event_id, endpoint_id)
    if seen is not None and (
        seen.status.final or seen.resend_held(settings.now) or seen.claim_held(settings.now)
    ):
        return None  # settled, or a resend or deliver job carries it (and holds its claim)
    base = PairTask(ref, event, endpoint, seen, Step.SPLIT)
    if endpoint is None:
        return replace(base, step=Step.FAIL, failure=FailureKind.ENDPOINT_DELETED)
    if not endpoint.enabled:
        return replace(base, step=Step.FAIL, failure=FailureKind.ENDPOINT_DISABLED)
    if seen is not None:
        # Stored before: a retry, owned by a deliver job (or it will be once this job hands it over).
        return replace(base, delay=max(0.0, (seen.next_attempt_at or settings.now) - settings.now))
    if event.ordering_key is not None:
        return base  # handed to its (endpoint, key) group, which attempts it when the key's turn comes
    gate, wait = Breaker.admit(snapshot.breakers.get((event.tenant_id, endpoint_id)), settings.now)
    if gate is Gate.WAIT:
        return replace(base, delay=wait)
    task = _send(base, endpoint, snapshot, settings, probe=gate is Gate.PROBE)
    if not settings.inline_budget.take(task):
        return base  # this invocation has sent all it safely can: a deliver job takes it at once
    return task


def plan_deliver(
    received: Received, job: DeliverJob, snapshot: Snapshot, settings: PlanSettings
) -> RecordPlan:
    record = snapshot.records.get((job.tenant_id, job.event_id))
    if record is None:
        return RecordPlan(received, RecordKind.DELIVER)  # expired or never written: nothing to deliver
    seen = record.deliveries.get(job.endpoint_id)
    carried: dict[str, Delivery] = {}
    for known in (job.known, snapshot.known.get((job.tenant_id, job.event_id, job.endpoint_id))):
        if known is not None and is_newer(known, seen):
            seen = carried[job.endpoint_id] = known
    ref = DeliveryRef.of(record, job.endpoint_id)
    if carried and seen is not None and not seen.status.final:
        # Write what was carried first; this job comes straight back to go on from it.
        task: PairTask | None = PairTask(
            ref, record.event, None, seen, Step.WAIT, resend_token=job.resend_token
        )
    else:
        endpoint = snapshot.endpoints.get(job.tenant_id, {}).get(job.endpoint_id)
        base = PairTask(
            ref, record.event, endpoint, seen, Step.DROP, resend_token=job.resend_token, waits=job.waits
        )
        task = _deliver_task(job, base, seen, endpoint, snapshot, settings)
    return RecordPlan(
        received,
        RecordKind.DELIVER,
        event=record.event,
        record=record,
        tasks=() if task is None else (task,),
        carried=carried,
    )


def _deliver_task(
    job: DeliverJob,
    base: PairTask,
    seen: Delivery | None,
    endpoint: Endpoint | None,
    snapshot: Snapshot,
    settings: PlanSettings,
) -> PairTask | None:
    """What a deliver job does with its pair now; None: nothing (the job is done with)."""
    now = settings.now
    if seen is None:
        return None
    owned_by_resend = seen.resend is not None and seen.resend.token == job.resend_token
    if job.resend_token is not None and not owned_by_resend:
        return None  # a resend that already ran, or one that was given up
    if job.resend_token is None and seen.resend_held(now):
        return None  # an operator's resend carries this delivery now
    if seen.status.final:
        return None
    if endpoint is None:
        return replace(base, step=Step.FAIL, failure=FailureKind.ENDPOINT_DELETED)
    if not endpoint.enabled:
        return replace(base, step=Step.FAIL, failure=FailureKind.ENDPOINT_DISABLED)
    if seen.round_attempts >= settings.schedule.max_attempts:
        return replace(base, step=Step.EXHAUST)
    if seen.next_attempt_at is not None and seen.next_attempt_at > now + 1:
        return replace(base, step=Step.WAIT, delay=seen.next_attempt_at - now)
    if seen.claim_held(now):
        return replace(base, step=Step.WAIT, delay=(seen.claim.until if seen.claim else now) - now + 1)
    gate, wait = Breaker.admit(snapshot.breakers.get((job.tenant_id, job.endpoint_id)), now)
    if gate is Gate.WAIT:
        return replace(base, step=Step.SPLIT, delay=wait)
    return replace(_send(base, endpoint, snapshot, settings, probe=gate is Gate.PROBE), claim=True)


def _send(
    base: PairTask, endpoint: Endpoint, snapshot: Snapshot, settings: PlanSettings, probe: bool
) -> PairTask:
    """An attempt now; to a slow endpoint, under a lease on one of its in-flight slots."""
    state = snapshot.breakers.get((endpoint.tenant_id, endpoint.endpoint_id))
    limit = endpoint.max_in_flight or settings.max_in_flight
    slow = state is not None and state.slow(settings.now)
    return replace(base, step=Step.SEND, probe=probe, lease_limit=limit if slow else None)


def _parsed(body: str) -> dict[str, object] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
