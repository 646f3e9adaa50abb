"""Secrets at rest and authenticated cursors, under keys that Secrets Manager holds.

The ``EncryptionKeys`` secret holds one or more high-entropy key strings separated by whitespace; the first
encrypts, every one decrypts. Each key string is stretched into separate 256-bit keys for its two uses
(domain-separated SHA-256; the strings are random, so no slow KDF is needed).

- **Endpoint signing secrets** are sealed with AES-256-GCM, with the tenant and endpoint ids as associated
  data, so a ciphertext copied onto another endpoint does not open. A sealed value names its key
  (``v1.<key id>.<nonce+ciphertext>``), which is how a key rotation works: put a new key first, re-seal
  (``POST /v1/admin/encryption-keys/reseal``), then drop the old key.
- **Cursors** carry an HMAC, so a forged or edited cursor is a 400, never a query we did not plan.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hookline.core.errors import ConfigurationError, SealBrokenError, UnknownKeyError

_SEAL_VERSION = "v1"
_NONCE_BYTES = 12
_MAC_BYTES = 16
MIN_KEY_LENGTH = 32


def _aesgcm() -> type[Any]:
    """AES-GCM, imported on first use: most API requests (posting an event) never seal or open a secret,
    and the import is a sizeable part of the API function's cold start."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415 - on first use

    return AESGCM


def _derive(key: str, purpose: bytes) -> bytes:
    return hashlib.sha256(b"hookline\0" + purpose + b"\0" + key.encode()).digest()


@dataclass(frozen=True, slots=True)
class _Key:
    key_id: str
    sealing: bytes
    mac: bytes

    @classmethod
    def of(cls, key: str) -> _Key:
        return cls(_derive(key, b"key-id")[:4].hex(), _derive(key, b"seal"), _derive(key, b"mac"))


class Keyring:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigurationError("the encryption key secret holds no key")
        short = [key for key in keys if len(key) < MIN_KEY_LENGTH]
        if short:
            raise ConfigurationError(f"encryption keys must be at least {MIN_KEY_LENGTH} characters long")
        self._keys = [_Key.of(key) for key in keys]
        self._by_id = {key.key_id: key for key in self._keys}

    @classmethod
    def parse(cls, secret_string: str) -> Keyring:
        return cls(secret_string.split())

    def seal(self, plaintext: str, context: str) -> str:
        key = self._keys[0]
        nonce = os.urandom(_NONCE_BYTES)
        sealed = _aesgcm()(key.sealing).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_SEAL_VERSION}.{key.key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, context: str) -> str:
        version, _, rest = sealed.partition(".")
        key_id, _, payload = rest.partition(".")
        if version != _SEAL_VERSION or not payload:
            raise SealBrokenError("not a sealed value")
        key = self._by_id.get(key_id)
        if key is None:
            raise UnknownKeyError(f"sealed with key {key_id}, which the keyring does not hold")
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415 - see _aesgcm

        try:
            raw = base64.urlsafe_b64decode(payload.encode())
            plain: bytes = _aesgcm()(key.sealing).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()
            )
        except (InvalidTag, ValueError) as exc:
            raise SealBrokenError("the sealed value does not open under its key and context") from exc
        return plain.decode()

    def sealed_with_current(self, sealed: str) -> bool:
        return sealed.split(".", 2)[1:2] == [self._keys[0].key_id]

    def sign(self, data: bytes) -> str:
        digest = hmac.new(self._keys[0].mac, data, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def verify(self, data: bytes, signature: str) -> bool:
        """True when any key of the ring signed ``data`` (cursors survive a key rotation)."""
        presented = signature.encode()
        for key in self._keys:
            digest = hmac.new(key.mac, data, hashlib.sha256).digest()[:_MAC_BYTES]
            expected = base64.urlsafe_b64encode(digest).decode().rstrip("=").encode()
            if hmac.compare_digest(expected, presented):
                return True
        return False
