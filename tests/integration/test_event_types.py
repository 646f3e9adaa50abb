"""The event-type catalog through the ingest handler under moto: its routes, and ingest refusing data that
breaks a type's schema (single, batch, test sends), with a receiver on 127.0.0.1 for what gets through."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import TEST_PARAMETERS
from tests.integration.lambda_harness import ApiClient, Stack
from tests.integration.test_delivery import always, setup_endpoint, status_of
from tests.receivers import Receiver

ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["order_id", "amount"],
    "properties": {
        "order_id": {"type": "string"},
        "amount": {"type": "integer", "minimum": 0},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
    },
}
ORDER_TYPE = {
    "description": "An order was placed.",
    "schema": ORDER_SCHEMA,
    "examples": [{"order_id": "ord_1", "amount": 4200}],
}


def tenant_key(api: ApiClient, tenant: str = "acme", scopes: tuple[str, ...] = ("events:read",)) -> str:
    if api.call("GET", f"/v1/tenants/{tenant}").status == 404:
        api.call("PUT", f"/v1/tenants/{tenant}", {"name": tenant})
    created = api.call("POST", f"/v1/tenants/{tenant}/keys", {"name": "k", "scopes": list(scopes)})
    assert created.status == 201, created
    return str(created.body["key"])


def test_the_catalog_is_written_by_the_admin_and_read_with_any_key(api: ApiClient, stack: Stack) -> None:
    created = api.call("PUT", "/v1/event-types/order.created", ORDER_TYPE)
    assert created.status == 201, created
    assert created.body["schema"] == ORDER_SCHEMA
    assert created.body["deprecated"] is False
    updated = api.call("PUT", "/v1/event-types/order.created", ORDER_TYPE | {"deprecated": True})
    assert updated.status == 200
    assert updated.body["created_at"] == created.body["created_at"]
    assert api.call("PUT", "/v1/event-types/order.shipped").status == 201  # every field is optional

    key = tenant_key(api)
    read = api.call("GET", "/v1/event-types/order.created", api_key=key)
    assert read.status == 200
    assert read.body["deprecated"] is True
    assert read.body["examples"] == ORDER_TYPE["examples"]
    assert api.call("PUT", "/v1/event-types/x.y", {}, api_key=key).status == 403
    assert api.call("DELETE", "/v1/event-types/order.created", api_key=key).status == 403
    assert api.call("GET", "/v1/event-types", api_key="hk_" + "x" * 40).status == 401

    assert api.call("DELETE", "/v1/event-types/order.created").status == 204
    assert api.call("GET", "/v1/event-types/order.created").status == 404
    assert api.call("DELETE", "/v1/event-types/order.created").status == 404
    assert api.call("GET", "/v1/event-types/not a name").status == 400


def test_the_catalog_lists_by_name_in_pages(api: ApiClient, stack: Stack) -> None:
    names = [f"type.n{index:02d}" for index in range(7)]
    for name in reversed(names):
        assert api.call("PUT", f"/v1/event-types/{name}", {"description": name}).status == 201
    first = api.call("GET", "/v1/event-types?limit=3").body
    assert first["has_more"] is True
    assert [t["name"] for t in first["data"]] == names[:3]
    listed = [t["name"] for t in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = api.call("GET", f"/v1/event-types?limit=3&cursor={cursor}").body
        listed += [t["name"] for t in page["data"]]
        cursor = page["next_cursor"]
    assert listed == names
    assert api.call("GET", "/v1/event-types?limit=0").status == 400
    assert api.call("GET", "/v1/event-types?cursor=forged").status == 400


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"schema": {"type": "nope"}}, "schema.type"),
        ({"schema": {"$ref": "https://example.com/order.json"}}, "$ref"),
        (
            {"schema": ORDER_SCHEMA, "examples": [{"order_id": "ord_1", "amount": "4200"}]},
            "examples[0].amount",
        ),
        ({"examples": [42]}, "examples[0]"),
        ({"schema": "object"}, "schema"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_a_bad_schema_or_example_is_a_400_naming_it(
    api: ApiClient, stack: Stack, body: dict[str, Any], named: str
) -> None:
    response = api.call("PUT", "/v1/event-types/order.created", body)
    assert response.status == 400, response
    assert response.body["error"]["code"] == "invalid_request"
    assert named in response.body["error"]["message"]
    assert api.call("GET", "/v1/event-types/order.created").status == 404  # nothing half-written


def test_ingest_refuses_data_that_breaks_the_schema_naming_the_path(api: ApiClient, stack: Stack) -> None:
    api.call("PUT", "/v1/event-types/order.created", ORDER_TYPE)
    with Receiver(always(200)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        events = "/v1/tenants/acme/events"

        wrong = api.call("POST", events, {"type": "order.created", "data": {"order_id": "o", "amount": "x"}})
        assert wrong.status == 422
        assert wrong.body["error"]["code"] == "schema_mismatch"
        assert wrong.body["error"]["message"].startswith("data.amount: ")
        missing = api.call("POST", events, {"type": "order.created", "data": {"amount": 1}})
        assert missing.body["error"]["message"] == "data.order_id: is required"
        nested = {"order_id": "o", "amount": 1, "lines": [{"sku": "a"}, {"sku": 7}]}
        deep = api.call("POST", events, {"type": "order.created", "data": nested})
        assert deep.body["error"]["message"].startswith("data.lines[1].sku: ")

        good = api.call("POST", events, {"type": "order.created", "data": {"order_id": "o", "amount": 1}})
        assert good.status == 202
        other = api.call("POST", events, {"type": "not.in.catalog", "data": {"anything": True}})
        assert other.status == 202  # RequireRegisteredEventTypes is false by default
        stack.run_until(lambda: status_of(api, good.body["id"], endpoint_id) == "succeeded")
        stack.run_until(lambda: status_of(api, other.body["id"], endpoint_id) == "succeeded")
        delivered = {json.loads(request.body)["type"] for request in receiver.requests}
        assert delivered == {"order.created", "not.in.catalog"}


def test_a_batch_item_that_breaks_the_schema_gets_its_own_422(api: ApiClient, stack: Stack) -> None:
    api.call("PUT", "/v1/event-types/order.created", ORDER_TYPE)
    api.call("PUT", "/v1/tenants/acme", {"name": "acme"})
    events = [
        {"type": "order.created", "data": {"order_id": "o1", "amount": 1}},
        {"type": "order.created", "data": {"order_id": "o2", "amount": -5}},
        {"type": "other.thing", "data": {}},
    ]
    response = api.call("POST", "/v1/tenants/acme/events/batch", {"events": events})
    assert response.status == 207
    results = response.body["data"]
    assert [result["status"] for result in results] == [202, 422, 202]
    assert results[1]["error"]["code"] == "schema_mismatch"
    assert results[1]["error"]["message"].startswith("data.amount: ")


def test_a_test_send_naming_a_catalog_type_sends_its_first_example(api: ApiClient, stack: Stack) -> None:
    api.call("PUT", "/v1/event-types/order.created", ORDER_TYPE)
    with Receiver(always(200)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url, event_types=["invoice.*"])
        test = f"/v1/tenants/acme/endpoints/{endpoint_id}/test"
        sent = api.call("POST", test, {"type": "order.created"})
        assert sent.status == 202, sent
        stack.run_until(lambda: status_of(api, sent.body["id"], endpoint_id) == "succeeded")
        body = json.loads(receiver.requests[0].body)
        assert (body["type"], body["data"]) == ("order.created", ORDER_TYPE["examples"][0])

        refused = api.call("POST", test, {"type": "order.created", "data": {"amount": 1}})
        assert refused.status == 422
        assert refused.body["error"]["code"] == "schema_mismatch"


class TestRequireRegisteredEventTypes:
    @pytest.fixture
    def stack_parameters(self) -> dict[str, str]:
        return TEST_PARAMETERS | {"RequireRegisteredEventTypes": "true"}

    def test_a_type_not_in_the_catalog_is_a_422(self, api: ApiClient, stack: Stack) -> None:
        api.call("PUT", "/v1/tenants/acme", {"name": "acme"})
        api.call("PUT", "/v1/event-types/order.created", {"description": "no schema: any data"})
        events = "/v1/tenants/acme/events"
        unknown = api.call("POST", events, {"type": "order.deleted", "data": {}})
        assert unknown.status == 422
        assert unknown.body["error"]["code"] == "unknown_event_type"
        assert api.call("POST", events, {"type": "order.created", "data": {"x": 1}}).status == 202
        batch = api.call(
            "POST",
            events + "/batch",
            {"events": [{"type": "order.deleted", "data": {}}, {"type": "order.created", "data": {}}]},
        )
        assert [result["status"] for result in batch.body["data"]] == [422, 202]
