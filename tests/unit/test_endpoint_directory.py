"""The dispatch container's endpoint directory: read once per TTL per tenant, forgotten on demand."""

from __future__ import annotations

from typing import Any

from hookline.core.models import Endpoint, EndpointSecret
from hookline.storage.endpoints import EndpointDirectory


class CountingStore:
    def __init__(self) -> None:
        self.reads = 0
        self.endpoints = [Endpoint("acme", "ep_1", "https://a.example", (EndpointSecret("whsec_x"),))]

    def all(self, tenant_id: str) -> list[Endpoint]:
        self.reads += 1
        return list(self.endpoints)


def test_endpoints_are_read_once_per_ttl_and_again_after_it_or_after_forget() -> None:
    store, now = CountingStore(), [100.0]
    directory = EndpointDirectory(store, ttl_seconds=10, monotonic=lambda: now[0])  # type: ignore[arg-type]
    assert list(directory.endpoints("acme")) == ["ep_1"]
    directory.endpoints("acme")
    assert store.reads == 1
    now[0] += 10
    directory.endpoints("acme")
    assert store.reads == 2
    directory.forget("acme")
    directory.endpoints("acme")
    assert store.reads == 3


def test_a_zero_ttl_reads_every_time() -> None:
    store: Any = CountingStore()
    directory = EndpointDirectory(store, ttl_seconds=0)
    directory.endpoints("acme")
    directory.endpoints("acme")
    assert store.reads == 2
