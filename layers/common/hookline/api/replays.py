"""Replays: ``POST .../replays`` re-sends the deliveries of a time range that match a filter, in the
background (``delivery.timed_jobs`` runs a page per ``replay`` job); ``GET .../replays/{id}`` reports it."""

from __future__ import annotations

import time
from collections.abc import Callable

from hookline.api.tenants import KnownTenants
from hookline.api.timed_models import ReplayIn
from hookline.api.views import ReplayOut
from hookline.core import clock, ids
from hookline.core.errors import DependencyError, InvalidRequestError, NotFoundError
from hookline.core.jobs import ReplayJob
from hookline.storage.queue import DeliveryQueues
from hookline.storage.replays import Replay, ReplayStore


class ReplayService:
    def __init__(
        self,
        store: ReplayStore,
        queue: DeliveryQueues,
        tenants: KnownTenants,
        retention_days: int,
        clock_now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._queue = queue
        self._tenants = tenants
        self._retention_days = retention_days
        self._now = clock_now

    def start(self, tenant_id: str, request: ReplayIn) -> ReplayOut:
        since = clock.parse_iso(request.since).timestamp()
        until = clock.parse_iso(request.until).timestamp()
        if until < since:
            raise InvalidRequestError("until: must not be before since")
        self._tenants.require(tenant_id)
        patterns = request.types or []
        if "*" in patterns:
            patterns = []
        replay = Replay(
            tenant_id=tenant_id,
            replay_id=ids.new_replay_id(),
            since=since,
            until=until,
            exact_types=tuple(p for p in patterns if not p.endswith(".*")),
            type_prefixes=tuple(p[:-1] for p in patterns if p.endswith(".*")),
            status=request.status,
            endpoint_id=request.endpoint_id,
        )
        self._store.create(replay, clock.retention_expiry(self._retention_days, self._now()))
        try:
            self._queue.send(ReplayJob(tenant_id, replay.replay_id))
        except DependencyError:
            self._store.forget(tenant_id, replay.replay_id)
            raise
        return ReplayOut(id=replay.replay_id, status="running", matched=0, queued=0, skipped=0)

    def get(self, tenant_id: str, replay_id: str) -> ReplayOut:
        replay = self._store.get(tenant_id, replay_id) if ids.REPLAY_ID_PATTERN.fullmatch(replay_id) else None
        if replay is None:
            self._tenants.require(tenant_id)
            raise NotFoundError(f"replay {replay_id!r} does not exist")
        return ReplayOut(
            id=replay.replay_id,
            status="done" if replay.done else "running",
            matched=replay.matched,
            queued=replay.queued,
            skipped=replay.skipped,
        )
