"""Our Standard Webhooks signatures, judged by the independent PyPI `standardwebhooks` library."""

import base64
import json
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hookline import USER_AGENT
from hookline.core.signing import (
    generate_key,
    generate_secret,
    public_key,
    scheme_of,
    secret_key,
    signature_header,
    verify,
    webhook_headers,
)

BODY = json.dumps(
    {"type": "order.created", "timestamp": "2026-11-27T00:00:00.000Z", "data": {"n": 1}}
).encode()


def _headers(secrets: list[str], timestamp: int, message_id: str = "evt_1") -> dict[str, str]:
    return webhook_headers(secrets, message_id, timestamp, BODY, USER_AGENT)


def test_generated_secret_has_the_whsec_shape_and_key_length() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert 24 <= len(secret_key(secret)) <= 64
    assert generate_secret() != secret


def test_signature_verifies_with_the_standardwebhooks_library() -> None:
    secret = generate_secret()
    # The library refuses timestamps far from now (replay protection), so sign with "now".
    headers = _headers([secret], int(time.time()))
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_two_signatures_in_one_header_each_verify_alone() -> None:
    old, new = generate_secret(), generate_secret()
    now = int(time.time())
    headers = _headers([old, new], now)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert all(part.startswith("v1,") for part in headers["webhook-signature"].split(" "))
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_tampered_body_or_id_fails_verification() -> None:
    secret = generate_secret()
    headers = _headers([secret], int(time.time()))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b'"n":1', b'"n":2').replace(b'"n": 1', b'"n": 2'), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers | {"webhook-id": "evt_other"})


def test_signature_matches_the_spec_test_vector() -> None:
    # The vector published with the Standard Webhooks reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    header = signature_header([secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert header == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, "v1,bogus " + header)


def test_headers_carry_the_contract_and_custom_headers_cannot_override_them() -> None:
    secret = generate_secret()
    headers = webhook_headers(
        [secret], "evt_1", 1, BODY, USER_AGENT, {"x-tenant": "acme", "webhook-id": "forged"}
    )
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == "1"
    assert headers["content-type"] == "application/json"
    assert "Hookline" in headers["user-agent"]
    assert headers["x-tenant"] == "acme"


def test_secret_key_rejects_foreign_prefixes() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        secret_key("sk_" + base64.b64encode(b"x" * 32).decode())


# --- v1a (ed25519), judged by cryptography's own verify over the spec's signed content ------------------


def _verifies_v1a(public: str, header: str, message_id: str, timestamp: int) -> list[bool]:
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public.removeprefix("whpk_")))
    signed = f"{message_id}.{timestamp}.".encode() + BODY
    results = []
    for entry in header.split(" "):
        version, _, signature = entry.partition(",")
        assert version == "v1a"
        try:
            key.verify(base64.b64decode(signature), signed)
            results.append(True)
        except InvalidSignature:
            results.append(False)
    return results


def test_a_v1a_key_signs_what_its_public_key_verifies() -> None:
    private = generate_key("v1a")
    assert private.startswith("whsk_")
    assert scheme_of(private) == "v1a"
    assert scheme_of(generate_key("v1")) == "v1"
    public = public_key(private)
    assert public.startswith("whpk_")
    assert len(base64.b64decode(public.removeprefix("whpk_"))) == 32
    header = signature_header([private], "evt_1", 1_800_000_000, BODY)
    assert _verifies_v1a(public, header, "evt_1", 1_800_000_000) == [True]
    assert _verifies_v1a(public, header, "evt_2", 1_800_000_000) == [False]


def test_v1a_signs_with_every_key_of_a_rotation() -> None:
    old, new = generate_key("v1a"), generate_key("v1a")
    header = signature_header([new, old], "evt_1", 1_800_000_000, BODY)
    assert _verifies_v1a(public_key(new), header, "evt_1", 1_800_000_000) == [True, False]
    assert _verifies_v1a(public_key(old), header, "evt_1", 1_800_000_000) == [False, True]


@pytest.mark.parametrize("bad", ["whsk_", "whsk_AAAA", "whsk_!!!!", "whsec_" + "A" * 44])
def test_a_malformed_v1a_key_cannot_sign_or_show_a_public_key(bad: str) -> None:
    with pytest.raises(ValueError):
        public_key(bad)
