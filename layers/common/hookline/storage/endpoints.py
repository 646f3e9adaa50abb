"""Endpoints: their items (signing secrets and custom header values sealed at rest), and a per-container
directory that dispatch reads instead of DynamoDB for a short, documented time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from hookline.core.cache import BoundedCache, Missing
from hookline.core.crypto import Keyring
from hookline.core.errors import ConditionNotMet, ConflictError, NotFoundError, UnknownKeyError
from hookline.core.models import Endpoint, EndpointSecret
from hookline.storage.secrets import KeyringSource
from hookline.storage.table import (
    Item,
    Table,
    boolean,
    endpoint_key,
    get_bool,
    get_opt_int,
    get_opt_str,
    get_str,
    health_key,
    key,
    put_optional,
    rate_key,
    s,
    tenant_key,
    tenant_pk,
)
from hookline.storage.tenants import TENANT_IS_LIVE

# An endpoint decoded is 1-3 KB (URL, secrets, headers, filter): 20,000 of them stay under about 60 MB.
MAX_CACHED_ENDPOINTS = 20_000


def _context(tenant_id: str, endpoint_id: str, purpose: str) -> str:
    return f"{tenant_id}/{endpoint_id}/{purpose}"


class EndpointCodec:
    """Endpoint <-> item. Sealing needs the keyring; a value sealed under a key this container has not
    seen yet makes it re-read the keyring once."""

    def __init__(self, keys: KeyringSource) -> None:
        self._keys = keys

    def to_item(self, endpoint: Endpoint) -> Item:
        keyring = self._keys.keyring()
        t, e = endpoint.tenant_id, endpoint.endpoint_id
        secrets = json.dumps([[sec.value, sec.expires_at] for sec in endpoint.secrets])
        item = endpoint_key(t, e)
        item.update(
            {
                "k": s("endpoint"),
                "tenant_id": s(t),
                "endpoint_id": s(e),
                "url": s(endpoint.url),
                "sec": s(keyring.seal(secrets, _context(t, e, "secrets"))),
                "description": s(endpoint.description),
                "enabled": boolean(endpoint.enabled),
                "created_at": s(endpoint.created_at),
                "updated_at": s(endpoint.updated_at),
            }
        )
        if endpoint.headers:
            item["hdr"] = s(keyring.seal(json.dumps(endpoint.headers), _context(t, e, "headers")))
        if endpoint.event_types is not None:
            item["event_types"] = s(json.dumps(list(endpoint.event_types)))
        if endpoint.filter is not None:
            item["filter"] = s(json.dumps(endpoint.filter))
        put_optional(item, "rate_limit", endpoint.rate_limit)
        put_optional(item, "max_in_flight", endpoint.max_in_flight)
        put_optional(item, "disabled_reason", endpoint.disabled_reason)
        return item

    def sealed_with_current_key(self, item: Item) -> bool:
        keyring = self._keys.keyring()
        sealed = [get_str(item, "sec"), get_opt_str(item, "hdr")]
        return all(keyring.sealed_with_current(value) for value in sealed if value)

    def from_item(self, item: Item) -> Endpoint:
        try:
            return self._decode(item, self._keys.keyring())
        except UnknownKeyError:
            keyring = self._keys.refreshed()
            if keyring is None:
                raise
            return self._decode(item, keyring)

    @staticmethod
    def _decode(item: Item, keyring: Keyring) -> Endpoint:
        t, e = get_str(item, "tenant_id"), get_str(item, "endpoint_id")
        secrets: list[list[Any]] = json.loads(keyring.open(get_str(item, "sec"), _context(t, e, "secrets")))
        sealed_headers = get_opt_str(item, "hdr")
        headers = (
            json.loads(keyring.open(sealed_headers, _context(t, e, "headers"))) if sealed_headers else {}
        )
        event_types = get_opt_str(item, "event_types")
        filter_text = get_opt_str(item, "filter")
        return Endpoint(
            tenant_id=t,
            endpoint_id=e,
            url=get_str(item, "url"),
            secrets=tuple(EndpointSecret(str(value), expires) for value, expires in secrets),
            event_types=None if event_types is None else tuple(json.loads(event_types)),
            filter=None if filter_text is None else json.loads(filter_text),
            description=get_str(item, "description"),
            enabled=get_bool(item, "enabled", default=True),
            headers=headers,
            rate_limit=get_opt_int(item, "rate_limit"),
            max_in_flight=get_opt_int(item, "max_in_flight"),
            disabled_reason=get_opt_str(item, "disabled_reason"),
            created_at=get_str(item, "created_at"),
            updated_at=get_str(item, "updated_at"),
        )


class EndpointStore:
    def __init__(self, table: Table, codec: EndpointCodec) -> None:
        self._table = table
        self._codec = codec

    def create(self, endpoint: Endpoint) -> None:
        """Write the endpoint only if its tenant exists, in one transaction."""
        try:
            self._table.transact(
                [
                    {
                        "ConditionCheck": {
                            "Key": tenant_key(endpoint.tenant_id),
                            "ConditionExpression": TENANT_IS_LIVE,
                        }
                    },
                    {
                        "Put": {
                            "Item": self._codec.to_item(endpoint),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ],
                "create endpoint",
            )
        except ConditionNotMet as exc:
            raise NotFoundError(f"tenant {endpoint.tenant_id!r} does not exist") from exc

    def get(self, tenant_id: str, endpoint_id: str) -> Endpoint | None:
        item = self._table.get(endpoint_key(tenant_id, endpoint_id), "get endpoint")
        return self._codec.from_item(item) if item else None

    def require(self, tenant_id: str, endpoint_id: str) -> Endpoint:
        endpoint = self.get(tenant_id, endpoint_id)
        if endpoint is None:
            raise NotFoundError(f"endpoint {endpoint_id!r} does not exist")
        return endpoint

    def page(
        self, tenant_id: str, limit: int, start: Item | None, consistent: bool = False
    ) -> tuple[list[Endpoint], Item | None]:
        items, last = self._table.prefix_page(
            "list endpoints", tenant_pk(tenant_id), "EP#", limit, start, consistent
        )
        return [self._codec.from_item(item) for item in items], last

    def page_after(self, tenant_id: str, limit: int, after: str | None) -> list[Endpoint]:
        """Up to ``limit`` endpoints in id order, after the endpoint ``after`` (from the first: None)."""
        start = None if after is None else endpoint_key(tenant_id, after)
        return self.page(tenant_id, limit, start, consistent=True)[0]

    def all(self, tenant_id: str) -> list[Endpoint]:
        endpoints: list[Endpoint] = []
        start: Item | None = None
        while True:
            page, start = self.page(tenant_id, 500, start, consistent=True)
            endpoints.extend(page)
            if start is None:
                return endpoints

    def replace(self, endpoint: Endpoint, expected_updated_at: str) -> None:
        """Write a changed endpoint unless someone else changed it since it was read (optimistic lock)."""
        try:
            self._table.put(
                self._codec.to_item(endpoint),
                "update endpoint",
                "attribute_exists(pk) AND updated_at = :seen",
                ExpressionAttributeValues={":seen": s(expected_updated_at)},
            )
        except ConditionNotMet as exc:
            raise ConflictError("the endpoint changed or was deleted meanwhile; read it again") from exc

    def delete(self, tenant_id: str, endpoint_id: str) -> None:
        try:
            self._table.delete(
                endpoint_key(tenant_id, endpoint_id), "delete endpoint", "attribute_exists(pk)"
            )
        except ConditionNotMet as exc:
            raise NotFoundError(f"endpoint {endpoint_id!r} does not exist") from exc
        # Its breaker and rate-limiter state would otherwise linger with no TTL.
        self._table.batch_write(
            [
                {"DeleteRequest": {"Key": health_key(tenant_id, endpoint_id)}},
                {"DeleteRequest": {"Key": rate_key(tenant_id, endpoint_id)}},
            ],
            "delete endpoint state",
        )

    def reseal_page(self, limit: int, position: dict[str, str] | None) -> tuple[int, dict[str, str] | None]:
        """Re-seal one page of endpoints (across tenants) under the keyring's current key, for a key
        rotation. Returns how many were rewritten and where the next page starts (None: done), a position
        to hand back as it is. An endpoint changed meanwhile was sealed under the current key by that
        change, so it is skipped."""
        start = key(position["pk"], position["sk"]) if position else None
        kwargs: dict[str, Any] = {
            "FilterExpression": "k = :endpoint",
            "ExpressionAttributeValues": {":endpoint": s("endpoint")},
            "Limit": limit,
            "ConsistentRead": True,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        items, last = self._table.scan("list endpoints to re-seal", **kwargs)
        resealed = 0
        for item in items:
            if self._codec.sealed_with_current_key(item):
                continue
            endpoint = self._codec.from_item(item)
            try:
                self._table.put(
                    self._codec.to_item(endpoint),
                    "re-seal endpoint",
                    "updated_at = :seen",
                    ExpressionAttributeValues={":seen": s(endpoint.updated_at)},
                )
            except ConditionNotMet:
                continue
            resealed += 1
        return resealed, {"pk": last["pk"]["S"], "sk": last["sk"]["S"]} if last else None

    def disable(self, tenant_id: str, endpoint_id: str, reason: str, now: str) -> bool:
        """Disable the endpoint. False if it was already disabled or is gone."""
        try:
            self._table.update(
                endpoint_key(tenant_id, endpoint_id),
                "disable endpoint",
                "SET enabled = :false, disabled_reason = :reason, updated_at = :now",
                condition="attribute_exists(pk) AND enabled = :true",
                ExpressionAttributeValues={
                    ":false": boolean(False),
                    ":true": boolean(True),
                    ":reason": s(reason),
                    ":now": s(now),
                },
            )
        except ConditionNotMet:
            return False
        return True


class EndpointDirectory:
    """A tenant's endpoints as dispatch sees them: read once per ``ttl_seconds`` per container.

    Changes to an endpoint (URL, secret, filters, enabled) therefore reach deliveries within ``ttl_seconds``;
    with 0 every batch reads the table. The cache holds at most ``MAX_CACHED_ENDPOINTS`` endpoints (one unit
    per tenant besides), least recently used tenant first out: its memory is bounded by what it holds, not
    by the number of tenants.
    """

    def __init__(
        self,
        store: EndpointStore,
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
        capacity: int = MAX_CACHED_ENDPOINTS,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._cache: BoundedCache[str, dict[str, Endpoint]] = BoundedCache(
            capacity, ttl_seconds, weigh=lambda endpoints: len(endpoints) + 1, monotonic=monotonic
        )

    def endpoints(self, tenant_id: str) -> dict[str, Endpoint]:
        cached = self._cache.get(tenant_id)
        if not isinstance(cached, Missing):
            return cached
        endpoints = {endpoint.endpoint_id: endpoint for endpoint in self._store.all(tenant_id)}
        if self._ttl > 0:
            self._cache.put(tenant_id, endpoints)
        return endpoints

    def forget(self, tenant_id: str) -> None:
        """Drop a tenant's cached endpoints (after dispatch itself changed one, e.g. disabled it)."""
        self._cache.pop(tenant_id)
