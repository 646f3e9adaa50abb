"""Bearer-key authentication.

The admin key is generated at deploy time into a Secrets Manager secret, where the operator reads it.
The API keeps only its SHA-256 digest in memory and compares digests in constant time, so the key itself
is never held longer than the request that presents it. A key that does not match triggers at most one
re-read of the secret per minute, so a rotated key works without a cold start.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping

from hookline.errors import DependencyError, UnauthorizedError

_REFRESH_INTERVAL_SECONDS = 60.0


def key_digest(api_key: str) -> bytes:
    return hashlib.sha256(api_key.encode()).digest()


def bearer_token(headers: Mapping[str, str]) -> str:
    authorization = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("send 'Authorization: Bearer <api key>'")
    return token.strip()


class ApiKeyVerifier:
    def __init__(self, load_key: Callable[[], str], monotonic: Callable[[], float] = time.monotonic) -> None:
        self._load_key = load_key
        self._monotonic = monotonic
        self._digest: bytes | None = None
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def verify(self, headers: Mapping[str, str]) -> None:
        presented = key_digest(bearer_token(headers))
        if self._matches(presented, refresh=False) or self._matches(presented, refresh=True):
            return
        raise UnauthorizedError("the API key is not valid")

    def _matches(self, presented: bytes, refresh: bool) -> bool:
        with self._lock:
            stale = self._monotonic() - self._loaded_at >= _REFRESH_INTERVAL_SECONDS
            if self._digest is None or (refresh and stale):
                key = self._load_key()
                if not key:
                    raise DependencyError("the admin API key secret is empty")
                self._digest = key_digest(key)
                self._loaded_at = self._monotonic()
            elif refresh:
                return False
            return hmac.compare_digest(presented, self._digest)
