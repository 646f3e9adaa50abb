"""The v1 API through the ingest handler, on the committed events/ fixtures, under moto."""

from __future__ import annotations

import json

import pytest
from botocore.client import BaseClient

from hookline.store import Store
from tests.integration.conftest import API_KEY
from tests.integration.lambda_harness import ApiClient, Stack, load_event

ENDPOINT = {
    "url": "https://example.com/webhooks/acme",
    "event_types": ["order.*"],
    "description": "Acme orders",
}


def _tenant(api: ApiClient, tenant_id: str = "acme") -> None:
    assert api.call("PUT", f"/v1/tenants/{tenant_id}", {"name": tenant_id.title()}).status in {200, 201}


def test_the_committed_fixtures_drive_the_handler(stack: Stack) -> None:
    put = stack.ingest.invoke(load_event("put_tenant.json"))
    assert put["statusCode"] == 201, put
    created = stack.ingest.invoke(load_event("create_endpoint.json"))
    assert created["statusCode"] == 201, created
    endpoint = json.loads(created["body"])
    assert endpoint["id"].startswith("ep_")
    assert endpoint["event_types"] == ["order.*"]
    assert "secret" not in endpoint and "secrets" not in endpoint
    posted = stack.ingest.invoke(load_event("post_event.json"))
    assert posted["statusCode"] == 202, posted
    accepted = json.loads(posted["body"])
    assert accepted["id"].startswith("evt_")
    assert accepted["type"] == "order.created"


def test_tenant_lifecycle(api: ApiClient) -> None:
    created = api.call("PUT", "/v1/tenants/acme", {"name": "Acme"})
    assert created.status == 201
    assert created.body["id"] == "acme"
    renamed = api.call("PUT", "/v1/tenants/acme", {"name": "Acme Corp"})
    assert renamed.status == 200
    assert renamed.body["name"] == "Acme Corp"
    assert renamed.body["created_at"] == created.body["created_at"]
    assert api.call("GET", "/v1/tenants/acme").body["name"] == "Acme Corp"
    assert api.call("DELETE", "/v1/tenants/acme").status == 204
    gone = api.call("GET", "/v1/tenants/acme")
    assert gone.status == 404
    assert gone.body["error"]["code"] == "not_found"


def test_requests_without_a_valid_key_get_401(api: ApiClient) -> None:
    for key in (None, "hk_wrong"):
        for method, path in [
            ("GET", "/v1/tenants/acme"),
            ("POST", "/v1/tenants/acme/events"),
            ("GET", "/v1/nope"),
        ]:
            response = api.call(method, path, api_key=key)
            assert response.status == 401, (method, path)
            assert response.body["error"]["code"] == "unauthorized"
            assert response.headers.get("WWW-Authenticate") == "Bearer"


def test_endpoint_crud_and_secret(api: ApiClient) -> None:
    _tenant(api)
    created = api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT | {"headers": {"X-Team": "orders"}})
    assert created.status == 201
    endpoint_id = created.body["id"]
    assert created.body["headers"] == {"x-team": "orders"}
    secret = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}/secret").body["secret"]
    assert secret.startswith("whsec_")
    patched = api.call(
        "PATCH", f"/v1/tenants/acme/endpoints/{endpoint_id}", {"event_types": None, "enabled": False}
    )
    assert patched.status == 200
    assert patched.body["event_types"] is None
    assert patched.body["enabled"] is False
    assert patched.body["description"] == "Acme orders"
    assert api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").body["enabled"] is False
    assert api.call("DELETE", f"/v1/tenants/acme/endpoints/{endpoint_id}").status == 204
    assert api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").status == 404
    assert api.call("DELETE", f"/v1/tenants/acme/endpoints/{endpoint_id}").status == 404


def test_endpoint_list_is_paginated(api: ApiClient) -> None:
    _tenant(api)
    created = {api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT).body["id"] for _ in range(5)}
    first = api.call("GET", "/v1/tenants/acme/endpoints?limit=2").body
    assert len(first["data"]) == 2
    assert first["has_more"] is True
    seen: list[str] = []
    cursor = None
    while True:
        page = api.call(
            "GET", "/v1/tenants/acme/endpoints?limit=2" + (f"&cursor={cursor}" if cursor else "")
        ).body
        seen += [endpoint["id"] for endpoint in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(created)
    assert api.call("GET", "/v1/tenants/acme/endpoints?limit=0").status == 400
    assert api.call("GET", "/v1/tenants/acme/endpoints?cursor=garbage").status == 400


def test_tenants_are_isolated(api: ApiClient) -> None:
    _tenant(api, "acme")
    _tenant(api, "globex")
    endpoint_id = api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT).body["id"]
    event_id = api.call("POST", "/v1/tenants/acme/events", {"type": "order.created", "data": {}}).body["id"]
    for method, path in [
        ("GET", f"/v1/tenants/globex/endpoints/{endpoint_id}"),
        ("GET", f"/v1/tenants/globex/endpoints/{endpoint_id}/secret"),
        ("PATCH", f"/v1/tenants/globex/endpoints/{endpoint_id}"),
        ("DELETE", f"/v1/tenants/globex/endpoints/{endpoint_id}"),
        ("GET", f"/v1/tenants/globex/events/{event_id}"),
        ("GET", f"/v1/tenants/globex/events/{event_id}/attempts"),
    ]:
        response = api.call(method, path, {"description": "x"} if method == "PATCH" else None)
        assert response.status == 404, (method, path, response)
    assert [e["id"] for e in api.call("GET", "/v1/tenants/globex/endpoints").body["data"]] == []
    assert api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").status == 200


