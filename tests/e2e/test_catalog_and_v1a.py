"""The third part of the API through the local stack over HTTP: the catalog's schema checks at ingest,
a test send of a type's example, a v1a delivery verified with the public key alone, and traceparent
reaching the receiver. Types get unique names: the catalog is shared by the whole (session's) deployment."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.e2e.conftest import Api, Target
from tests.receivers import Receiver

pytestmark = pytest.mark.slow

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_schema_checks_test_send_example_v1a_and_traceparent(
    local_target: Target, api: Api, tenant: str
) -> None:
    event_type = f"order.e2e_{uuid.uuid4().hex[:8]}"
    schema = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}}
    example = {"amount": 4200}
    put = api.request("PUT", f"/v1/event-types/{event_type}", json={"schema": schema, "examples": [example]})
    assert put.status_code == 201, put.text

    events = f"/v1/tenants/{tenant}/events"
    refused = api.request("POST", events, json={"type": event_type, "data": {"amount": "x"}})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "schema_mismatch"
    assert refused.json()["error"]["message"].startswith("data.amount: ")
    batch = api.request(
        "POST",
        events + "/batch",
        json={"events": [{"type": event_type, "data": {}}, {"type": "a.b", "data": {}}]},
    )
    assert [item["status"] for item in batch.json()["data"]] == [422, 202]

    with Receiver() as receiver:
        created = api.client.create_endpoint(tenant, receiver.url, signature="v1a", event_types=[event_type])
        assert created["signature"] == "v1a"
        public = api.client.endpoint_secret(tenant, created["id"])["public_key"]
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public.removeprefix("whpk_")))

        sent = api.request(
            "POST",
            events,
            json={"type": event_type, "data": {"amount": 1}},
            headers={"traceparent": TRACEPARENT},
        )
        assert sent.status_code == 202, sent.text
        test = api.client.test_endpoint(tenant, created["id"], event_type)
        requests = receiver.wait_for_requests(2, timeout=20)

    by_id = {request.headers["webhook-id"]: request for request in requests}
    traced, example_sent = by_id[sent.json()["id"]], by_id[test["id"]]
    for request in (traced, example_sent):
        signed = (
            f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
        )
        version, _, signature = request.headers["webhook-signature"].partition(",")
        assert version == "v1a"
        key.verify(base64.b64decode(signature), signed)  # raises InvalidSignature otherwise
    assert traced.headers["traceparent"].split("-")[1] == TRACEPARENT.split("-")[1]
    assert json.loads(example_sent.body)["data"] == example
