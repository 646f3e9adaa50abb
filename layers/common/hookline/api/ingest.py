"""Accepting events: one, a batch, or a test send. No DynamoDB write on the common path.

An accepted event is one ``EventJob`` on the delivery queue carrying the whole event, with the caller's
``traceparent`` when it sent a valid one (``DelaySeconds`` = the retry schedule's first delay); dispatch
matches endpoints and writes the record. The tenant's existence is checked against a per-container cache
(``KnownTenants``), and so is the event's type in the catalog (``EventTypeCatalog``; its schema compiled
once per container). Only two things write first:

- a job too large for an SQS message: the record is written (fan-out pending) and the job carries no body;
- an ``Idempotency-Key``: one conditional write claims the key (``pending``) with the answer (event id, type,
  timestamp) and a digest of the body; once the job is queued, the claim is marked ``sent``. If the job
  cannot be queued, the claim is released and the caller gets a 503 to retry (a retry makes a new event).

A repeat answers only what is final. It finds a ``sent`` claim: the first answer. It finds a ``pending``
one: it waits for the holder's outcome (about 2 s at most): ``sent`` gives the first answer, a released key is
claimed anew, and a holder still running gives 409 ``idempotency_in_progress`` with ``Retry-After``. It never
answers an event id that may not exist. A different body under the same key is a 422. In a batch, the first
item with a key (in input order) claims it; later items with the same key get that item's result.

A claim whose event never got recorded is healed by the next repeat: a claim left ``pending`` for a minute
(its request died between claim and send, or before marking it), or a ``sent`` claim older than the first
delivery delay plus a minute with no record, is sent again with ``read_first`` (dispatch then treats it as a
possible duplicate).

An event with a future ``deliver_at`` is held instead of queued (``api.delayed``): its origin item is the
one write it costs.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

from hookline.api import binding
from hookline.api.delayed import Delay, DelayedEvents, parse_deliver_at
from hookline.api.event_types import EventTypeGate
from hookline.api.models import BatchEventIn, BatchIn, EndpointTestIn, EventIn, check_idempotency_key
from hookline.api.tenants import KnownTenants
from hookline.api.views import BatchAccepted, BatchFailed, BatchOut, ErrorDetail, EventAccepted
from hookline.core import clock, ids, jsonsafe
from hookline.core.config import IngestSettings
from hookline.core.errors import (
    ApiError,
    DependencyError,
    IdempotencyInProgressError,
    InvalidRequestError,
    UnprocessableError,
)
from hookline.core.jobs import EventJob, encode_job
from hookline.core.models import Event, EventRecord, FanoutState
from hookline.observability import logger
from hookline.storage.event_log import EventLog
from hookline.storage.idempotency import IdempotencyRecord, IdempotencyStore
from hookline.storage.queue import DeliveryQueues

SPILL_BYTES = 200_000  # a job larger than this travels without its body (SQS's limit is 256 KiB)
REPEAT_GRACE_SECONDS = 60
HOLDER_WAIT_SECONDS = 2.0  # how long a repeat waits for the outcome of the request holding its key
HOLDER_POLL_SECONDS = 0.05  # first pause between reads of the claim (doubling, at most 0.4 s)
# A claim still pending after this long belongs to a request that died: API Gateway gives up after 29 s.
STALE_CLAIM_SECONDS = 60
_CLAIM_ROUNDS = 3  # claim, find it released by a failed holder, claim again...


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An event ready to queue: its job, and the idempotency claim it holds (if any)."""

    event: Event
    job: EventJob
    delay: int
    claim: IdempotencyRecord | None = None  # marked sent once the job is queued
    owns_claim: bool = False  # this request made the claim: released if the job cannot be queued
    held: Delay | None = None  # a delayed event: held until then instead of queued


