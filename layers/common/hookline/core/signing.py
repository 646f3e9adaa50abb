"""Standard Webhooks signatures (https://www.standardwebhooks.com/): ``v1`` (symmetric) and ``v1a``
(asymmetric).

``webhook-signature`` holds one signature per active signing key, separated by spaces, so a receiver
mid-rotation accepts either key:

- ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, keyed with a ``whsec_`` secret (shared with the
  receiver);
- ``v1a,<base64 ed25519 signature of "{id}.{timestamp}.{body}">``, made with a ``whsk_`` private key (the
  base64 of its 32-byte seed), which never leaves Hookline; receivers verify with the ``whpk_`` public key
  (the base64 of its 32 raw bytes).

An endpoint's signing keys are kept as strings either way, so they are sealed, rotated and stored alike; the
prefix says which scheme a key signs with. ed25519 comes from ``cryptography``, imported on first use (most
API requests never sign).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
PRIVATE_KEY_PREFIX = "whsk_"
PUBLIC_KEY_PREFIX = "whpk_"
SECRET_BYTES = 32  # the spec allows 24 to 64
ED25519_KEY_BYTES = 32

Scheme = Literal["v1", "v1a"]


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after ``whsec_``."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("webhook secrets start with whsec_")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def scheme_of(key: str) -> Scheme:
    """The scheme a signing key signs with, from its prefix."""
    return "v1a" if key.startswith(PRIVATE_KEY_PREFIX) else "v1"


def generate_key(scheme: Scheme) -> str:
    """A new signing key: a ``whsec_`` secret for ``v1``, a ``whsk_`` private key for ``v1a``."""
    if scheme == "v1":
        return generate_secret()
    seed = _ed25519().generate().private_bytes_raw()
    return PRIVATE_KEY_PREFIX + base64.b64encode(seed).decode("ascii")


def public_key(private_key: str) -> str:
    """The ``whpk_`` public key of a ``whsk_`` private key."""
    raw = _private_key(private_key).public_key().public_bytes_raw()
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def _ed25519() -> type[Ed25519PrivateKey]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415 - on first use
        Ed25519PrivateKey,
    )

    return Ed25519PrivateKey


@lru_cache(maxsize=1024)
def _private_key(private_key: str) -> Ed25519PrivateKey:
    if not private_key.startswith(PRIVATE_KEY_PREFIX):
        raise ValueError("ed25519 signing keys start with whsk_")
    seed = base64.b64decode(private_key.removeprefix(PRIVATE_KEY_PREFIX), validate=True)
    if len(seed) != ED25519_KEY_BYTES:
        raise ValueError("an ed25519 signing key is 32 bytes")
    return _ed25519().from_private_bytes(seed)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One signature with one key: ``v1,...`` for a ``whsec_`` secret, ``v1a,...`` for a ``whsk_`` key."""
    signed_content = f"{message_id}.{timestamp}.".encode() + body
    if scheme_of(secret) == "v1a":
        signature = _private_key(secret).sign(signed_content)
        return "v1a," + base64.b64encode(signature).decode("ascii")
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
