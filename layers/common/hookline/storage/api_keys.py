"""Tenant API keys: a metadata item under the tenant (for listing) and a lookup item under the key's digest
(for authenticating a request in one read). Created and revoked together, in transactions."""

from __future__ import annotations

from hookline.core.errors import ConditionNotMet, NotFoundError
from hookline.core.models import ApiKey, Scope
from hookline.storage.table import (
    Item,
    Table,
    api_key_lookup_key,
    api_key_meta_key,
    get_opt_int,
    get_str,
    n,
    put_optional,
    s,
    tenant_key,
    tenant_pk,
)
from hookline.storage.tenants import TENANT_IS_LIVE


def _attributes(api_key: ApiKey) -> Item:
    item: Item = {
        "k": s("api_key"),
        "key_id": s(api_key.key_id),
        "tenant_id": s(api_key.tenant_id),
        "name": s(api_key.name),
        "scopes": {"L": [s(scope.value) for scope in api_key.scopes]},
        "created_at": s(api_key.created_at),
        "digest": s(api_key.digest),
    }
    put_optional(item, "expires_at_unix", api_key.expires_at)
    return item


def _from_item(item: Item) -> ApiKey:
    return ApiKey(
        key_id=get_str(item, "key_id"),
        tenant_id=get_str(item, "tenant_id"),
        name=get_str(item, "name"),
        scopes=tuple(Scope(v["S"]) for v in item.get("scopes", {}).get("L", []) if v["S"] in set(Scope)),
        created_at=get_str(item, "created_at"),
        expires_at=get_opt_int(item, "expires_at_unix"),
        digest=get_str(item, "digest"),
    )


class ApiKeyStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, api_key: ApiKey, ttl_expiry: int | None) -> None:
        """Store the key if its tenant exists. ``ttl_expiry`` lets DynamoDB drop an expired key's items."""
        attributes = _attributes(api_key)
        if ttl_expiry is not None:
            attributes["expires_at"] = n(ttl_expiry)
        try:
            self._table.transact(
                [
                    {
                        "ConditionCheck": {
                            "Key": tenant_key(api_key.tenant_id),
                            "ConditionExpression": TENANT_IS_LIVE,
                        }
                    },
                    {"Put": {"Item": api_key_meta_key(api_key.tenant_id, api_key.key_id) | attributes}},
                    {
                        "Put": {
                            "Item": api_key_lookup_key(api_key.digest) | attributes,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ],
                "create API key",
            )
        except ConditionNotMet as exc:
            raise NotFoundError(f"tenant {api_key.tenant_id!r} does not exist") from exc

    def find(self, digest: str) -> ApiKey | None:
        item = self._table.get(api_key_lookup_key(digest), "find API key")
        return _from_item(item) if item else None

    def page(self, tenant_id: str, limit: int, start: Item | None) -> tuple[list[ApiKey], Item | None]:
        items, last = self._table.prefix_page(
            "list API keys", tenant_pk(tenant_id), "KEY#", limit, start, consistent=True
        )
        return [_from_item(item) for item in items], last

    def page_after(self, tenant_id: str, limit: int, after: str | None) -> list[ApiKey]:
        """Up to ``limit`` keys in id order, after the key ``after`` (from the first: None)."""
        start = None if after is None else api_key_meta_key(tenant_id, after)
        return self.page(tenant_id, limit, start)[0]

    def revoke(self, tenant_id: str, key_id: str) -> ApiKey:
        item = self._table.get(api_key_meta_key(tenant_id, key_id), "read API key")
        if item is None:
            raise NotFoundError(f"API key {key_id!r} does not exist")
        api_key = _from_item(item)
        self._table.transact(
            [
                {"Delete": {"Key": api_key_meta_key(tenant_id, key_id)}},
                {"Delete": {"Key": api_key_lookup_key(api_key.digest)}},
            ],
            "revoke API key",
        )
        return api_key
