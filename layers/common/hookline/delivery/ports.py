"""Delivery's own ports. What it needs from storage is in ``core.ports``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from hookline.delivery.plan import Received, Snapshot


class Loader(Protocol):
    def load(self, received: Sequence[Received]) -> Snapshot: ...

    def forget_breakers(self, keys: Iterable[tuple[str, str]]) -> None: ...
