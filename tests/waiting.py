"""The one way tests wait: on a condition, with a deadline.

A test never sleeps for a fixed time and never asserts how long something took (a loaded CI machine makes
both flaky). It waits until what it expects is observable, and fails with ``what`` if that does not happen
within ``timeout`` seconds. The deadline is generous on purpose: it only bounds a failing test, a passing
one returns as soon as the condition holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class WaitTimeout(AssertionError):
    """A condition did not come true before its deadline."""


def wait_until[T](condition: Callable[[], T | None], timeout: float, what: str, poll: float = 0.05) -> T:
    """Call ``condition`` until it returns something truthy, and return that; raise WaitTimeout after
    ``timeout`` seconds. ``poll`` is the pause between two calls, the only sleep tests may take."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"not within {timeout:g} s: {what}")
        time.sleep(poll)


def pause(seconds: float) -> None:
    """A deliberate pause that waits for nothing: a load generator's pacing, or a client's back-off between
    retries (tests/chaos). Never use it to let something happen: wait_until the thing instead."""
    if seconds > 0:
        time.sleep(seconds)