class IngestService:
    def __init__(
        self,
        settings: IngestSettings,
        tenants: KnownTenants,
        idempotency: IdempotencyStore,
        log: EventLog,
        queue: DeliveryQueues,
        pool: Executor,
        event_types: EventTypeGate,
        delayed: DelayedEvents,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._delayed = delayed
        self._settings = settings
        self._event_types = event_types
        self._tenants = tenants
        self._idempotency = idempotency
        self._log = log
        self._queue = queue
        self._pool = pool
        self._clock = clock
        self._sleep = sleep

    # --- one event ------------------------------------------------------------------------------------

    def accept(
        self,
        tenant_id: str,
        request: EventIn,
        idempotency_key: str | None,
        traceparent: str | None = None,
    ) -> EventAccepted:
        if idempotency_key is not None:
            try:
                check_idempotency_key(idempotency_key)
            except ValueError as exc:
                raise InvalidRequestError(f"Idempotency-Key: {exc}") from None
        echo, delay = parse_deliver_at(request.deliver_at, time.time())
        self._tenants.require(tenant_id)
        prepared, answer = self._prepare(
            tenant_id, request.type, request.data, idempotency_key, traceparent, request.ordering_key, delay
        )
        if echo is not None:
            answer["deliver_at"] = echo
        if prepared is None:
            return answer
        try:
            if prepared.held is not None:
                self._delayed.hold(prepared.job, prepared.held)
            else:
                self._queue.send(prepared.job, prepared.delay)
        except DependencyError:
            self._release(prepared)
            raise
        self._confirm(prepared)
        return answer

    def test_send(self, tenant_id: str, endpoint_id: str, request: EndpointTestIn) -> EventAccepted:
        """An event for one endpoint, past its type and content filters, through the normal path. A type
        named without data sends that type's first catalog example (or the built-in one)."""
        data = request.data
        if "type" in request.model_fields_set and "data" not in request.model_fields_set:
            data = self._event_types.first_example(request.type) or data
        # A test send may use a type outside the catalog (webhook.test), but never data its schema refuses.
        self._event_types.check(request.type, data, registered_only=False)
        prepared = self._prepared(self._event(tenant_id, request.type, data), only_endpoint=endpoint_id)
        self._queue.send(prepared.job, prepared.delay)
        return _accepted(prepared.event)

    # --- a batch --------------------------------------------------------------------------------------

    def accept_batch(self, tenant_id: str, request: BatchIn, traceparent: str | None = None) -> BatchOut:
        """Every item is validated, claimed and queued on its own: one bad item never fails another. The
        request's trace context goes with every event of the batch."""
        self._tenants.require(tenant_id)
        results: list[BatchAccepted | BatchFailed | None] = [None] * len(request.events)
        valid: list[tuple[int, BatchEventIn]] = []
        for index, item in enumerate(request.events):
            try:
                valid.append((index, binding.validate(BatchEventIn, item, path=f"events[{index}]")))
            except ApiError as exc:
                results[index] = _failed(exc)

        # The first item with a key claims it, in input order; later ones get its result, never a race.
        firsts: dict[str, int] = {}
        repeats: list[tuple[int, int, BatchEventIn]] = []
        claiming: list[tuple[int, BatchEventIn]] = []
        for index, item in valid:
            key = item.idempotency_key
            if key is not None and key in firsts:
                repeats.append((index, firsts[key], item))
                continue
            if key is not None:
                firsts[key] = index
            claiming.append((index, item))

        def prepare(entry: tuple[int, BatchEventIn]) -> tuple[int, _Prepared | None, EventAccepted]:
            index, item = entry
            echo, delay = parse_deliver_at(item.deliver_at, time.time())
            prepared, answer = self._prepare(
                tenant_id, item.type, item.data, item.idempotency_key, traceparent, item.ordering_key, delay
            )
            if prepared is not None and prepared.held is not None:
                try:
                    self._delayed.hold(prepared.job, prepared.held)
                except DependencyError:
                    self._release(prepared)
                    raise
                self._confirm(prepared)
                prepared = None  # held: nothing more to queue now
            if echo is not None:
                answer["deliver_at"] = echo
            return index, prepared, answer

        to_send: list[tuple[int, _Prepared]] = []
        for index, outcome in self._each(prepare, claiming):
            if isinstance(outcome, BaseException):
                results[index] = _failed(outcome)
                continue
            _, prepared, answer = outcome
            accepted = BatchAccepted(
                status=202, id=answer["id"], type=answer["type"], timestamp=answer["timestamp"]
            )
            if "deliver_at" in answer:
                accepted["deliver_at"] = answer["deliver_at"]
            results[index] = accepted
            if prepared is not None:
                to_send.append((index, prepared))
        refused = set(self._queue.send_batch([(p.job, p.delay) for _, p in to_send])) if to_send else set()
        for position in sorted(refused):
            index, prepared = to_send[position]
            self._release(prepared)
            results[index] = _failed(DependencyError("the event could not be queued"))
        queued = [prepared for position, (_, prepared) in enumerate(to_send) if position not in refused]
        list(self._pool.map(self._confirm, [p for p in queued if p.claim is not None]))
        by_index = dict(valid)
        for index, first, item in repeats:
            earlier = by_index[first]
            same_body = _body_digest(item.type, item.data, item.ordering_key) == _body_digest(
                earlier.type, earlier.data, earlier.ordering_key
            )
            results[index] = results[first] if same_body else _failed(_key_reused())
        return BatchOut(data=[result for result in results if result is not None])

    def _each(self, work: Any, entries: Sequence[tuple[int, BatchEventIn]]) -> list[tuple[int, Any]]:
        """Run ``work`` over the entries concurrently; a failure is that entry's result, not the batch's."""
        futures = [(index, self._pool.submit(work, (index, item))) for index, item in entries]
        outcomes: list[tuple[int, Any]] = []
        for index, future in futures:
            try:
                outcomes.append((index, future.result()))
            except (ApiError, DependencyError) as exc:
                outcomes.append((index, exc))
        return outcomes

    # --- the shared steps -----------------------------------------------------------------------------

    def _prepare(
        self,
        tenant_id: str,
        event_type: str,
        data: dict[str, Any],
        idempotency_key: str | None,
        traceparent: str | None = None,
        ordering_key: str | None = None,
        delay: Delay | None = None,
    ) -> tuple[_Prepared | None, EventAccepted]:
        """The event to queue (or hold, when it has a ``deliver_at``) and its answer; with a key already used
        for this body, nothing to queue (or a healing resend) and the first answer, once that answer is
        final."""
        self._event_types.check(event_type, data)
        due_at = None if delay is None else delay.due_at
        event = self._event(tenant_id, event_type, data, traceparent, ordering_key, due_at)
        if idempotency_key is None:
            return self._prepared(event, held=delay), _accepted(event)
        claim = IdempotencyRecord(
            tenant_id=tenant_id,
            key_digest=hashlib.sha256(idempotency_key.encode()).hexdigest(),
            body_digest=_body_digest(event_type, data, ordering_key),
            event_id=event.event_id,
            event_type=event.event_type,
            timestamp=event.timestamp,
            created_at=self._clock(),
        )
        for _ in range(_CLAIM_ROUNDS):
            holder = self._idempotency.claim(claim)
            if holder is None:
                return self._prepared(event, claim=claim, owns_claim=True, held=delay), _accepted(event)
            if holder.body_digest != claim.body_digest:
                raise _key_reused()
            settled = self._holder_outcome(holder)
            if settled is not None:
                return self._repeat(settled, data, event)
            claim = replace(claim, created_at=self._clock())  # the holder failed and let go: claim anew
        raise IdempotencyInProgressError(_IN_PROGRESS)

    def _holder_outcome(self, holder: IdempotencyRecord) -> IdempotencyRecord | None:
        """The holder's claim once its answer is final (or its request died): None when it let the key go."""
        deadline = self._clock() + HOLDER_WAIT_SECONDS
        pause = HOLDER_POLL_SECONDS
        current = holder
        while not current.sent and self._clock() - current.created_at < STALE_CLAIM_SECONDS:
            if self._clock() >= deadline:
                raise IdempotencyInProgressError(_IN_PROGRESS)
            self._sleep(pause)
            pause = min(pause * 2, 0.4)
            found = self._idempotency.read(holder.tenant_id, holder.key_digest)
            if found is None or found.event_id != holder.event_id:
                return None
            current = found
        return current

    def _repeat(
        self, holder: IdempotencyRecord, data: dict[str, Any], request: Event
    ) -> tuple[_Prepared | None, EventAccepted]:
        first = Event(
            holder.tenant_id,
            holder.event_id,
            holder.event_type,
            holder.timestamp,
            _body(holder.event_type, holder.timestamp, data),
            traceparent=request.traceparent,
            ordering_key=request.ordering_key,
        )
        answer = _accepted(first)
        if not holder.sent:  # its request died after claiming: send it (again), then the answer is final
            return self._prepared(first, claim=holder, read_first=True), answer
        if self._needs_healing(holder):
            return self._prepared(first, read_first=True), answer
        return None, answer

    def _needs_healing(self, holder: IdempotencyRecord) -> bool:
        if (ids.event_id_unix_seconds(holder.event_id) or 0.0) > time.time():
            return False  # a delayed event: its release job sends it when it is due
        first_delay = self._settings.retry_schedule.delays[0]
        if self._clock() - holder.created_at < first_delay + REPEAT_GRACE_SECONDS:
            return False
        return self._log.get(holder.tenant_id, holder.event_id) is None

    def _event(
        self,
        tenant_id: str,
        event_type: str,
        data: dict[str, Any],
        traceparent: str | None = None,
        ordering_key: str | None = None,
        due_at: float | None = None,
    ) -> Event:
        if due_at is None:
            timestamp, event_id = clock.now_iso(), ids.new_event_id()
        else:
            timestamp, event_id = clock.iso_from_unix(due_at), ids.new_event_id_at(due_at)
        return Event(
            tenant_id,
            event_id,
            event_type,
            timestamp,
            _body(event_type, timestamp, data),
            traceparent=traceparent,
            ordering_key=ordering_key,
        )

    def _prepared(
        self,
        event: Event,
        claim: IdempotencyRecord | None = None,
        only_endpoint: str | None = None,
        read_first: bool = False,
        owns_claim: bool = False,
        held: Delay | None = None,
    ) -> _Prepared:
        job = EventJob(
            event.tenant_id,
            event.event_id,
            event.event_type,
            event.timestamp,
            event.body,
            only_endpoint=only_endpoint,
            read_first=read_first,
            ordering_key=event.ordering_key,
            traceparent=event.traceparent,
        )
        if len(encode_job(job).encode()) > SPILL_BYTES:
            record = EventRecord(
                event, FanoutState.PENDING, None, {}, overflow=True, only_endpoint=only_endpoint
            )
            self._log.create(record, clock.event_expiry(event.event_id, self._settings.retention_days))
            job = EventJob(
                event.tenant_id,
                event.event_id,
                event.event_type,
                event.timestamp,
                None,
                only_endpoint=only_endpoint,
                read_first=True,
                ordering_key=event.ordering_key,
                traceparent=event.traceparent,
            )
        return _Prepared(event, job, self._settings.retry_schedule.delays[0], claim, owns_claim, held)

    def _release(self, prepared: _Prepared) -> None:
        """Let the key go after a failed send, if this request claimed it (an id of a dead holder's claim
        may have been answered already, so that claim stays for the next repeat to heal)."""
        if prepared.claim is not None and prepared.owns_claim:
            self._idempotency.release(
                prepared.claim.tenant_id, prepared.claim.key_digest, prepared.event.event_id
            )

    def _confirm(self, prepared: _Prepared) -> None:
        """Mark the claim sent. The event is queued whatever happens here: if this write fails, the claim
        stays pending and the next repeat heals it (a resend dispatch recognises)."""
        claim = prepared.claim
        if claim is None or claim.sent:
            return
        try:
            self._idempotency.mark_sent(claim.tenant_id, claim.key_digest, claim.event_id)
        except DependencyError as exc:
            logger.warning("an idempotency claim could not be confirmed", extra={"reason": str(exc)})


_IN_PROGRESS = "another request with this Idempotency-Key is still being accepted; retry after Retry-After"


def _key_reused() -> UnprocessableError:
    return UnprocessableError("this Idempotency-Key was already used with a different request body")


def _body(event_type: str, timestamp: str, data: dict[str, Any]) -> str:
    return jsonsafe.dumps({"type": event_type, "timestamp": timestamp, "data": data})


def _body_digest(event_type: str, data: dict[str, Any], ordering_key: str | None = None) -> str:
    request: dict[str, Any] = {"type": event_type, "data": data}
    if ordering_key is not None:  # absent otherwise, so digests of keys claimed before ordering still match
        request["ordering_key"] = ordering_key
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _accepted(event: Event) -> EventAccepted:
    return EventAccepted(id=event.event_id, type=event.event_type, timestamp=event.timestamp)


def _failed(exc: BaseException) -> BatchFailed:
    if isinstance(exc, ApiError):
        return BatchFailed(status=exc.status, error=ErrorDetail(code=exc.code, message=exc.message))
    return BatchFailed(
        status=503,
        error=ErrorDetail(code="service_unavailable", message="a backing service failed; retry it"),
    )
