"""v1a (ed25519) signatures and W3C trace context, through the real ingest and dispatch handlers under moto,
with receivers on 127.0.0.1.

v1a signatures are checked with ``cryptography``'s own Ed25519PublicKey.verify over the Standard Webhooks
signed content, and v1 with the ``standardwebhooks`` library: neither uses Hookline's signing code.
"""

from __future__ import annotations

import base64
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks.webhooks import Webhook

from tests.integration.lambda_harness import ApiClient, Stack
from tests.integration.test_delivery import always, post_event, scripted, status_of
from tests.receivers import Receiver, RecordedRequest

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def create_endpoint(api: ApiClient, url: str, **fields: object) -> str:
    if api.call("GET", "/v1/tenants/acme").status == 404:
        api.call("PUT", "/v1/tenants/acme", {"name": "acme"})
    created = api.call("POST", "/v1/tenants/acme/endpoints", {"url": url} | fields)
    assert created.status == 201, created
    return str(created.body["id"])


def public_key(encoded: str) -> Ed25519PublicKey:
    assert encoded.startswith("whpk_")
    raw = base64.b64decode(encoded.removeprefix("whpk_"), validate=True)
    assert len(raw) == 32
    return Ed25519PublicKey.from_public_bytes(raw)


def v1a_verifies(key: Ed25519PublicKey, request: RecordedRequest) -> bool:
    """The spec's check: one of the header's v1a signatures over "{id}.{timestamp}.{body}"."""
    signed = (
        f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    )
    for entry in request.headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), signed)
        except InvalidSignature:
            continue
        return True
    return False


def test_a_v1a_endpoint_is_signed_with_ed25519_and_shows_only_its_public_key(
    api: ApiClient, stack: Stack
) -> None:
    with Receiver(always(200)) as receiver:
        endpoint_id = create_endpoint(api, receiver.url, signature="v1a")
        shown = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}")
        assert shown.body["signature"] == "v1a"
        answer = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}/secret").body
        assert set(answer) == {"public_key"}
        key = public_key(answer["public_key"])

        event_id = post_event(api, data={"order_id": "ord_1"})
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded")
        request = receiver.requests[0]
        assert request.headers["webhook-signature"].startswith("v1a,")
        assert v1a_verifies(key, request)
        other = Ed25519PublicKey.from_public_bytes(bytes(32))
        assert not v1a_verifies(other, request)


def test_a_v1a_rotation_signs_with_both_keys_during_the_grace_window(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as receiver:
        endpoint_id = create_endpoint(api, receiver.url, signature="v1a")
        path = f"/v1/tenants/acme/endpoints/{endpoint_id}/secret"
        old_key = public_key(api.call("GET", path).body["public_key"])
        rotated = api.call("POST", path + "/rotate")
        assert rotated.status == 200, rotated
        assert "previous_key_expires_at" in rotated.body
        new_key = public_key(rotated.body["public_key"])
        assert api.call("GET", path).body["public_key"] == rotated.body["public_key"]
        assert api.call("POST", path + "/rotate", {"secret": "whsec_" + "A" * 44}).status == 400

        event_id = post_event(api)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded")
        request = receiver.requests[0]
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        assert v1a_verifies(new_key, request)
        assert v1a_verifies(old_key, request)


def test_v1_stays_the_default_and_verifies_with_standardwebhooks(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as receiver:
        endpoint_id = create_endpoint(api, receiver.url)
        assert api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}").body["signature"] == "v1"
        secret = api.call("GET", f"/v1/tenants/acme/endpoints/{endpoint_id}/secret").body["secret"]
        event_id = post_event(api)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded")
        request = receiver.requests[0]
        Webhook(secret).verify(request.body, dict(request.headers))
        refused = api.call(
            "POST",
            "/v1/tenants/acme/endpoints",
            {"url": receiver.url, "signature": "v1a", "secret": "whsec_" + "A" * 44},
        )
        assert refused.status == 400
        assert (
            api.call("POST", "/v1/tenants/acme/endpoints", {"url": receiver.url, "signature": "v2"}).status
            == 400
        )


def test_traceparent_reaches_every_attempt_with_the_callers_trace_id(api: ApiClient, stack: Stack) -> None:
    with Receiver(scripted(500, 200)) as receiver:
        endpoint_id = create_endpoint(api, receiver.url)
        sent = api.call(
            "POST",
            "/v1/tenants/acme/events",
            {"type": "order.created", "data": {}},
            headers={"traceparent": TRACEPARENT},
        )
        assert sent.status == 202
        stack.run_until(lambda: status_of(api, sent.body["id"], endpoint_id) == "succeeded")
        headers = [request.headers["traceparent"] for request in receiver.requests]
        assert len(headers) == 2  # the failed attempt and its retry
        for header in headers:
            version, trace_id, parent_id, flags = header.split("-")
            assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
            assert parent_id != "00f067aa0ba902b7"  # each attempt is a span of its own
        assert headers[0] != headers[1]


def test_batch_events_carry_the_requests_traceparent_and_an_invalid_one_is_ignored(
    api: ApiClient, stack: Stack
) -> None:
    with Receiver(always(200)) as receiver:
        endpoint_id = create_endpoint(api, receiver.url)
        batch = api.call(
            "POST",
            "/v1/tenants/acme/events/batch",
            {"events": [{"type": "a.b", "data": {}}, {"type": "a.c", "data": {}}]},
            headers={"traceparent": TRACEPARENT},
        )
        invalid = api.call(
            "POST",
            "/v1/tenants/acme/events",
            {"type": "a.d", "data": {}},
            headers={"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"},
        )
        assert invalid.status == 202
        ids = [result["id"] for result in batch.body["data"]] + [invalid.body["id"]]
        stack.run_until(lambda: all(status_of(api, i, endpoint_id) == "succeeded" for i in ids))
        by_type = {json.loads(r.body)["type"]: r.headers.get("traceparent") for r in receiver.requests}
        assert by_type["a.b"] is not None and by_type["a.b"].split("-")[1] == TRACE_ID
        assert by_type["a.c"] is not None and by_type["a.c"].split("-")[1] == TRACE_ID
        assert by_type["a.d"] is None
