"""Accepting events: one, a batch, or a test send. No DynamoDB write on the common path.

An accepted event is one ``EventJob`` on the delivery queue carrying the whole event (``DelaySeconds`` = the
retry schedule's first delay); dispatch matches endpoints and writes the record. The tenant's existence is
checked against a per-container cache (``KnownTenants``). Only two things write first:

- a job too large for an SQS message: the record is written (fan-out pending) and the job carries no body;
- an ``Idempotency-Key``: one conditional write claims the key with the answer (event id, type, timestamp)
  and a digest of the body. A repeat gets that answer; a different body under the same key is a 422. If
  the job cannot be queued, the claim is released and the caller gets a 503 to retry.

An event with a future ``deliver_at`` is held instead of queued (``api.delayed``): its origin item is the
one write it costs.

A claim whose event never got recorded (the first request died between claim and send) is healed by the
next repeat: once the claim is older than the first delivery delay plus a minute and no record exists, the
job is sent again with ``read_first`` (dispatch then treats it as a possible duplicate).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from hookline.api import binding
from hookline.api.delayed import Delay, DelayedEvents, parse_deliver_at
from hookline.api.models import BatchEventIn, BatchIn, EndpointTestIn, EventIn, check_idempotency_key
from hookline.api.tenants import KnownTenants
from hookline.api.views import BatchAccepted, BatchFailed, BatchOut, ErrorDetail, EventAccepted
from hookline.core import clock, ids, jsonsafe
from hookline.core.config import IngestSettings
from hookline.core.errors import ApiError, DependencyError, InvalidRequestError, UnprocessableError
from hookline.core.jobs import EventJob, encode_job
from hookline.core.models import Event, EventRecord, FanoutState
from hookline.storage.event_log import EventLog
from hookline.storage.idempotency import IdempotencyRecord, IdempotencyStore
from hookline.storage.queue import JobQueue
from hookline.storage.table import retention_expiry

SPILL_BYTES = 200_000  # a job larger than this travels without its body (SQS's limit is 256 KiB)
REPEAT_GRACE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An event ready to queue: its job, and the idempotency claim it holds (if any)."""

    event: Event
    job: EventJob
    delay: int
    claim: IdempotencyRecord | None = None
    held: Delay | None = None  # a delayed event: held until then instead of queued