def test_unknown_tenant_endpoint_and_event_get_404(api: ApiClient) -> None:
    assert api.call("POST", "/v1/tenants/nobody/endpoints", ENDPOINT).status == 404
    assert api.call("POST", "/v1/tenants/nobody/events", {"type": "a.b", "data": {}}).status == 404
    _tenant(api)
    assert api.call("GET", "/v1/tenants/acme/events/evt_missing").status == 404
    assert api.call("GET", "/v1/tenants/acme/nothing-here").status == 404


def test_payload_over_the_limit_gets_413_and_nothing_is_stored(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    limit = int(stack.env("IngestFunction", "MAX_PAYLOAD_BYTES"))
    big = {"type": "order.created", "data": {"blob": "x" * limit}}
    response = api.call("POST", "/v1/tenants/acme/events", big)
    assert response.status == 413
    assert response.body["error"]["code"] == "payload_too_large"
    assert stack.receive(stack.delivery_queue_url) == []


def test_idempotent_ingest_returns_the_first_answer_and_queues_once(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    body = {"type": "order.created", "data": {"order_id": "ord_1"}}
    first = api.call("POST", "/v1/tenants/acme/events", body, headers={"Idempotency-Key": "order-1"})
    second = api.call("POST", "/v1/tenants/acme/events", body, headers={"Idempotency-Key": "order-1"})
    assert first.status == second.status == 202
    assert first.body == second.body
    assert len(stack.receive(stack.delivery_queue_url)) == 1
    reused = api.call(
        "POST", "/v1/tenants/acme/events", body | {"data": {}}, headers={"Idempotency-Key": "order-1"}
    )
    assert reused.status == 422
    # Keys are per tenant: the same key under another tenant is a new event.
    _tenant(api, "globex")
    other = api.call("POST", "/v1/tenants/globex/events", body, headers={"Idempotency-Key": "order-1"})
    assert other.status == 202
    assert other.body["id"] != first.body["id"]


def test_bad_input_gets_a_clear_400(api: ApiClient) -> None:
    _tenant(api)
    cases = [
        ("PUT", "/v1/tenants/acme", {"title": "x"}),
        ("PUT", "/v1/tenants/bad%23id", {"name": "x"}),
        ("POST", "/v1/tenants/acme/endpoints", {"url": "ftp://example.com"}),
        ("POST", "/v1/tenants/acme/endpoints", {"url": "https://user:pw@example.com/"}),
        ("POST", "/v1/tenants/acme/endpoints", {"url": "https://169.254.169.254/latest"}),
        ("POST", "/v1/tenants/acme/endpoints", {"url": "https://example.com", "event_types": "order.*"}),
        (
            "POST",
            "/v1/tenants/acme/endpoints",
            {"url": "https://example.com", "headers": {"webhook-id": "x"}},
        ),
        ("POST", "/v1/tenants/acme/endpoints", {"url": "https://example.com", "rate_limit": 0}),
        ("POST", "/v1/tenants/acme/endpoints", {"url": "https://example.com", "secret": "whsec_short"}),
        ("POST", "/v1/tenants/acme/endpoints", {"url": "https://example.com", "evnt_types": ["a"]}),
        ("POST", "/v1/tenants/acme/events", {"type": "order created", "data": {}}),
        ("POST", "/v1/tenants/acme/events", {"type": "order.created", "data": [1]}),
        ("POST", "/v1/tenants/acme/events", {"type": "order.created"}),
    ]
    for method, path, body in cases:
        response = api.call(method, path, body)
        assert response.status == 400, (path, body, response)
        assert response.body["error"]["code"] == "invalid_request"
        assert response.body["error"]["message"]
    not_json = api.call("POST", "/v1/tenants/acme/events", raw_body="{not json")
    assert not_json.status == 400
    assert API_KEY  # the fixture's key is the one the API accepted throughout


def test_ingest_makes_the_same_aws_calls_for_1_or_200_matching_endpoints(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, params: dict[str, object]) -> object:
        calls.append(operation)
        return original(client, operation, params)

    _tenant(api)
    api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT)
    api.call(
        "POST", "/v1/tenants/acme/events", {"type": "order.created", "data": {}}
    )  # warm: the key is read
    monkeypatch.setattr(BaseClient, "_make_api_call", counting)

    def calls_for_one_event() -> list[str]:
        calls.clear()
        assert (
            api.call("POST", "/v1/tenants/acme/events", {"type": "order.created", "data": {}}).status == 202
        )
        return sorted(calls)

    with_one = calls_for_one_event()
    for _ in range(199):
        api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT)
    assert calls_for_one_event() == with_one == ["SendMessage", "TransactWriteItems"]


def test_deleting_a_tenant_leaves_no_endpoint_state_behind(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    endpoint_ids = [api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT).body["id"] for _ in range(3)]
    store = Store(stack.env("IngestFunction", "TABLE_NAME"), stack.dynamodb)
    for endpoint_id in endpoint_ids:
        store.record_failures("acme", endpoint_id, 2, 1_000.0)
        store.claim_rate_slot("acme", endpoint_id, None, 1_000.5, 2_000)
    assert api.call("DELETE", f"/v1/tenants/acme/endpoints/{endpoint_ids[0]}").status == 204
    assert store.rate_slot("acme", endpoint_ids[0]) is None
    assert api.call("DELETE", "/v1/tenants/acme").status == 204
    leftovers = [
        item["pk"]["S"] + " " + item["sk"]["S"]
        for item in stack.dynamodb.scan(TableName=stack.env("IngestFunction", "TABLE_NAME"))["Items"]
        if item["pk"]["S"].startswith(("TENANT#acme", "RATE#acme"))
        and not item["pk"]["S"].startswith("TENANT#acme#")
    ]
    assert leftovers == []
