"""In-memory stand-ins for the stores, queues and sender that delivery depends on (``delivery.ports``).

They keep the same contracts as the DynamoDB/SQS/SNS classes — compare-and-swap on (status, attempts, claim
owner, resend token), per-entry batch failures — so the pipeline's decisions can be tested with a fake clock,
without moto or sockets. ``fail(name, times)`` makes the next calls of a method raise ``DependencyError``.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hookline.core.errors import DependencyError
from hookline.core.jobs import DeliverJob, EventJob, Job, decode_job, encode_job
from hookline.core.models import (
    AttemptOutcome,
    AttemptResult,
    BreakerState,
    DeadLetter,
    Delivery,
    DeliveryChange,
    DeliveryRef,
    Endpoint,
    EventRecord,
    FailureEntry,
    FailureKind,
    FanoutState,
)
from hookline.delivery.plan import Received, Snapshot
from hookline.delivery.recorder import Unrecorded
from hookline.storage.table import Item


class Faulty:
    """Mix-in: ``fail("swap", 2)`` makes the next two ``swap`` calls raise ``DependencyError``."""

    def __init__(self) -> None:
        self._failures: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)

    def fail(self, method: str, times: int = 1) -> None:
        self._failures[method] += times

    def _enter(self, method: str) -> None:
        self.calls[method] += 1
        if self._failures[method] > 0:
            self._failures[method] -= 1
            raise DependencyError(f"injected failure of {method}")


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _same(seen: Delivery | None, current: Delivery | None) -> bool:
    if seen is None or current is None:
        return seen is None and current is None
    return (
        seen.status is current.status
        and seen.attempts == current.attempts
        and (seen.claim.owner if seen.claim else None) == (current.claim.owner if current.claim else None)
        and (seen.resend.token if seen.resend else None) == (current.resend.token if current.resend else None)
    )


class FakeEventLog(Faulty):
    def __init__(self) -> None:
        super().__init__()
        self.records: dict[tuple[str, str], EventRecord] = {}
        self.failures: list[FailureEntry] = []
        self.writes = 0

    def create(self, record: EventRecord, expires_at: int, failures: Sequence[FailureEntry] = ()) -> bool:
        self._enter("create")
        key = (record.event.tenant_id, record.event.event_id)
        if key in self.records:
            return False
        self.records[key] = copy.deepcopy(record)
        self.failures.extend(failures)
        self.writes += 1
        return True

    def create_overflow_delivery(self, record: EventRecord, delivery: Delivery, expires_at: int) -> bool:
        self._enter("create_overflow_delivery")
        stored = self.records[(record.event.tenant_id, record.event.event_id)]
        if delivery.endpoint_id in stored.deliveries:
            return False
        stored.deliveries[delivery.endpoint_id] = delivery
        self.writes += 1
        return True

    def get(self, tenant_id: str, event_id: str) -> EventRecord | None:
        self._enter("get")
        record = self.records.get((tenant_id, event_id))
        return copy.deepcopy(record)

    def load(self, refs: Iterable[tuple[str, str, str | None]]) -> dict[tuple[str, str], EventRecord]:
        self._enter("load")
        return {(t, e): copy.deepcopy(self.records[(t, e)]) for t, e, _ in refs if (t, e) in self.records}

    def set_fanout(
        self, tenant_id: str, event_id: str, state: FanoutState, endpoint_ids: Sequence[str] | None = None
    ) -> None:
        self._enter("set_fanout")
        record = self.records[(tenant_id, event_id)]
        self.records[(tenant_id, event_id)] = replace(
            record,
            fanout=state,
            endpoint_ids=tuple(endpoint_ids) if endpoint_ids is not None else record.endpoint_ids,
        )
        self.writes += 1

    def swap(
        self,
        ref: DeliveryRef,
        seen: Delivery | None,
        new: Delivery,
        index_failure: FailureEntry | None = None,
        expires_at: int | None = None,
    ) -> bool:
        self._enter("swap")
        record = self.records.get((ref.tenant_id, ref.event_id))
        if record is None or not _same(seen, record.deliveries.get(ref.endpoint_id)):
            return False
        record.deliveries[ref.endpoint_id] = new
        if index_failure is not None:
            self.failures.append(index_failure)
        self.writes += 1
        return True

    def swap_many(self, tenant_id: str, event_id: str, changes: Sequence[DeliveryChange]) -> bool:
        self._enter("swap_many")
        record = self.records.get((tenant_id, event_id))
        if record is None or any(not _same(seen, record.deliveries.get(ep)) for ep, seen, _ in changes):
            return False
        for endpoint_id, _, new in changes:
            record.deliveries[endpoint_id] = new
        self.writes += 1
        return True

    def index_failure(self, entry: FailureEntry, expires_at: int) -> None:
        self._enter("index_failure")
        self.failures.append(entry)

    def failures_since(
        self, tenant_id: str, endpoint_id: str, since: str, limit: int, start: Item | None
    ) -> tuple[list[FailureEntry], Item | None]:
        self._enter("failures_since")
        matching = sorted(
            (f for f in self.failures if (f.tenant_id, f.endpoint_id) == (tenant_id, endpoint_id)),
            key=lambda f: f.sort_key,
        )
        matching = [f for f in matching if f.sort_key >= since]
        offset = int(start["offset"]) if start else 0
        page = matching[offset : offset + limit]
        more = offset + limit < len(matching)
        return page, ({"offset": offset + limit} if more else None)

    def forget_failures(self, entries: Sequence[FailureEntry]) -> None:
        self._enter("forget_failures")
        keys = {(e.tenant_id, e.endpoint_id, e.sort_key) for e in entries}
        self.failures = [f for f in self.failures if (f.tenant_id, f.endpoint_id, f.sort_key) not in keys]

    def delivery(self, tenant_id: str, event_id: str, endpoint_id: str) -> Delivery:
        return self.records[(tenant_id, event_id)].deliveries[endpoint_id]


class FakeJobs(Faulty):
    """A queue: what was sent (with delays), and the visibility given to received messages."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[Job, int]] = []
        self.visibility: list[tuple[str, int]] = []
        self.raw: list[str] = []
        self.refuse_entries = 0  # the next N batch entries are refused (per-entry failure)

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        self._enter("send")
        self.sent.append((job, delay_seconds))

    def send_batch(self, jobs: Sequence[tuple[Job, int]]) -> list[int]:
        self._enter("send_batch")
        refused: list[int] = []
        for index, (job, delay) in enumerate(jobs):
            if self.refuse_entries > 0:
                self.refuse_entries -= 1
                refused.append(index)
            else:
                self.sent.append((job, delay))
        return refused

    def send_bodies(self, bodies: Sequence[tuple[str, int]]) -> list[int]:
        readable = []
        for body, delay in bodies:
            try:
                readable.append((decode_job(body), delay))
            except ValueError:
                self.raw.append(body)  # an unreadable message, dead-lettered as it came
        return self.send_batch(readable)

    def change_visibility(self, receipts: Sequence[tuple[str, int]]) -> list[int]:
        self._enter("change_visibility")
        self.visibility.extend(receipts)
        return []

    def take(self) -> list[tuple[Job, int]]:
        sent, self.sent = self.sent, []
        return sent


