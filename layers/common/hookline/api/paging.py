"""Cursor pagination: ``{"data", "next_cursor", "has_more"}``, every page full except the last.

A cursor is a position signed for one list (``core.cursor``): its scope names the route, the tenant and the
filters, so a cursor from another list, an edited one or a forged one is a 400, and nothing a client sends
becomes a DynamoDB key we did not build ourselves.
"""

from __future__ import annotations

import json
from typing import Any

from hookline.core import cursor as cursors
from hookline.storage.secrets import KeyringSource


def scope(route: str, tenant_id: str | None = None, **filters: Any) -> str:
    return json.dumps([route, tenant_id, filters], sort_keys=True, separators=(",", ":"))


class Pager:
    def __init__(self, keys: KeyringSource) -> None:
        self._keys = keys

    def position(self, list_scope: str, cursor: str | None) -> dict[str, Any] | None:
        """The position a cursor holds (None for the first page), or a 400."""
        if cursor is None:
            return None
        return cursors.decode(self._keys.keyring(), list_scope, cursor)

    def cursor(self, list_scope: str, position: dict[str, Any] | None) -> str | None:
        return None if position is None else cursors.encode(self._keys.keyring(), list_scope, position)


def text_field(position: dict[str, Any] | None, name: str) -> str | None:
    """A string member of a verified position (positions are ours, but stay defensive about their shape)."""
    if position is None:
        return None
    value = position.get(name)
    return value if isinstance(value, str) and value else None


def int_field(position: dict[str, Any] | None, name: str) -> int:
    if position is None:
        return 0
    value = position.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
