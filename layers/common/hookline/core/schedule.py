"""The retry schedule: when each attempt of one delivery happens.

The schedule lists the delay before every attempt, the first usually 0 ("immediately"; a first delay
is applied when the event fans out, up to SQS's 15-minute message delay). Its length is the number of
attempts: "0,1,2,3" means four attempts, the retries 1, 2 and 3 seconds apart.

The delivery queue is the scheduler: a failed attempt's message is hidden for the next delay
(ChangeMessageVisibility, at most 12 h), so there is no cron and no polling table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

MAX_VISIBILITY_SECONDS = 43_200  # SQS's ceiling for a visibility timeout
JITTER = 0.2


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    delays: tuple[int, ...]

    DEFAULT = "0,5,300,1800,7200,18000,36000,36000"

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if not parts:
            raise ValueError("the retry schedule needs at least one delay")
        try:
            delays = tuple(int(part) for part in parts)
        except ValueError as exc:
            raise ValueError(
                f"retry schedule must be whole seconds separated by commas, got {text!r}"
            ) from exc
        if any(delay < 0 or delay > MAX_VISIBILITY_SECONDS for delay in delays):
            raise ValueError(f"every delay must be between 0 and {MAX_VISIBILITY_SECONDS} seconds")
        return cls(delays)

    @property
    def max_attempts(self) -> int:
        return len(self.delays)

    @property
    def _retry_delays(self) -> tuple[int, ...]:
        return self.delays[1:] or self.delays

    @property
    def min_delay(self) -> int:
        return min(self._retry_delays)

    @property
    def max_delay(self) -> int:
        return max(self._retry_delays)

    def has_attempt_after(self, attempt: int) -> bool:
        return attempt < self.max_attempts

    def base_delay_after(self, attempt: int) -> int:
        """The scheduled delay between attempt ``attempt`` (1-based) and the next one."""
        if not self.has_attempt_after(attempt):
            raise ValueError(f"attempt {attempt} is the last of {self.max_attempts}")
        return self.delays[attempt]

    def delay_after(
        self, attempt: int, retry_after_seconds: float | None = None, rng: random.Random | None = None
    ) -> int:
        """Seconds to wait before the next attempt: the schedule with ±20% jitter, or ``Retry-After``
        clamped to the schedule's bounds when the endpoint sent one."""
        if retry_after_seconds is not None:
            clamped = min(max(retry_after_seconds, self.min_delay), self.max_delay)
            return min(round(clamped), MAX_VISIBILITY_SECONDS)
        base = self.base_delay_after(attempt)
        factor = (rng or random).uniform(1 - JITTER, 1 + JITTER)
        return min(round(base * factor), MAX_VISIBILITY_SECONDS)