class FakeDirectory(Faulty):
    def __init__(self) -> None:
        super().__init__()
        self.by_tenant: dict[str, dict[str, Endpoint]] = defaultdict(dict)

    def add(self, endpoint: Endpoint) -> Endpoint:
        self.by_tenant[endpoint.tenant_id][endpoint.endpoint_id] = endpoint
        return endpoint

    def endpoints(self, tenant_id: str) -> Mapping[str, Endpoint]:
        self._enter("endpoints")
        return dict(self.by_tenant[tenant_id])

    def forget(self, tenant_id: str) -> None:
        self.calls["forget"] += 1

    # EndpointWriter and EndpointReader
    def disable(self, tenant_id: str, endpoint_id: str, reason: str, now: str) -> bool:
        endpoint = self.by_tenant[tenant_id].get(endpoint_id)
        if endpoint is None or not endpoint.enabled:
            return False
        self.by_tenant[tenant_id][endpoint_id] = replace(endpoint, enabled=False, disabled_reason=reason)
        return True

    def get(self, tenant_id: str, endpoint_id: str) -> Endpoint | None:
        return self.by_tenant[tenant_id].get(endpoint_id)


class FakeBreakerStates(Faulty):
    def __init__(self) -> None:
        super().__init__()
        self.states: dict[tuple[str, str], BreakerState] = {}

    def record_failures(self, tenant_id: str, endpoint_id: str, failures: int, now: float) -> BreakerState:
        self._enter("record_failures")
        state = self.states.get((tenant_id, endpoint_id)) or BreakerState(tenant_id, endpoint_id)
        state = replace(
            state,
            consecutive_failures=state.consecutive_failures + failures,
            failing_since=state.failing_since if state.failing_since is not None else now,
        )
        self.states[(tenant_id, endpoint_id)] = state
        return state

    def open(self, tenant_id: str, endpoint_id: str, now: float, until: float) -> bool:
        self._enter("open")
        state = self.states[(tenant_id, endpoint_id)]
        first = not state.alerted_failing
        self.states[(tenant_id, endpoint_id)] = replace(
            state, open_until=until, opened_at=now, probe_until=None, alerted_failing=True
        )
        return first

    def acquire_probe(self, tenant_id: str, endpoint_id: str, now: float, lease_until: float) -> bool:
        self._enter("acquire_probe")
        state = self.states.get((tenant_id, endpoint_id))
        if state is None or state.open_until is None or state.open_until > now:
            return False
        if state.probe_until is not None and state.probe_until >= now:
            return False
        self.states[(tenant_id, endpoint_id)] = replace(state, probe_until=lease_until)
        return True

    def close(self, tenant_id: str, endpoint_id: str, success_started_at: float) -> BreakerState | None:
        self._enter("close")
        state = self.states.get((tenant_id, endpoint_id))
        if state is None or (state.opened_at is not None and state.opened_at >= success_started_at):
            return None
        if state.slow_until is not None and state.slow_until >= success_started_at:
            # Still slow: as the store does, forget only the failure streak (found by the store contracts).
            self.states[(tenant_id, endpoint_id)] = BreakerState(
                tenant_id, endpoint_id, slow_until=state.slow_until
            )
        else:
            del self.states[(tenant_id, endpoint_id)]
        return state

    def clear(self, tenant_id: str, endpoint_id: str) -> None:
        self.states.pop((tenant_id, endpoint_id), None)

    def mark_slow(self, tenant_id: str, endpoint_id: str, until: float) -> None:
        self._enter("mark_slow")
        state = self.states.get((tenant_id, endpoint_id)) or BreakerState(tenant_id, endpoint_id)
        self.states[(tenant_id, endpoint_id)] = replace(state, slow_until=until)


