"""Settling: what an attempt (or a decision not to attempt) does to a delivery. Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hookline.core import clock
from hookline.core.models import (
    RESEND_HOLD_SECONDS,
    Attempt,
    AttemptOutcome,
    AttemptResult,
    Claim,
    Delivery,
    DeliveryStatus,
    FailureKind,
    ResendClaim,
)
from hookline.core.schedule import RetrySchedule
from hookline.delivery.plan import PairTask


class Next(enum.StrEnum):
    FINISHED = "finished"  # succeeded or failed for good
    RETRY = "retry"  # another attempt at ``next_attempt_at``
    DEAD_LETTER = "dead_letter"  # attempts used up: the DLQ handler marks it failed and alerts
    DISABLE = "disable"  # 410 Gone: failed, and the endpoint is disabled


@dataclass(frozen=True, slots=True)
class Settled:
    task: PairTask
    delivery: Delivery
    next: Next
    result: AttemptResult | None = None
    started_at: float = 0.0


def blank(task: PairTask) -> Delivery:
    return task.seen or Delivery(endpoint_id=task.ref.endpoint_id, status=DeliveryStatus.PENDING)


def claimed(task: PairTask, now: float, hold_seconds: float, owner: str) -> Delivery:
    """The delivery with a claim on its next attempt."""
    seen = blank(task)
    return seen.with_status(
        seen.status,
        claim=Claim(seen.attempts + 1, now + hold_seconds, owner),
        updated_at=clock.iso_from_unix(now),
    )


def after_attempt(
    task: PairTask,
    seen: Delivery,
    result: AttemptResult,
    started_at: float,
    now: float,
    schedule: RetrySchedule,
) -> Settled:
    """The delivery after one attempt, and what comes next for it."""
    number = seen.attempts + 1
    attempt = Attempt.of(number, clock.iso_from_unix(started_at), result)
    round_attempt = number - seen.round_base
    next_attempt_at: float | None = None
    resend = seen.resend
    if result.outcome is AttemptOutcome.SUCCEEDED:
        status, following, resend = DeliveryStatus.SUCCEEDED, Next.FINISHED, None
    elif result.outcome is AttemptOutcome.GONE:
        status, following, resend = DeliveryStatus.FAILED, Next.DISABLE, None
    elif schedule.has_attempt_after(round_attempt):
        status, following = DeliveryStatus.RETRYING, Next.RETRY
        next_attempt_at = now + schedule.delay_after(round_attempt, result.retry_after_seconds)
        if resend is not None:
            resend = ResendClaim(resend.token, next_attempt_at + RESEND_HOLD_SECONDS)
    else:
        status, following = DeliveryStatus.RETRYING, Next.DEAD_LETTER
    delivery = seen.with_status(
        status,
        attempts=number,
        next_attempt_at=next_attempt_at,
        last_error_kind=result.failure,
        last_error=result.message,
        history=(*seen.history, attempt),
        claim=None,
        resend=resend,
        updated_at=clock.iso_from_unix(now),
    )
    return Settled(task, delivery, following, result, started_at)


def without_attempt(task: PairTask, failure: FailureKind, now: float) -> Settled:
    """A delivery that ends failed without an attempt: its endpoint is disabled or gone."""
    seen = blank(task)
    message = {
        FailureKind.ENDPOINT_DISABLED: "the endpoint is disabled; re-enable it and recover to resend",
        FailureKind.ENDPOINT_DELETED: "the endpoint was deleted",
    }.get(failure, failure.value)
    delivery = seen.with_status(
        DeliveryStatus.FAILED,
        next_attempt_at=None,
        last_error_kind=failure,
        last_error=message,
        claim=None,
        resend=None,
        updated_at=clock.iso_from_unix(now),
    )
    return Settled(task, delivery, Next.FINISHED)


def handed_over(task: PairTask, now: float) -> Delivery:
    """A pair handed to a deliver job without an attempt: pending (or still retrying), due after the delay."""
    seen = blank(task)
    due = now + task.delay
    return seen.with_status(
        seen.status,
        next_attempt_at=due if task.delay > 0 else seen.next_attempt_at,
        claim=None,
        updated_at=clock.iso_from_unix(now),
    )
