"""Resend claims: how retry, recover, test sends and redrives hand a delivery to exactly one job.

Before a resend job is queued, the delivery is claimed with a conditional write that stores a fresh token and
starts a new round of attempts (pending, due now). Only the job holding that token may send, so overlapping
calls and duplicate messages send once. If the job cannot be queued, the claim is released again.

What can still be duplicated: a resend that reached the endpoint, whose outcome could not be recorded before
its carrier crashed, is sent again by the next receive of the same job (the receiver de-duplicates on
``webhook-id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hookline.core import clock, ids
from hookline.core.errors import HooklineError
from hookline.core.jobs import DeliverJob
from hookline.core.models import (
    RESEND_HOLD_SECONDS,
    Delivery,
    DeliveryRef,
    DeliveryStatus,
    EventRecord,
    ResendClaim,
)
from hookline.observability import logger

if TYPE_CHECKING:  # the API imports this module: keep the dispatch pipeline out of its cold start
    from hookline.core.ports import DeliveryLog, Jobs


@dataclass(frozen=True, slots=True)
class ResendClaimed:
    ref: DeliveryRef
    seen: Delivery | None
    claimed: Delivery

    @property
    def job(self) -> DeliverJob:
        assert self.claimed.resend is not None
        return DeliverJob(
            self.ref.tenant_id, self.ref.event_id, self.ref.endpoint_id, self.claimed.resend.token
        )


def claimable(seen: Delivery | None, now: float, only_failed: bool) -> bool:
    """May a resend claim this delivery? Never while another resend holds it; with ``only_failed`` (recover,
    redrive), only a delivery that ended failed, or whose earlier resend claim lapsed without a carrier."""
    if seen is None:
        return not only_failed
    if seen.resend_held(now):
        return False
    if not only_failed:
        return True
    return seen.status is DeliveryStatus.FAILED or (
        seen.status is DeliveryStatus.PENDING and seen.resend is not None
    )


def claim(
    log: DeliveryLog, record: EventRecord, endpoint_id: str, now: float, only_failed: bool, expires_at: int
) -> ResendClaimed | None:
    seen = record.deliveries.get(endpoint_id)
    if not claimable(seen, now, only_failed):
        return None
    ref = DeliveryRef.of(record, endpoint_id)
    base = seen or Delivery(endpoint_id, DeliveryStatus.PENDING)
    claimed = base.with_status(
        DeliveryStatus.PENDING,
        round_base=base.attempts,
        next_attempt_at=now,
        claim=None,
        resend=ResendClaim(ids.new_token(), now + RESEND_HOLD_SECONDS),
        updated_at=clock.iso_from_unix(now),
    )
    if seen is None and record.overflow:
        if not log.create_overflow_delivery(record, claimed, expires_at):
            return None
        return ResendClaimed(ref, None, claimed)
    if not log.swap(ref, seen, claimed):
        return None
    return ResendClaimed(ref, seen, claimed)


def queue_claimed(log: DeliveryLog, queue: Jobs, claims: Sequence[ResendClaimed]) -> list[ResendClaimed]:
    """Queue a job per claim; release the claims whose job could not be queued. Returns the queued ones."""
    if not claims:
        return []
    try:
        failed = set(queue.send_batch([(c.job, 0) for c in claims]))
    except HooklineError:
        failed = set(range(len(claims)))
    for index in failed:
        release(log, claims[index])
    return [c for index, c in enumerate(claims) if index not in failed]


def release(log: DeliveryLog, claimed: ResendClaimed) -> None:
    """Put the delivery back as it was; if even that fails, the claim lapses on its own."""
    if claimed.seen is None:
        return
    try:
        log.swap(claimed.ref, claimed.claimed, claimed.seen)
    except HooklineError as exc:
        logger.warning("could not release a resend claim; it lapses by itself", extra={"reason": str(exc)})
