"""Tenant API keys: their lifecycle, and a tenancy matrix over every declared route.

Callers: the admin key; a key of the path's tenant with every scope; the same without the route's scope; a
key of another tenant; a revoked key; an expired key. Expected: admin and the right key succeed (a tenant
key never on an admin-only route: 403), another tenant's key is a 404 under a tenant path, a missing scope
is a 403, revoked and expired keys are 401s, and the API's own description needs no key at all.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from hookline.api.auth import digest
from hookline.api.router import RouteSpec
from hookline.api.routes import ROUTES
from hookline.core import clock, ids
from hookline.core.models import (
    ApiKey,
    Attempt,
    AttemptOutcome,
    Delivery,
    DeliveryStatus,
    Event,
    EventRecord,
    FailureKind,
    FanoutState,
    Scope,
)
from hookline.storage.api_keys import ApiKeyStore
from tests.integration.lambda_harness import ApiClient, Stack, api_request
from tests.integration.seed import Seeder

ALL_SCOPES = [scope.value for scope in Scope]


def create_key(api: ApiClient, tenant_id: str, scopes: list[str], **extra: Any) -> dict[str, Any]:
    response = api.call("POST", f"/v1/tenants/{tenant_id}/keys", {"name": "test", "scopes": scopes} | extra)
    assert response.status == 201, response
    return dict(response.body)


def test_keys_are_shown_once_listed_without_values_and_revoked(api: ApiClient, stack: Stack) -> None:
    api.call("PUT", "/v1/tenants/acme", {"name": "Acme"})
    created_after = int(time.time())
    created = create_key(api, "acme", ["events:read", "events:write"], expires_in=3600)
    assert created["key"].startswith("hk_") and len(created["key"]) == 43
    assert created["id"].startswith("key_") and created["scopes"] == ["events:read", "events:write"]
    assert created_after + 3600 <= clock.parse_iso(created["expires_at"]).timestamp() <= time.time() + 3600
    forever = create_key(api, "acme", ["endpoints:read"])
    assert forever["expires_at"] is None
    listed = api.call("GET", "/v1/tenants/acme/keys?limit=1")
    assert listed.status == 200 and listed.body["has_more"] is True
    rest = api.call("GET", f"/v1/tenants/acme/keys?cursor={listed.body['next_cursor']}").body
    shown = listed.body["data"] + rest["data"]
    assert {k["id"] for k in shown} == {created["id"], forever["id"]}
    assert all("key" not in k for k in shown)
    table = stack.env("IngestFunction", "TABLE_NAME")
    stored = str(stack.dynamodb.scan(TableName=table)["Items"])
    assert created["key"] not in stored and digest(created["key"]) in stored  # only the hash is kept
    assert api.call("GET", "/v1/tenants/acme/events", api_key=created["key"]).status == 200
    assert api.call("DELETE", f"/v1/tenants/acme/keys/{created['id']}").status == 204
    assert api.call("GET", "/v1/tenants/acme/events", api_key=created["key"]).status == 401
    assert api.call("DELETE", f"/v1/tenants/acme/keys/{created['id']}").status == 404
    assert api.call("DELETE", "/v1/tenants/acme/keys/nonsense").status == 404
    assert api.call("POST", "/v1/tenants/nobody/keys", {"name": "x", "scopes": ["events:read"]}).status == 404


# --- the matrix -----------------------------------------------------------------------------------------


class World:
    """Two tenants, an endpoint and a recorded (failed) event in acme, and keys of every kind."""

    def __init__(self, api: ApiClient, stack: Stack) -> None:
        self.api = api
        self.stack = stack
        self.seeder = Seeder(stack)
        self.counter = itertools.count()
        for tenant in ("acme", "globex"):
            api.call("PUT", f"/v1/tenants/{tenant}", {"name": tenant})
        self.endpoint_id = self.new_endpoint()
        self.event_id = self.recorded_event()
        self.full = create_key(api, "acme", ALL_SCOPES)["key"]
        self.other_tenant = create_key(api, "globex", ALL_SCOPES)["key"]
        self.without: dict[str, str] = {
            scope: create_key(api, "acme", [s for s in ALL_SCOPES if s != scope])["key"]
            for scope in ALL_SCOPES
        }
        self.schedule_id = self.new_schedule()
        self.replay_id = api.call("POST", "/v1/tenants/acme/replays", BODIES["start_replay"]).body["id"]
        revoked = create_key(api, "acme", ALL_SCOPES)
        api.call("DELETE", f"/v1/tenants/acme/keys/{revoked['id']}")
        self.revoked = revoked["key"]
        self.expired = self.expired_key()

    def new_endpoint(self) -> str:
        body = {"url": "https://example.com/hook"}
        return str(self.api.call("POST", "/v1/tenants/acme/endpoints", body).body["id"])

    def new_schedule(self) -> str:
        return str(self.api.call("POST", "/v1/tenants/acme/schedules", BODIES["create_schedule"]).body["id"])

    def delayed_event(self) -> str:
        """An event due in ten minutes: cancellable."""
        body = {"type": "order.created", "data": {}, "deliver_at": clock.iso_from_unix(time.time() + 600)}
        return str(self.api.call("POST", "/v1/tenants/acme/events", body).body["id"])

    def recorded_event(self) -> str:
        event_id = ids.new_event_id()
        now = clock.now_iso()
        event = Event("acme", event_id, "order.created", now, '{"type":"order.created","data":{}}')
        attempt = Attempt(1, now, AttemptOutcome.RETRY, 12, 500, FailureKind.HTTP_STATUS, "500", "busy")
        delivery = Delivery(
            self.endpoint_id, DeliveryStatus.FAILED, attempts=1, history=(attempt,), updated_at=now
        )
        record = EventRecord(event, FanoutState.DONE, (self.endpoint_id,), {self.endpoint_id: delivery})
        assert self.seeder.log.create(record, int(time.time()) + 3600)
        return event_id

    def expired_key(self) -> str:
        secret = ids.new_api_key()
        key = ApiKey(
            ids.new_key_id(),
            "acme",
            "old",
            tuple(Scope),
            clock.now_iso(),
            int(time.time()) - 10,
            digest(secret),
        )
        ApiKeyStore(self.seeder.table).create(key, ttl_expiry=None)
        return secret

    def request(self, spec: RouteSpec, tenant: str, admin: bool) -> tuple[str, Any]:
        """A path and body that succeed for a caller allowed to make them (fresh resources for deletes)."""
        n = next(self.counter)
        endpoint_id = self.new_endpoint() if spec.operation_id == "delete_endpoint" else self.endpoint_id
        if spec.operation_id == "delete_tenant" and admin:
            tenant = f"doomed-{n}"
            self.api.call("PUT", f"/v1/tenants/{tenant}", {"name": "doomed"})
        key_id = "key_" + "0" * 26
        event_type = "order.created"
        if spec.operation_id in {"get_event_type", "delete_event_type"}:
            if spec.operation_id == "delete_event_type":
                event_type = f"doomed.n{n}"
            self.api.call("PUT", f"/v1/event-types/{event_type}", {})
        if spec.operation_id == "revoke_key" and admin:
            key_id = create_key(self.api, tenant, ["events:read"])["id"]
        path = spec.path.format(
            tenant_id=tenant,
            endpoint_id=endpoint_id,
            event_id=self.delayed_event() if spec.operation_id == "cancel_event" else self.event_id,
            key_id=key_id,
            asset="portal.css" if spec.path.startswith("/v1/portal") else "swagger-ui.css",
            name=event_type,
            schedule_id=self.new_schedule() if spec.operation_id == "delete_schedule" else self.schedule_id,
            replay_id=self.replay_id,
        )
        return path, BODIES.get(spec.operation_id)


BODIES: dict[str, Any] = {
    "put_tenant": {"name": "Acme"},
    "create_key": {"name": "ci", "scopes": ["events:read"]},
    "create_endpoint": {"url": "https://example.com/hook"},
    "update_endpoint": {"description": "changed"},
    "recover_endpoint": {"since": "2026-11-27T08:00:00Z"},
    "post_event": {"type": "order.created", "data": {"n": 1}},
    "post_event_batch": {"events": [{"type": "order.created", "data": {}}]},
    "create_schedule": {"type": "report.daily", "rate": "5 minutes"},
    "update_schedule": {"enabled": False},
    "start_replay": {"since": "2026-11-27T08:00:00Z", "until": "2026-11-28T08:00:00Z"},
}


@pytest.fixture
def world(api: ApiClient, stack: Stack) -> World:
    return World(api, stack)


def call(world: World, spec: RouteSpec, key: str | None, tenant: str = "acme", admin: bool = False) -> int:
    path, body = world.request(spec, tenant, admin)
    status: int = world.stack.ingest.invoke(api_request(spec.method, path, body, api_key=key))["statusCode"]
    return status


def expect_success(spec: RouteSpec, status: int) -> None:
    assert status in spec.responses, (spec.method, spec.path, status)


def test_every_route_answers_each_kind_of_caller_as_documented(world: World) -> None:
    covered: list[str] = []
    for spec in ROUTES:
        covered.append(spec.operation_id)
        tenant_path = "{tenant_id}" in spec.path
        if spec.access.public:
            for key in (None, world.revoked, world.full):
                expect_success(spec, call(world, spec, key))
            continue
        expect_success(spec, call(world, spec, world.api.api_key, admin=True))
        for key in (None, world.revoked, world.expired):
            assert call(world, spec, key) == 401, (spec.operation_id, "revoked/expired/none")
        if spec.access.admin_only:
            assert call(world, spec, world.full) == 403, spec.operation_id
        else:
            expect_success(spec, call(world, spec, world.full))
            if spec.access.scope is not None:
                assert call(world, spec, world.without[spec.access.scope.value]) == 403, spec.operation_id
        if tenant_path:
            assert call(world, spec, world.other_tenant) == 404, (spec.operation_id, "other tenant")
            assert call(world, spec, world.full, tenant="globex") == 404, (spec.operation_id, "other path")
        elif spec.access.admin_only:
            assert call(world, spec, world.other_tenant) == 403, spec.operation_id
        else:  # outside any tenant's path and not admin-only: the catalog's reads, for any valid key
            expect_success(spec, call(world, spec, world.other_tenant))
    assert len(covered) == len(set(covered)) >= 25
