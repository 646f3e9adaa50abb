"""Standard Webhooks signatures (https://www.standardwebhooks.com/), version ``v1``.

``webhook-signature`` holds ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` per active secret,
separated by spaces, so a receiver mid-rotation accepts either key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32  # the spec allows 24 to 64


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after ``whsec_``."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("webhook secrets start with whsec_")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed_content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed_content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(signing_secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    signatures = [sign(secret, message_id, timestamp, body) for secret in signing_secrets]
    if not signatures:
        raise ValueError("an endpoint always has at least one signing secret")
    return " ".join(signatures)


def verify(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Constant-time check that one of the header's v1 signatures is ours, at any timestamp (Standard
    Webhooks libraries also refuse stale timestamps, which a published test vector always is)."""
    expected = sign(secret, message_id, timestamp, body).encode()
    return any(hmac.compare_digest(expected, candidate.encode()) for candidate in header.split(" "))


def webhook_headers(
    signing_secrets: Iterable[str],
    message_id: str,
    timestamp: int,
    body: bytes,
    user_agent: str,
    custom_headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """Every header of one attempt. Custom endpoint headers never override the webhook-* ones."""
    headers = dict(custom_headers or {})
    headers.update(
        {
            "content-type": "application/json",
            "user-agent": user_agent,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(signing_secrets, message_id, timestamp, body),
        }
    )
    return headers
