"""The load step: everything a batch needs, in one BatchGetItem, with a per-record fallback.

Event jobs on their first receive read nothing from the table: the job carries the event, and the record does
not exist yet. Only repeats (a second receive, a replacement job, an event too large for its message) and
deliver jobs read records. Breaker states are read for the endpoints the batch will send to.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from hookline.core.cache import BoundedCache, Missing
from hookline.core.errors import HooklineError
from hookline.core.jobs import DeliverJob, EventJob, Job
from hookline.core.models import BreakerState, Endpoint, Event, EventRecord
from hookline.core.ports import BatchReads, RecordReads
from hookline.delivery.plan import Received, Snapshot, matching_endpoints, needs_overflow
from hookline.delivery.recorder import Unrecorded
from hookline.observability import logger
from hookline.storage.endpoints import EndpointDirectory

RecordKey = tuple[str, str]
BREAKER_CACHE_SECONDS = 2.0  # breaker states opened by other containers reach this one within this time
MAX_CACHED_BREAKERS = 20_000  # a few hundred bytes each: at most a few MB, least recently used first out


class SnapshotLoader:
    def __init__(
        self,
        reads: BatchReads,
        directory: EndpointDirectory,
        unrecorded: Unrecorded,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reads = reads
        self._directory = directory
        self._unrecorded = unrecorded
        # Breaker state per endpoint (None: no state) as last read, so a busy container reads each endpoint's
        # at most every BREAKER_CACHE_SECONDS instead of once per batch.
        self._breakers: BoundedCache[tuple[str, str], BreakerState | None] = BoundedCache(
            MAX_CACHED_BREAKERS, BREAKER_CACHE_SECONDS, monotonic=monotonic
        )

    def forget_breakers(self, keys: Iterable[tuple[str, str]]) -> None:
        """This container changed these breakers: read them again next time."""
        for key in keys:
            self._breakers.pop(key)

    def _cached_breaker(
        self, key: tuple[str, str], fresh: dict[tuple[str, str], BreakerState | None]
    ) -> bool:
        """Whether the breaker's state is cached (it goes into ``fresh`` then), so it need not be read."""
        if key in fresh:
            return True
        cached = self._breakers.get(key)
        if isinstance(cached, Missing):
            return False
        fresh[key] = cached
        return True

    def load(self, received: Sequence[Received]) -> Snapshot:
        endpoints: dict[str, dict[str, Endpoint]] = {}
        unloadable: set[int] = set()
        for tenant_id in {_tenant(r.job) for r in received if r.job is not None} - {None}:
            assert tenant_id is not None
            try:
                endpoints[tenant_id] = self._directory.endpoints(tenant_id)
            except HooklineError as exc:
                logger.warning("could not read a tenant's endpoints", extra={"reason": str(exc)})
                unloadable |= {r.index for r in received if r.job is not None and _tenant(r.job) == tenant_id}
        fresh: dict[tuple[str, str], BreakerState | None] = {}
        matched: dict[RecordKey, tuple[str, ...]] = {}
        reads_by_record = {
            r.index: _reads(
                r,
                endpoints.get(_tenant(r.job) or "", {}),
                lambda key: self._cached_breaker(key, fresh),
                matched,
            )
            for r in received
            if r.job is not None and r.index not in unloadable
        }
        records: dict[RecordKey, EventRecord] = {}
        breakers: dict[tuple[str, str], BreakerState] = {k: v for k, v in fresh.items() if v is not None}
        asked = {pair for reads in reads_by_record.values() for pair in reads.breakers}
        try:
            self._absorb(self._reads.read(list(reads_by_record.values()), "load batch"), records, breakers)
        except HooklineError as exc:
            logger.warning(
                "could not load the batch at once; loading record by record", extra={"reason": str(exc)}
            )
            for index, reads in reads_by_record.items():
                try:
                    self._absorb(self._reads.read([reads], "load record"), records, breakers)
                except HooklineError:
                    unloadable.add(index)
        for key in asked:
            self._breakers.put(key, breakers.get(key))
        return Snapshot(
            records=records,
            endpoints=endpoints,
            breakers=breakers,
            unloadable=frozenset(unloadable),
            known=self._unrecorded.snapshot(),
            matched=matched,
        )

    @staticmethod
    def _absorb(
        read: tuple[dict[RecordKey, EventRecord], dict[tuple[str, str], BreakerState]],
        records: dict[RecordKey, EventRecord],
        breakers: dict[tuple[str, str], BreakerState],
    ) -> None:
        records.update(read[0])
        breakers.update(read[1])


def _tenant(job: Job | None) -> str | None:
    return getattr(job, "tenant_id", None)


def _reads(
    received: Received,
    endpoints: dict[str, Endpoint],
    cached: Callable[[tuple[str, str]], bool],
    matched: dict[RecordKey, tuple[str, ...]],
) -> RecordReads:
    """What the record needs read; an event job's matching endpoints go into ``matched`` on the way."""
    job = received.job
    event: tuple[str, str] | None = None
    delivery: tuple[str, str, str] | None = None
    targets: list[str] = []
    if isinstance(job, DeliverJob):
        event = (job.tenant_id, job.event_id)
        delivery = (job.tenant_id, job.event_id, job.endpoint_id)
        targets = [job.endpoint_id]
    elif isinstance(job, EventJob):
        if job.read_first or job.body is None or received.receive_count > 1:
            event = (job.tenant_id, job.event_id)
        if job.body is not None:
            targets = _targets(job, job.body, endpoints, matched)
    tenant_id = _tenant(job) or ""
    breakers = tuple((tenant_id, e) for e in targets if not cached((tenant_id, e)))
    return RecordReads(event, delivery, breakers)


def _targets(
    job: EventJob, body_text: str, endpoints: dict[str, Endpoint], matched: dict[RecordKey, tuple[str, ...]]
) -> list[str]:
    if job.only_endpoint:
        return [job.only_endpoint]
    event = Event(job.tenant_id, job.event_id, job.event_type, job.timestamp, body_text)
    wanted = matched[(job.tenant_id, job.event_id)] = matching_endpoints(event, endpoints)
    return [] if needs_overflow(len(wanted), body_text) else list(wanted)
