"""Leases on a slow endpoint, shared by every dispatch invocation: how many may send to it at once.

One item per endpoint holds a map of lease tokens to their expiry. Taking a lease is one conditional
UpdateItem (the map has fewer entries than the limit); giving it back is one more. Leases whose invocation
died expire: a lease refused because the map is full clears the expired entries it saw and tries once more.
Only slow endpoints take leases (``BreakerState.slow``): a healthy endpoint's deliveries write nothing here.
"""

from __future__ import annotations

import secrets

from hookline.core.errors import ConditionNotMet
from hookline.storage.table import Item, Table, get_opt_float, in_flight_key, n

_TOKEN_BYTES = 8


class InFlightLeases:
    def __init__(self, table: Table) -> None:
        self._table = table

    def acquire(self, tenant_id: str, endpoint_id: str, limit: int, now: float, until: float) -> str | None:
        """A lease token, or None when ``limit`` deliveries to the endpoint are already in flight."""
        token = secrets.token_hex(_TOKEN_BYTES)
        if self._take(tenant_id, endpoint_id, token, limit, until):
            return token
        expired = self._expired(tenant_id, endpoint_id, now)
        if expired and self._clear(tenant_id, endpoint_id, expired, now):
            return token if self._take(tenant_id, endpoint_id, token, limit, until) else None
        return None

    def release(self, tenant_id: str, endpoint_id: str, token: str) -> None:
        self._table.update(
            in_flight_key(tenant_id, endpoint_id),
            "release in-flight lease",
            "REMOVE holders.#token",
            condition="attribute_exists(holders)",
            ExpressionAttributeNames={"#token": token},
        )

    def _take(self, tenant_id: str, endpoint_id: str, token: str, limit: int, until: float) -> bool:
        item_key = in_flight_key(tenant_id, endpoint_id)
        try:
            self._table.update(
                item_key,
                "take in-flight lease",
                "SET holders.#token = :until",
                condition="attribute_exists(holders) AND size(holders) < :limit",
                ExpressionAttributeNames={"#token": token},
                ExpressionAttributeValues={":until": n(round(until, 3)), ":limit": n(limit)},
            )
        except ConditionNotMet:
            pass
        else:
            return True
        try:  # the first lease of an endpoint creates its item
            self._table.put(
                item_key | {"holders": {"M": {token: n(round(until, 3))}}},
                "take first in-flight lease",
                condition="attribute_not_exists(pk)",
            )
        except ConditionNotMet:
            return False
        return True

    def _expired(self, tenant_id: str, endpoint_id: str, now: float) -> list[str]:
        item: Item | None = self._table.get(in_flight_key(tenant_id, endpoint_id), "read in-flight leases")
        holders = (item or {}).get("holders", {}).get("M", {})
        return [token for token, value in holders.items() if (get_opt_float({"v": value}, "v") or 0) < now]

    def _clear(self, tenant_id: str, endpoint_id: str, tokens: list[str], now: float) -> bool:
        names = {f"#t{i}": token for i, token in enumerate(tokens)}
        try:
            self._table.update(
                in_flight_key(tenant_id, endpoint_id),
                "clear expired in-flight leases",
                "REMOVE " + ", ".join(f"holders.{name}" for name in names),
                condition=" AND ".join(f"holders.{name} < :now" for name in names),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":now": n(round(now, 3))},
            )
        except ConditionNotMet:
            return False
        return True
