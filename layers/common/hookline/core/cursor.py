"""Pagination cursors: an opaque, signed position in one particular list.

A cursor is ``base64url(JSON position) + "." + MAC``. The MAC covers the list it belongs to (``scope``: the
route, the tenant and the filters), so a cursor from another list, an edited one or a forged one is a 400
with the usual error body, and nothing a client sends ever becomes a DynamoDB key we did not build.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from hookline.core.crypto import Keyring
from hookline.core.errors import InvalidRequestError

MAX_CURSOR_LENGTH = 2048


def encode(keyring: Keyring, scope: str, position: dict[str, Any]) -> str:
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    signature = keyring.sign(scope.encode() + b"\0" + payload)
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + signature


def decode(keyring: Keyring, scope: str, cursor: str) -> dict[str, Any]:
    """The position a cursor holds, or ``InvalidRequestError`` if this API did not issue it for this list."""
    refused = InvalidRequestError("cursor is not one this list returned; start again without it")
    if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
        raise refused
    encoded, signature = cursor.split(".")
    try:
        payload = base64.urlsafe_b64decode((encoded + "=" * (-len(encoded) % 4)).encode())
    except (binascii.Error, ValueError):
        raise refused from None
    if not keyring.verify(scope.encode() + b"\0" + payload, signature):
        raise refused
    try:
        position = json.loads(payload)
    except ValueError:
        raise refused from None
    if not isinstance(position, dict):
        raise refused
    return position