class FakeInFlight(Faulty):
    """In-flight leases per endpoint, as the DynamoDB store keeps them (expired leases are reclaimed)."""

    def __init__(self) -> None:
        super().__init__()
        self.holders: dict[tuple[str, str], dict[str, float]] = {}
        self.taken = 0
        self._lock = threading.Lock()

    def acquire(self, tenant_id: str, endpoint_id: str, limit: int, now: float, until: float) -> str | None:
        self._enter("acquire")
        with self._lock:
            live = {t: u for t, u in self.holders.get((tenant_id, endpoint_id), {}).items() if u >= now}
            if len(live) >= limit:
                return None
            self.taken += 1
            token = f"lease-{self.taken}"
            self.holders[(tenant_id, endpoint_id)] = live | {token: until}
            return token

    def release(self, tenant_id: str, endpoint_id: str, token: str) -> None:
        self._enter("release")
        with self._lock:
            self.holders.get((tenant_id, endpoint_id), {}).pop(token, None)


class FakeRateSlots(Faulty):
    def __init__(self) -> None:
        super().__init__()
        self.slots: dict[tuple[str, str], float] = {}

    def next_slot(self, tenant_id: str, endpoint_id: str) -> float | None:
        self._enter("next_slot")
        return self.slots.get((tenant_id, endpoint_id))

    def claim(
        self, tenant_id: str, endpoint_id: str, seen: float | None, next_slot: float, expires_at: int
    ) -> bool:
        self._enter("claim")
        if self.slots.get((tenant_id, endpoint_id)) != seen:
            return False
        self.slots[(tenant_id, endpoint_id)] = next_slot
        return True


Answer = AttemptResult | Exception
Script = Callable[[str, bytes, Mapping[str, str]], Answer]


def ok(status: int = 200) -> AttemptResult:
    return AttemptResult(AttemptOutcome.SUCCEEDED, 5, status_code=status)


def failed(status: int = 500, retry_after: float | None = None) -> AttemptResult:
    outcome = AttemptOutcome.GONE if status == 410 else AttemptOutcome.RETRY
    return AttemptResult(
        outcome,
        5,
        status_code=status,
        failure=FailureKind.HTTP_STATUS,
        message=f"HTTP {status}",
        retry_after_seconds=retry_after,
    )


