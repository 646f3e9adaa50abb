"""Portal session tokens: a short-lived bearer credential for one tenant and a set of scopes.

A token is ``hkp_`` + base64url(JSON claims) + ``.`` + MAC, signed with the deployment's encryption keyring
(``core.crypto``, the same keys that sign cursors). It is self-contained: nothing is stored, any container
verifies it, and it survives an encryption key rotation while the old key stays in the ring. The signed
data starts with a purpose label, so no cursor (whose signed data starts with a JSON list) can pass for a
session, nor a session for a cursor.

What stateless costs: a session cannot be revoked before it expires (at most 24 hours). Rotating every key
out of the encryption keyring ends every session at once, and every pagination cursor with them.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from hookline.core.crypto import Keyring
from hookline.core.errors import InvalidSessionError
from hookline.core.models import Scope

PREFIX = "hkp_"
MIN_LIFETIME_SECONDS = 60
MAX_LIFETIME_SECONDS = 86_400
DEFAULT_LIFETIME_SECONDS = 3_600
MAX_TOKEN_LENGTH = 1_024
# What a portal may be allowed to do: never mint sessions itself.
GRANTABLE_SCOPES = (Scope.ENDPOINTS_READ, Scope.ENDPOINTS_WRITE, Scope.EVENTS_READ, Scope.EVENTS_WRITE)
_PURPOSE = b"hookline-portal-session\0"


@dataclass(frozen=True, slots=True)
class PortalSession:
    tenant_id: str
    scopes: frozenset[Scope]
    expires_at: int  # Unix seconds

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


def issue(keyring: Keyring, tenant_id: str, scopes: Iterable[Scope], expires_at: int) -> str:
    granted = sorted({Scope(scope).value for scope in scopes})
    if not set(granted) <= {scope.value for scope in GRANTABLE_SCOPES}:
        raise ValueError(f"a portal session cannot hold {granted}")
    # A nonce makes two sessions minted in the same second for the same grant distinct tokens.
    claims = {"t": tenant_id, "s": granted, "e": expires_at, "n": secrets.token_urlsafe(9)}
    payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{PREFIX}{encoded}.{keyring.sign(_PURPOSE + payload)}"


def verify(keyring: Keyring, token: str, now: float) -> PortalSession:
    """The session a token grants, or ``InvalidSessionError``."""
    session = _read(keyring, token)
    if session.expired(now):
        raise InvalidSessionError("the portal session has expired; ask for a new link")
    return session


def _read(keyring: Keyring, token: str) -> PortalSession:
    refused = InvalidSessionError("the portal session is not valid")
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise refused
    encoded, signature = token.removeprefix(PREFIX).split(".")
    try:
        payload = base64.urlsafe_b64decode((encoded + "=" * (-len(encoded) % 4)).encode())
    except (binascii.Error, ValueError):
        raise refused from None
    if not keyring.verify(_PURPOSE + payload, signature):
        raise refused
    try:
        claims = json.loads(payload)
        tenant_id, scopes, expires_at = claims["t"], claims["s"], claims["e"]
        granted = frozenset(Scope(scope) for scope in scopes)
    except (ValueError, KeyError, TypeError):
        raise refused from None
    if not isinstance(tenant_id, str) or not isinstance(expires_at, int) or isinstance(expires_at, bool):
        raise refused
    if not granted <= set(GRANTABLE_SCOPES):
        raise refused
    return PortalSession(tenant_id, granted, expires_at)