class IngestService:
    def __init__(
        self,
        settings: IngestSettings,
        tenants: KnownTenants,
        idempotency: IdempotencyStore,
        log: EventLog,
        queue: JobQueue,
        pool: Executor,
        delayed: DelayedEvents,
    ) -> None:
        self._delayed = delayed
        self._settings = settings
        self._tenants = tenants
        self._idempotency = idempotency
        self._log = log
        self._queue = queue
        self._pool = pool

    # --- one event ------------------------------------------------------------------------------------

    def accept(self, tenant_id: str, request: EventIn, idempotency_key: str | None) -> EventAccepted:
        if idempotency_key is not None:
            try:
                check_idempotency_key(idempotency_key)
            except ValueError as exc:
                raise InvalidRequestError(f"Idempotency-Key: {exc}") from None
        echo, delay = parse_deliver_at(request.deliver_at, time.time())
        self._tenants.require(tenant_id)
        prepared, answer = self._prepare(tenant_id, request.type, request.data, idempotency_key, delay)
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
        return answer

    def test_send(self, tenant_id: str, endpoint_id: str, request: EndpointTestIn) -> EventAccepted:
        """An event for one endpoint, past its type and content filters, through the normal path."""
        prepared = self._prepared(
            self._event(tenant_id, request.type, request.data), only_endpoint=endpoint_id
        )
        self._queue.send(prepared.job, prepared.delay)
        return _accepted(prepared.event)

    # --- a batch --------------------------------------------------------------------------------------

    def accept_batch(self, tenant_id: str, request: BatchIn) -> BatchOut:
        """Every item is validated, claimed and queued on its own: one bad item never fails another."""
        self._tenants.require(tenant_id)
        results: list[BatchAccepted | BatchFailed | None] = [None] * len(request.events)
        valid: list[tuple[int, BatchEventIn]] = []
        for index, item in enumerate(request.events):
            try:
                valid.append((index, binding.validate(BatchEventIn, item, path=f"events[{index}]")))
            except ApiError as exc:
                results[index] = _failed(exc)

        def prepare(entry: tuple[int, BatchEventIn]) -> tuple[int, _Prepared | None, EventAccepted]:
            index, item = entry
            echo, delay = parse_deliver_at(item.deliver_at, time.time())
            prepared, answer = self._prepare(tenant_id, item.type, item.data, item.idempotency_key, delay)
            if prepared is not None and prepared.held is not None:
                try:
                    self._delayed.hold(prepared.job, prepared.held)
                except DependencyError:
                    self._release(prepared)
                    raise
                prepared = None  # held: nothing more to queue now
            if echo is not None:
                answer["deliver_at"] = echo
            return index, prepared, answer

        to_send: list[tuple[int, _Prepared]] = []
        for index, outcome in self._each(prepare, valid):
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
        refused = set(self._queue.send_batch([(p.job, p.delay) for _, p in to_send]))
        for position in sorted(refused):
            index, prepared = to_send[position]
            self._release(prepared)
            results[index] = _failed(DependencyError("the event could not be queued"))
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
        delay: Delay | None = None,
    ) -> tuple[_Prepared | None, EventAccepted]:
        """The event to queue and its answer; with a key already used for this body, nothing to queue (or a
        healing resend) and the first answer."""
        event = self._event(tenant_id, event_type, data, None if delay is None else delay.due_at)
        if idempotency_key is None:
            return self._prepared(event, held=delay), _accepted(event)
        claim = IdempotencyRecord(
            tenant_id=tenant_id,
            key_digest=hashlib.sha256(idempotency_key.encode()).hexdigest(),
            body_digest=_body_digest(event_type, data),
            event_id=event.event_id,
            event_type=event.event_type,
            timestamp=event.timestamp,
            created_at=time.time(),
        )
        holder = self._idempotency.claim(claim)
        if holder is None:
            return self._prepared(event, claim=claim, held=delay), _accepted(event)
        if holder.body_digest != claim.body_digest:
            raise UnprocessableError("this Idempotency-Key was already used with a different request body")
        first = Event(
            tenant_id,
            holder.event_id,
            holder.event_type,
            holder.timestamp,
            _body(holder.event_type, holder.timestamp, data),
        )
        answer = _accepted(first)
        if self._needs_healing(holder):
            return self._prepared(first, read_first=True), answer
        return None, answer

    def _needs_healing(self, holder: IdempotencyRecord) -> bool:
        if (ids.event_id_unix_seconds(holder.event_id) or 0.0) > time.time():
            return False  # a delayed event: its release job sends it when it is due
        first_delay = self._settings.retry_schedule.delays[0]
        if time.time() - holder.created_at < first_delay + REPEAT_GRACE_SECONDS:
            return False
        return self._log.get(holder.tenant_id, holder.event_id) is None

    def _event(
        self, tenant_id: str, event_type: str, data: dict[str, Any], due_at: float | None = None
    ) -> Event:
        if due_at is None:
            timestamp, event_id = clock.now_iso(), ids.new_event_id()
        else:
            timestamp, event_id = clock.iso_from_unix(due_at), ids.new_event_id_at(due_at)
        return Event(tenant_id, event_id, event_type, timestamp, _body(event_type, timestamp, data))

    def _prepared(
        self,
        event: Event,
        claim: IdempotencyRecord | None = None,
        only_endpoint: str | None = None,
        read_first: bool = False,
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
        )
        if len(encode_job(job).encode()) > SPILL_BYTES:
            record = EventRecord(
                event, FanoutState.PENDING, None, {}, overflow=True, only_endpoint=only_endpoint
            )
            self._log.create(record, retention_expiry(self._settings.retention_days))
            job = EventJob(
                event.tenant_id,
                event.event_id,
                event.event_type,
                event.timestamp,
                None,
                only_endpoint=only_endpoint,
                read_first=True,
            )
        return _Prepared(event, job, self._settings.retry_schedule.delays[0], claim, held)

    def _release(self, prepared: _Prepared) -> None:
        if prepared.claim is not None:
            self._idempotency.release(
                prepared.claim.tenant_id, prepared.claim.key_digest, prepared.event.event_id
            )


def _body(event_type: str, timestamp: str, data: dict[str, Any]) -> str:
    return jsonsafe.dumps({"type": event_type, "timestamp": timestamp, "data": data})


def _body_digest(event_type: str, data: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"type": event_type, "data": data}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
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
