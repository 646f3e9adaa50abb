"""Deleting a tenant cannot lose a race with creating its keys and endpoints (against moto's DynamoDB).

The race is played deterministically: a key and an endpoint are created from inside the delete, right after
it listed the tenant's items (the moment an unguarded delete loses them).
"""

from __future__ import annotations

from typing import Any

import pytest

from hookline.core import clock, ids
from hookline.core.errors import DependencyError, NotFoundError
from hookline.core.models import ApiKey, Scope
from hookline.storage.api_keys import ApiKeyStore
from hookline.storage.idempotency import IdempotencyRecord, IdempotencyStore
from tests.integration.lambda_harness import Stack
from tests.integration.seed import Seeder

T = "acme"


@pytest.fixture
def seeder(stack: Stack) -> Seeder:
    seeder = Seeder(stack)
    seeder.tenant(T)
    return seeder


def new_key(digest: str) -> ApiKey:
    return ApiKey(ids.new_key_id(), T, "k", (Scope.EVENTS_WRITE,), clock.now_iso(), None, digest)


def test_keys_and_endpoints_created_during_a_delete_never_come_back(
    seeder: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = ApiKeyStore(seeder.table)
    keys.create(new_key("before"), None)
    seeder.endpoint(T, "https://example.com/before")
    list_items = seeder.table.query_all
    refused: list[str] = []

    def list_then_race(action: str, **kwargs: Any) -> list[Any]:
        listed = list_items(action, **kwargs)
        for create in (
            lambda: keys.create(new_key("during"), None),
            lambda: seeder.endpoint(T, "https://example.com/during"),
        ):
            try:
                create()
            except NotFoundError:
                refused.append(action)
        return listed

    monkeypatch.setattr(seeder.table, "query_all", list_then_race)
    assert sorted(seeder.tenants.delete(T)) == ["before"]
    monkeypatch.undo()

    assert len(refused) == 2
    _, created = seeder.tenants.upsert(T, "Acme again", clock.now_iso())
    assert created
    assert keys.find("before") is None and keys.find("during") is None
    assert seeder.endpoints.all(T) == []


def test_a_delete_that_fails_half_way_is_finished_by_the_next_put(
    seeder: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = ApiKeyStore(seeder.table)
    keys.create(new_key("old"), None)
    seeder.endpoint(T, "https://example.com/old")

    def fail(*args: Any, **kwargs: Any) -> None:
        raise DependencyError("injected")

    monkeypatch.setattr(seeder.table, "batch_write", fail)
    with pytest.raises(DependencyError):
        seeder.tenants.delete(T)
    monkeypatch.undo()

    assert seeder.tenants.get(T) is None  # the tombstone reads as absent...
    with pytest.raises(NotFoundError):
        keys.create(new_key("late"), None)  # ...and takes no new children
    tenant, created = seeder.tenants.upsert(T, "Acme again", clock.now_iso())
    assert created and tenant.name == "Acme again"
    assert keys.find("old") is None
    assert seeder.endpoints.all(T) == []
    keys.create(new_key("new"), None)
    assert keys.find("new") is not None


def test_an_idempotency_claim_is_pending_until_marked_sent(seeder: Seeder) -> None:
    store = IdempotencyStore(seeder.table)
    claim = IdempotencyRecord(T, "k1", "body", "evt_1", "a.b", "ts", clock.unix_now())
    assert store.claim(claim) is None
    held = store.claim(IdempotencyRecord(T, "k1", "body", "evt_2", "a.b", "ts", clock.unix_now()))
    assert held is not None and held.event_id == "evt_1" and not held.sent
    store.mark_sent(T, "k1", "evt_other")  # someone else's claim: no change
    assert not store.read(T, "k1").sent  # type: ignore[union-attr]
    store.mark_sent(T, "k1", "evt_1")
    assert store.read(T, "k1").sent  # type: ignore[union-attr]
    store.release(T, "k1", "evt_1")
    assert store.read(T, "k1") is None
