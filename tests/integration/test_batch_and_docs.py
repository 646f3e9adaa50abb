"""Batch ingest (per-item results, partial failure, per-item idempotency, limits), test sends through the
normal path, and the API's own description (OpenAPI 3.1, Swagger UI served offline)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate
from standardwebhooks.webhooks import Webhook

from hookline.api.routes import ROUTES
from hookline.core.jobs import decode_job
from hookline.storage.queue import JobQueue
from tests.integration.lambda_harness import ApiClient, Stack, api_request
from tests.receivers import Receiver

BATCH = "/v1/tenants/acme/events/batch"


def queued(stack: Stack) -> list[Any]:
    jobs: list[Any] = []
    while messages := stack.receive(stack.delivery_queue_url):
        jobs += [decode_job(m["Body"]) for m in messages]
    return jobs


@pytest.fixture
def acme(api: ApiClient) -> None:
    assert api.call("PUT", "/v1/tenants/acme", {"name": "Acme"}).status == 201


@pytest.mark.usefixtures("acme")
def test_a_batch_answers_each_item_in_order_and_a_bad_one_fails_alone(api: ApiClient, stack: Stack) -> None:
    events: list[Any] = [
        {"type": "order.created", "data": {"n": 0}},
        {"type": "order created", "data": {}},
        {"type": "order.paid", "data": {"n": 2}, "idempotency_key": "pay-2"},
        [1, 2],
        {"type": "order.paid", "data": {"n": 4}, "extra": True},
        {"type": "order.paid", "data": {"n": 5}},
    ]
    response = api.call("POST", BATCH, {"events": events})
    assert response.status == 207
    results = response.body["data"]
    assert [r["status"] for r in results] == [202, 400, 202, 400, 400, 202]
    assert results[1]["error"]["code"] == "invalid_request"
    assert results[1]["error"]["message"].startswith("events[1].type: ")
    assert results[3]["error"]["message"].startswith("events[3]: ")
    assert results[4]["error"]["message"].startswith("events[4].extra: ")
    accepted = [r for r in results if r["status"] == 202]
    assert [r["type"] for r in accepted] == ["order.created", "order.paid", "order.paid"]
    jobs = queued(stack)
    assert sorted(job.event_id for job in jobs) == sorted(r["id"] for r in accepted)
    assert {json.loads(job.body)["data"]["n"] for job in jobs} == {0, 2, 5}


@pytest.mark.usefixtures("acme")
def test_batch_items_are_idempotent_one_by_one(api: ApiClient, stack: Stack) -> None:
    first = api.call("POST", BATCH, {"events": [{"type": "a.b", "data": {"n": 1}, "idempotency_key": "k1"}]})
    again = api.call(
        "POST",
        BATCH,
        {
            "events": [
                {"type": "a.b", "data": {"n": 1}, "idempotency_key": "k1"},
                {"type": "a.b", "data": {"n": 2}, "idempotency_key": "k1"},
                {"type": "a.b", "data": {"n": 3}, "idempotency_key": "k2"},
            ]
        },
    )
    [one] = first.body["data"]
    same, conflict, new = again.body["data"]
    assert same == one
    assert conflict["status"] == 422 and conflict["error"]["code"] == "unprocessable"
    assert new["status"] == 202 and new["id"] != one["id"]
    single = api.call(
        "POST",
        "/v1/tenants/acme/events",
        {"type": "a.b", "data": {"n": 1}},
        headers={"Idempotency-Key": "k1"},
    )
    assert single.body == {key: one[key] for key in ("id", "type", "timestamp")}  # one key space per tenant
    assert len(queued(stack)) == 2


@pytest.mark.usefixtures("acme")
def test_items_that_cannot_be_queued_fail_alone_and_free_their_keys(
    api: ApiClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = JobQueue.send_batch

    def refusing_the_second(self: JobQueue, jobs: Any) -> list[int]:
        failed = original(self, [job for index, job in enumerate(jobs) if index != 1])
        return sorted({1, *(index + (index >= 1) for index in failed)})

    monkeypatch.setattr(JobQueue, "send_batch", refusing_the_second)
    items = [{"type": "a.b", "data": {"n": n}, "idempotency_key": f"k{n}"} for n in range(3)]
    results = api.call("POST", BATCH, {"events": items}).body["data"]
    assert [r["status"] for r in results] == [202, 503, 202]
    assert results[1]["error"]["code"] == "service_unavailable"
    monkeypatch.undo()
    retried = api.call("POST", BATCH, {"events": [items[1]]}).body["data"][0]
    assert retried["status"] == 202  # the key was released, so the retry is a new event
    assert {job.event_id for job in queued(stack)} == {results[0]["id"], results[2]["id"], retried["id"]}


@pytest.mark.usefixtures("acme")
def test_batch_limits(api: ApiClient, stack: Stack) -> None:
    limit = int(stack.env("IngestFunction", "MAX_PAYLOAD_BYTES"))
    too_big = {"events": [{"type": "a.b", "data": {"blob": "x" * (limit // 4)}} for _ in range(5)]}
    assert api.call("POST", BATCH, too_big).status == 413
    for envelope in (
        {"events": []},
        {"events": [{"type": "a.b", "data": {}}] * 101},
        {"events": {"type": "a.b"}},
        {"evnts": []},
        {"events": [], "more": 1},
        [{"type": "a.b", "data": {}}],
    ):
        response = api.call("POST", BATCH, envelope)
        assert response.status == 400, envelope
        assert response.body["error"]["code"] == "invalid_request"
    hundred = api.call("POST", BATCH, {"events": [{"type": "a.b", "data": {"n": n}} for n in range(100)]})
    assert hundred.status == 207 and {r["status"] for r in hundred.body["data"]} == {202}
    assert len(queued(stack)) == 100
    assert (
        api.call("POST", "/v1/tenants/nobody/events/batch", {"events": [{"type": "a", "data": {}}]}).status
        == 404
    )


# --- test sends -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("acme")
def test_a_test_send_reaches_that_endpoint_only_signed_past_its_filters(api: ApiClient, stack: Stack) -> None:
    with Receiver() as tested, Receiver() as bystander:
        only_invoices = {"url": tested.url, "event_types": ["invoice.*"], "filter": {"data": {"x": [1]}}}
        endpoint_id = api.call("POST", "/v1/tenants/acme/endpoints", only_invoices).body["id"]
        api.call("POST", "/v1/tenants/acme/endpoints", {"url": bystander.url})
        secret = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}/secret").body["secret"]
        sent = api.call("POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/test")
        assert sent.status == 202 and sent.body["id"].startswith("evt_")
        custom = api.call(
            "POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/test", {"type": "order.test", "data": {"y": 2}}
        )
        stack.run_until(lambda: len(tested.requests) == 2)
        bodies = {r.headers["webhook-id"]: Webhook(secret).verify(r.body, r.headers) for r in tested.requests}
        assert bodies[sent.body["id"]]["type"] == "webhook.test"
        assert bodies[sent.body["id"]]["data"]["example"]["order_id"] == "ord_1001"
        assert bodies[custom.body["id"]]["type"] == "order.test" and bodies[custom.body["id"]]["data"] == {
            "y": 2
        }
        event = api.call("GET", f"/v1/tenants/acme/events/{sent.body['id']}").body
        assert [(d["endpoint_id"], d["status"]) for d in event["deliveries"]] == [(endpoint_id, "succeeded")]
        # The bystander got nothing: a later ordinary event reaches it first, and alone.
        marker = api.call("POST", "/v1/tenants/acme/events", {"type": "order.paid", "data": {}}).body["id"]
        stack.run_until(lambda: len(bystander.requests) == 1)
        assert [r.headers["webhook-id"] for r in bystander.requests] == [marker]
    api.call("PATCH", f"/v1/tenants/acme/endpoints/{endpoint_id}", {"enabled": False})
    assert api.call("POST", f"/v1/tenants/acme/endpoints/{endpoint_id}/test").status == 409


# --- the API's own description --------------------------------------------------------------------------


def raw(stack: Stack, path: str, key: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = stack.ingest.invoke(api_request("GET", path, api_key=key))
    return response


def test_the_openapi_document_is_valid_and_lists_every_route(stack: Stack) -> None:
    response = raw(stack, "/v1/openapi.json")
    assert response["statusCode"] == 200
    document = json.loads(response["body"])
    validate(document)  # OpenAPI 3.1, by openapi-spec-validator
    assert document["openapi"] == "3.1.0"
    listed = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    declared = {(spec.method, spec.path) for spec in ROUTES if not spec.extra.get("hidden")}
    assert listed == declared and len(listed) >= 25
    endpoint = document["components"]["schemas"]["EndpointIn"]
    assert endpoint["additionalProperties"] is False and endpoint["required"] == ["url"]
    post_event = document["paths"]["/v1/tenants/{tenant_id}/events"]["post"]
    assert post_event["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EventIn"
    }
    assert {"202", "400", "401", "403", "404", "413", "422", "503"} <= set(post_event["responses"])
    assert document["paths"]["/v1/openapi.json"]["get"]["security"] == []


def test_swagger_ui_is_served_by_the_api_itself_without_auth(stack: Stack) -> None:
    page = raw(stack, "/v1/docs")
    assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html")
    html = page["body"]
    assert "http://" not in html and "https://" not in html  # no CDN: every asset comes from here
    for asset in ("docs/swagger-ui.css", "docs/swagger-ui-bundle.js", "docs/favicon-32x32.png"):
        assert asset in html
        served = raw(stack, "/v1/" + asset)
        assert served["statusCode"] == 200, asset
        assert len(served["body"]) > 100
    assert raw(stack, "/v1/docs/favicon-32x32.png")["isBase64Encoded"] is True
    missing = raw(stack, "/v1/docs/nothing.js")
    assert missing["statusCode"] == 404 and json.loads(missing["body"])["error"]["code"] == "not_found"
