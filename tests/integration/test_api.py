"""The v1 API through the ingest handler, on the committed events/ fixtures, under moto."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from standardwebhooks.webhooks import Webhook

from hookline.core import clock, ids
from hookline.core.jobs import decode_job
from tests.integration.lambda_harness import ApiClient, Stack, api_request, load_event, reset_hookline
from tests.integration.seed import Seeder
from tests.receivers import Receiver

ENDPOINT = {
    "url": "https://example.com/webhooks/acme",
    "event_types": ["order.*"],
    "description": "Acme orders",
}


def _tenant(api: ApiClient, tenant_id: str = "acme") -> None:
    assert api.call("PUT", f"/v1/tenants/{tenant_id}", {"name": tenant_id.title()}).status in {200, 201}


def _queued(stack: Stack) -> list[Any]:
    return [decode_job(m["Body"]) for m in stack.receive(stack.delivery_queue_url)]


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
    assert api.call("DELETE", "/v1/tenants/acme").status == 404


def test_requests_without_a_valid_key_get_401_even_on_unknown_routes(api: ApiClient) -> None:
    for key in (None, "hk_wrong", ids.new_api_key()):
        for method, path in [
            ("GET", "/v1/tenants/acme"),
            ("POST", "/v1/tenants/acme/events"),
            ("GET", "/v1/nope"),
            ("PATCH", "/v1/tenants/acme"),
        ]:
            response = api.call(method, path, api_key=key)
            assert response.status == 401, (method, path)
            assert response.body["error"]["code"] == "unauthorized"
            assert response.headers.get("WWW-Authenticate") == "Bearer"
    assert api.call("GET", "/v1/nope").status == 404


def test_endpoint_crud_masks_headers_and_never_shows_the_secret(api: ApiClient) -> None:
    _tenant(api)
    created = api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT | {"headers": {"X-Team": "t0ken"}})
    assert created.status == 201
    endpoint_id = created.body["id"]
    assert created.body["headers"] == {"x-team": "****"}
    assert "t0ken" not in json.dumps(created.body)
    secret = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}/secret").body["secret"]
    assert secret.startswith("whsec_")
    patched = api.call(
        "PATCH", f"/v1/tenants/acme/endpoints/{endpoint_id}", {"event_types": None, "enabled": False}
    )
    assert patched.status == 200
    assert patched.body["event_types"] is None
    assert patched.body["enabled"] is False
    assert patched.body["disabled_reason"] == "disabled through the API"
    assert patched.body["description"] == "Acme orders"
    assert patched.body["headers"] == {"x-team": "****"}
    shown = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").body
    assert shown == patched.body
    enabled = api.call("PATCH", f"/v1/tenants/acme/endpoints/{endpoint_id}", {"enabled": True}).body
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    assert api.call("PATCH", f"/v1/tenants/acme/endpoints/{endpoint_id}", {"url": None}).status == 400
    assert api.call("DELETE", f"/v1/tenants/acme/endpoints/{endpoint_id}").status == 204
    assert api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").status == 404
    assert api.call("DELETE", f"/v1/tenants/acme/endpoints/{endpoint_id}").status == 404
    assert api.call("GET", "/v1/tenants/acme/endpoints/not-an-id").status == 404


def test_rotation_keeps_the_old_secret_signing_for_the_grace_window(api: ApiClient) -> None:
    _tenant(api)
    endpoint_id = api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT).body["id"]
    path = f"/v1/tenants/acme/endpoints/{endpoint_id}"
    old = api.call("GET", path + "/secret").body["secret"]
    mine = "whsec_" + base64.b64encode(b"s" * 32).decode()
    rotated = api.call("POST", path + "/secret/rotate", {"secret": mine})
    assert rotated.status == 200
    assert rotated.body["secret"] == mine
    assert clock.parse_iso(rotated.body["previous_secret_expires_at"]).timestamp() > time.time() + 3600
    assert api.call("GET", path + "/secret").body["secret"] == mine
    generated = api.call("POST", path + "/secret/rotate").body["secret"]
    assert generated not in {old, mine}


def test_endpoint_pages_are_full_until_the_last(api: ApiClient) -> None:
    _tenant(api)
    created = {api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT).body["id"] for _ in range(5)}
    seen: list[str] = []
    pages = []
    cursor = None
    while True:
        page = api.call(
            "GET", "/v1/tenants/acme/endpoints?limit=2" + (f"&cursor={cursor}" if cursor else "")
        ).body
        pages.append(len(page["data"]))
        seen += [endpoint["id"] for endpoint in page["data"]]
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if not cursor:
            break
    assert pages == [2, 2, 1]
    assert sorted(seen) == sorted(created)
    exact = api.call("GET", "/v1/tenants/acme/endpoints?limit=5").body
    assert len(exact["data"]) == 5 and exact["has_more"] is False and exact["next_cursor"] is None
    assert api.call("GET", "/v1/tenants/acme/endpoints?limit=0").status == 400
    assert api.call("GET", "/v1/tenants/acme/endpoints?cursor=garbage").status == 400
    other = api.call("GET", "/v1/tenants/acme/endpoints?limit=2").body["next_cursor"]
    _tenant(api, "globex")
    assert api.call("GET", f"/v1/tenants/globex/endpoints?cursor={other}").status == 400


def test_unknown_tenant_endpoint_and_event_get_404(api: ApiClient) -> None:
    assert api.call("POST", "/v1/tenants/nobody/endpoints", ENDPOINT).status == 404
    assert api.call("POST", "/v1/tenants/nobody/events", {"type": "a.b", "data": {}}).status == 404
    assert api.call("GET", "/v1/tenants/nobody/events").status == 404
    _tenant(api)
    assert api.call("GET", "/v1/tenants/acme/events/evt_missing").status == 404
    old_id = "evt_" + "0" * 26
    assert api.call("GET", f"/v1/tenants/acme/events/{old_id}").status == 404
    assert api.call("GET", f"/v1/tenants/acme/events/{old_id}/attempts").status == 404
    assert api.call("POST", f"/v1/tenants/acme/events/{old_id}/retry").status == 404
    assert api.call("GET", "/v1/tenants/acme/nothing-here").status == 404


def test_payload_over_the_limit_gets_413_and_nothing_is_queued(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    limit = int(stack.env("IngestFunction", "MAX_PAYLOAD_BYTES"))
    big = {"type": "order.created", "data": {"blob": "x" * limit}}
    response = api.call("POST", "/v1/tenants/acme/events", big)
    assert response.status == 413
    assert response.body["error"]["code"] == "payload_too_large"
    assert stack.receive(stack.delivery_queue_url) == []


def test_a_large_event_is_recorded_first_and_queued_without_its_body(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    data = {"blob": "x" * 210_000}  # under the request limit, too large to travel inside its job
    accepted = api.call("POST", "/v1/tenants/acme/events", {"type": "order.created", "data": data})
    assert accepted.status == 202
    [job] = _queued(stack)
    assert job.event_id == accepted.body["id"] and job.body is None
    record = Seeder(stack).record("acme", accepted.body["id"])
    assert record is not None and json.loads(record.event.body)["data"] == data


def test_ingest_makes_one_aws_call_for_1_or_200_matching_endpoints(
    api: ApiClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, params: dict[str, object]) -> object:
        calls.append(operation)
        return original(client, operation, params)

    _tenant(api)
    api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT)
    for event_type in ("order.created", "a.b"):  # warm: the tenant, and each type's catalog entry (absent)
        api.call("POST", "/v1/tenants/acme/events", {"type": event_type, "data": {}})
    monkeypatch.setattr(BaseClient, "_make_api_call", counting)

    def calls_for_one_event() -> list[str]:
        calls.clear()
        assert (
            api.call("POST", "/v1/tenants/acme/events", {"type": "order.created", "data": {}}).status == 202
        )
        return sorted(calls)

    with_one = calls_for_one_event()
    seeder = Seeder(stack)  # 199 more, written through the store as the API writes them (and faster)
    for _ in range(199):
        seeder.endpoint("acme", ENDPOINT["url"], event_types=("order.*",), description="Acme orders")
    assert len(api.call("GET", "/v1/tenants/acme/endpoints?limit=100").body["data"]) == 100
    assert calls_for_one_event() == with_one == ["SendMessage"]
    calls.clear()
    api.call(
        "POST", "/v1/tenants/acme/events", {"type": "a.b", "data": {}}, headers={"Idempotency-Key": "k-1"}
    )
    # The claim (pending), the job, then the claim marked sent: a repeat never answers an unqueued id.
    assert calls == ["PutItem", "SendMessage", "UpdateItem"]


def test_idempotent_ingest_returns_the_first_answer_and_queues_once(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    body = {"type": "order.created", "data": {"order_id": "ord_1", "n": [1, 2]}}
    first = api.call("POST", "/v1/tenants/acme/events", body, headers={"Idempotency-Key": "order-1"})
    same_body_reordered = {"data": {"n": [1, 2], "order_id": "ord_1"}, "type": "order.created"}
    second = api.call(
        "POST", "/v1/tenants/acme/events", same_body_reordered, headers={"Idempotency-Key": "order-1"}
    )
    assert first.status == second.status == 202
    assert first.body == second.body
    assert len(_queued(stack)) == 1
    reused = api.call(
        "POST", "/v1/tenants/acme/events", body | {"data": {}}, headers={"Idempotency-Key": "order-1"}
    )
    assert reused.status == 422
    assert reused.body["error"]["code"] == "unprocessable"
    _tenant(api, "globex")  # keys are per tenant
    other = api.call("POST", "/v1/tenants/globex/events", body, headers={"Idempotency-Key": "order-1"})
    assert other.status == 202 and other.body["id"] != first.body["id"]
    for bad in ("", "x" * 256, "tab\there", "naïve"):
        refused = api.call("POST", "/v1/tenants/acme/events", body, headers={"Idempotency-Key": bad})
        assert refused.status == 400, bad
        assert refused.body["error"]["message"].startswith("Idempotency-Key")


def test_a_claim_whose_event_never_got_queued_is_healed_by_a_repeat(api: ApiClient, stack: Stack) -> None:
    """The first request died between claiming its key and queuing its job: a later repeat queues it."""
    _tenant(api)
    body = {"type": "order.created", "data": {"order_id": "ord_9"}}
    first = api.call("POST", "/v1/tenants/acme/events", body, headers={"Idempotency-Key": "order-9"})
    assert len(_queued(stack)) == 1
    digest = hashlib.sha256(b"order-9").hexdigest()
    Seeder(stack).table.update(  # make the claim look a few minutes old; no record was ever written
        {"pk": {"S": f"IDEM#acme#{digest}"}, "sk": {"S": "IDEM"}},
        "age claim",
        "SET #at = :at",
        ExpressionAttributeNames={"#at": "at"},
        ExpressionAttributeValues={":at": {"N": str(time.time() - 600)}},
    )
    repeat = api.call("POST", "/v1/tenants/acme/events", body, headers={"Idempotency-Key": "order-9"})
    assert repeat.body == first.body
    [healing] = _queued(stack)
    assert healing.event_id == first.body["id"] and healing.read_first is True


def test_bad_input_gets_a_clear_400_never_a_5xx(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    cases: list[tuple[str, str, Any]] = [
        ("PUT", "/v1/tenants/acme", {"title": "x"}),
        ("PUT", "/v1/tenants/bad%23id", {"name": "x"}),
        ("PUT", "/v1/tenants/-starts-badly", {"name": "x"}),
        ("POST", "/v1/tenants/acme/endpoints", {"url": "ftp://example.com"}),
        ("POST", "/v1/tenants/acme/endpoints", {"url": "https://example.com", "headers": {"X-A": "日本"}}),
        (
            "POST",
            "/v1/tenants/acme/endpoints",
            {"url": "https://example.com", "filter": {"numeric": [{}, 1]}},
        ),
        ("POST", "/v1/tenants/acme/events", {"type": "order.created\n", "data": {}}),
        ("POST", "/v1/tenants/acme/events", {"type": "order.created", "data": [1]}),
        ("PUT", "/v1/tenants/acme", {"name": "\ud800"}),
        ("GET", "/v1/tenants/acme/events?status=lost", None),
        ("GET", "/v1/tenants/acme/events?type=order%20created", None),
        ("GET", "/v1/tenants/acme/events?since=yesterday", None),
        ("GET", "/v1/tenants/acme/events?cursor=eyJwayI6IDV9.AAAA", None),
    ]
    for method, path, body in cases:
        response = api.call(method, path, body)
        assert response.status == 400, (path, body, response)
        assert response.body["error"]["code"] == "invalid_request"
        assert response.body["error"]["message"]
    raw_cases = [
        '{"type": "a.b", "data": {"x": NaN}}',
        "[" * 10_000 + "]" * 10_000,
        "{not json",
    ]
    for raw in raw_cases:
        assert api.call("POST", "/v1/tenants/acme/events", raw_body=raw).status == 400
    for raw_bytes, says in [
        (b'{"type": "a.b", "data": {"x": "\xff"}}', "UTF-8"),
        (b"not base64 at all!", "base64"),
    ]:
        event = api_request("POST", "/v1/tenants/acme/events", api_key=api.api_key)
        event["body"] = base64.b64encode(raw_bytes).decode() if says == "UTF-8" else raw_bytes.decode()
        event["isBase64Encoded"] = True
        response = stack.ingest.invoke(event)
        assert response["statusCode"] == 400
        assert says in json.loads(response["body"])["error"]["message"]


def test_deleting_a_tenant_leaves_no_endpoint_or_key_behind(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    for _ in range(3):
        api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT)
    key = api.call("POST", "/v1/tenants/acme/keys", {"name": "ci", "scopes": ["events:read"]}).body["key"]
    assert api.call("GET", "/v1/tenants/acme", api_key=key).status == 200
    assert api.call("DELETE", "/v1/tenants/acme").status == 204
    table = stack.env("IngestFunction", "TABLE_NAME")
    leftovers = [
        item["pk"]["S"] + " " + item["sk"]["S"]
        for item in stack.dynamodb.scan(TableName=table)["Items"]
        if item["pk"]["S"] in {"T#acme"} or item["pk"]["S"].startswith(("RATE#acme", "K#"))
    ]
    assert leftovers == []
    assert api.call("GET", "/v1/tenants/acme", api_key=key).status == 401


def test_an_event_is_delivered_signed_and_found_by_search_end_to_end(api: ApiClient, stack: Stack) -> None:
    """Create a tenant and an endpoint, post an event: the receiver gets it, signed; search finds it."""
    _tenant(api)
    with Receiver() as receiver:
        endpoint = api.call("POST", "/v1/tenants/acme/endpoints", {"url": receiver.url + "/hook"}).body
        secret = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint['id']}/secret").body["secret"]
        accepted = api.call("POST", "/v1/tenants/acme/events", {"type": "order.paid", "data": {"n": 1}}).body

        def delivered() -> bool:
            event = api.call("GET", f"/v1/tenants/acme/events/{accepted['id']}").body
            return event.get("deliveries", [{}])[0].get("status") == "succeeded"

        stack.run_until(delivered)
        [request] = receiver.requests
        assert Webhook(secret).verify(request.body, request.headers)["data"] == {"n": 1}
        assert request.headers["webhook-id"] == accepted["id"]
    event = api.call("GET", f"/v1/tenants/acme/events/{accepted['id']}").body
    assert event["fanout"] == "done" and event["data"] == {"n": 1}
    [delivery] = event["deliveries"]
    assert delivery["endpoint_id"] == endpoint["id"] and delivery["attempts"] == 1
    assert delivery["last_status_code"] == 200 and delivery["next_attempt_at"] is None
    found = api.call("GET", "/v1/tenants/acme/events?type=order.*&status=succeeded").body
    assert [e["id"] for e in found["data"]] == [accepted["id"]]
    attempts = api.call("GET", f"/v1/tenants/acme/events/{accepted['id']}/attempts").body["data"]
    assert [(a["endpoint_id"], a["outcome"], a["status_code"]) for a in attempts] == [
        (endpoint["id"], "succeeded", 200)
    ]
    by_endpoint = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint['id']}/attempts").body["data"]
    assert [a["event_id"] for a in by_endpoint] == [accepted["id"]]


def test_retry_resends_with_the_same_webhook_id_once(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    with Receiver() as receiver:
        endpoint_id = api.call("POST", "/v1/tenants/acme/endpoints", {"url": receiver.url}).body["id"]
        event_id = api.call("POST", "/v1/tenants/acme/events", {"type": "a.b", "data": {}}).body["id"]
        stack.run_until(lambda: len(receiver.requests) == 1)
        stack.run_until(lambda: api.call("GET", f"/v1/tenants/acme/events/{event_id}").status == 200)
        retried = api.call("POST", f"/v1/tenants/acme/events/{event_id}/retry")
        assert retried.status == 202
        assert retried.body == {"event_id": event_id, "endpoint_ids": [endpoint_id], "status": "queued"}
        again = api.call("POST", f"/v1/tenants/acme/events/{event_id}/retry", {"endpoint_id": endpoint_id})
        assert again.status == 202 and again.body["endpoint_ids"] == []  # the first resend still holds it
        stack.run_until(lambda: len(receiver.requests) == 2)
        assert {r.headers["webhook-id"] for r in receiver.requests} == {event_id}
        missing = api.call("POST", f"/v1/tenants/acme/events/{event_id}/retry", {"endpoint_id": "ep_nope"})
        assert missing.status == 404
        # An endpoint the event never matched (created later, other types) gets no resend: 422.
        other = {"url": receiver.url, "event_types": ["other.*"]}
        other_id = api.call("POST", "/v1/tenants/acme/endpoints", other).body["id"]
        refused = api.call("POST", f"/v1/tenants/acme/events/{event_id}/retry", {"endpoint_id": other_id})
        assert (refused.status, refused.body["error"]["code"]) == (422, "not_subscribed")
        api.call("PATCH", f"/v1/tenants/acme/endpoints/{endpoint_id}", {"enabled": False})
        disabled = api.call("POST", f"/v1/tenants/acme/events/{event_id}/retry", {"endpoint_id": endpoint_id})
        assert disabled.status == 409


def test_recover_queues_a_job_and_refuses_disabled_endpoints_and_future_times(
    api: ApiClient, stack: Stack
) -> None:
    _tenant(api)
    endpoint_id = api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT).body["id"]
    path = f"/v1/tenants/acme/endpoints/{endpoint_id}/recover"
    queued = api.call("POST", path, {"since": "2026-11-27T08:00:00+01:00"})
    assert queued.status == 202
    assert queued.body == {
        "endpoint_id": endpoint_id,
        "since": "2026-11-27T07:00:00.000Z",
        "status": "queued",
    }
    [job] = _queued(stack)
    assert (job.endpoint_id, job.since) == (endpoint_id, "2026-11-27T07:00:00.000Z")
    future = clock.iso_from_unix(time.time() + 3600)
    assert api.call("POST", path, {"since": future}).status == 400
    assert api.call("POST", path, {}).status == 400
    api.call("PATCH", f"/v1/tenants/acme/endpoints/{endpoint_id}", {"enabled": False})
    assert api.call("POST", path, {"since": "2026-11-27T08:00:00Z"}).status == 409


def test_operators_list_and_redrive_dead_letters(api: ApiClient, stack: Stack) -> None:
    page = api.call("GET", "/v1/admin/dead-letters?limit=10")
    assert page.status == 200 and page.body == {"data": [], "next_cursor": None, "has_more": False}
    redrive = api.call("POST", "/v1/admin/dead-letters/redrive")
    assert redrive.status == 202 and redrive.body == {"status": "queued"}
    assert [type(job).__name__ for job in _queued(stack)] == ["RedriveJob"]


def test_reseal_moves_secrets_to_the_current_key(api: ApiClient, stack: Stack) -> None:
    _tenant(api)
    endpoint_id = api.call("POST", "/v1/tenants/acme/endpoints", ENDPOINT | {"headers": {"X-A": "1"}}).body[
        "id"
    ]
    secret = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}/secret").body["secret"]
    assert api.call("POST", "/v1/admin/encryption-keys/reseal").body == {"resealed": 0, "next_cursor": None}
    arn = stack.env("IngestFunction", "ENCRYPTION_KEYS_SECRET_ARN")
    client = boto3.client("secretsmanager", region_name="us-east-1")
    old = client.get_secret_value(SecretId=arn)["SecretString"]
    client.put_secret_value(SecretId=arn, SecretString="n" * 48 + " " + old)  # the new key goes first
    resealed = api.call("POST", "/v1/admin/encryption-keys/reseal").body  # re-reads the keys itself
    assert resealed == {"resealed": 1, "next_cursor": None}
    item = stack.dynamodb.get_item(
        TableName=stack.env("IngestFunction", "TABLE_NAME"),
        Key={"pk": {"S": "T#acme"}, "sk": {"S": f"EP#{endpoint_id}"}},
    )["Item"]
    assert item["sec"]["S"].split(".")[1] != old
    client.put_secret_value(SecretId=arn, SecretString="n" * 48)  # the old key dropped
    reset_hookline()  # a new container, which only knows the new key
    assert api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}/secret").body["secret"] == secret