@dataclass
class SentRequest:
    url: str
    body: bytes
    headers: Mapping[str, str]


class FakeSender:
    """Answers by URL: a fixed answer, a list played in turn (the last repeats), or a function."""

    def __init__(self, timeout_seconds: float = 15.0) -> None:
        self.answers: dict[str, Answer | list[Answer] | Script] = {}
        self.requests: list[SentRequest] = []
        self.limits: list[float | None] = []  # each send's own limit (None: the sender's timeout)
        self._timeout = timeout_seconds

    @property
    def timeout_seconds(self) -> float:
        return self._timeout

    def answer(self, url: str, *answers: Answer) -> None:
        self.answers[url] = list(answers)

    def send(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout_seconds: float | None = None
    ) -> AttemptResult:
        self.requests.append(SentRequest(url, body, dict(headers)))
        self.limits.append(timeout_seconds)
        answer = self.answers.get(url, ok())
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        elif callable(answer) and not isinstance(answer, AttemptResult | Exception):
            answer = answer(url, body, headers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def to(self, url: str) -> list[SentRequest]:
        return [r for r in self.requests if r.url == url]


@dataclass
class FakeAlerts:
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def endpoint_changed(self, kind: str, endpoint: Endpoint, details: dict[str, Any]) -> None:
        self.sent.append((kind, endpoint.endpoint_id, details))


class FakeTopic(Faulty):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def publish(self, subject: str, message: dict[str, Any], attributes: dict[str, str]) -> None:
        self._enter("publish")
        self.published.append((subject, message, attributes))


class FakeDeadLetters(Faulty):
    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[str, DeadLetter] = {}

    def keep(self, letter: DeadLetter, expires_at: int) -> None:
        self._enter("keep")
        self.kept[letter.key] = letter

    def page(self, limit: int, start: Item | None) -> tuple[list[DeadLetter], Item | None]:
        keys = sorted(self.kept)
        offset = int(start["offset"]) if start else 0
        more = offset + limit < len(keys)
        return [self.kept[k] for k in keys[offset : offset + limit]], (
            {"offset": offset + limit} if more else None
        )

    def forget(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.kept.pop(key, None)


class FakeLoader(Faulty):
    """Loads what ``SnapshotLoader`` would: records for repeats and deliver jobs, the tenants' endpoints, and
    breaker states, from the fakes."""

    def __init__(
        self, log: FakeEventLog, directory: FakeDirectory, breakers: FakeBreakerStates, unrecorded: Unrecorded
    ) -> None:
        super().__init__()
        self._log = log
        self._directory = directory
        self._breakers = breakers
        self._unrecorded = unrecorded

    def forget_breakers(self, keys: Iterable[tuple[str, str]]) -> None:
        self.calls["forget_breakers"] += 1

    def load(self, received: Sequence[Received]) -> Snapshot:
        self._enter("load")
        endpoints: dict[str, dict[str, Endpoint]] = {}
        unloadable: set[int] = set()
        for r in received:
            tenant_id = getattr(r.job, "tenant_id", None)
            if tenant_id is None or tenant_id in endpoints:
                continue
            try:
                endpoints[tenant_id] = dict(self._directory.endpoints(tenant_id))
            except DependencyError:
                unloadable |= {x.index for x in received if getattr(x.job, "tenant_id", None) == tenant_id}
        wanted = set()
        for r in received:
            job = r.job
            if isinstance(job, DeliverJob) or (
                isinstance(job, EventJob) and (job.read_first or job.body is None or r.receive_count > 1)
            ):
                wanted.add((job.tenant_id, job.event_id))
        return Snapshot(
            records={key: copy.deepcopy(rec) for key, rec in self._log.records.items() if key in wanted},
            endpoints=endpoints,
            breakers=dict(self._breakers.states),
            unloadable=frozenset(unloadable),
            known=self._unrecorded.snapshot(),
        )


def sqs_record(
    job: Job | str, message_id: str = "m1", receive_count: int = 1, group: str | None = None
) -> dict[str, Any]:
    """A record of the delivery queue's event source; with ``group``, of the ordered (FIFO) queue's."""
    body = job if isinstance(job, str) else encode_job(job)
    record: dict[str, Any] = {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:hookline-deliveries",
    }
    if group is not None:
        record["attributes"]["MessageGroupId"] = group
        record["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:hookline-ordered.fifo"
    return record
