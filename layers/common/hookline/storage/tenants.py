"""Tenants: one item each, under which their endpoints, keys and breakers live."""

from __future__ import annotations

from hookline.core.errors import NotFoundError
from hookline.core.models import Tenant
from hookline.storage.table import (
    Item,
    Table,
    api_key_lookup_key,
    get_str,
    key,
    rate_key,
    s,
    tenant_key,
    tenant_pk,
)


def _tenant_from_item(item: Item) -> Tenant:
    return Tenant(
        tenant_id=get_str(item, "tenant_id"),
        name=get_str(item, "name"),
        created_at=get_str(item, "created_at"),
        updated_at=get_str(item, "updated_at"),
    )


class TenantStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def upsert(self, tenant_id: str, name: str, now: str) -> tuple[Tenant, bool]:
        """Create or rename a tenant. Returns it and whether it was created."""
        attributes = self._table.update(
            tenant_key(tenant_id),
            "upsert tenant",
            "SET #name = :name, updated_at = :now, tenant_id = :tid, k = :kind, "
            "created_at = if_not_exists(created_at, :now)",
            return_values="ALL_NEW",
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues={
                ":name": s(name),
                ":now": s(now),
                ":tid": s(tenant_id),
                ":kind": s("tenant"),
            },
        )
        tenant = _tenant_from_item(attributes)
        return tenant, tenant.created_at == now

    def get(self, tenant_id: str, consistent: bool = True) -> Tenant | None:
        item = self._table.get(tenant_key(tenant_id), "get tenant", consistent=consistent)
        return _tenant_from_item(item) if item else None

    def require(self, tenant_id: str) -> Tenant:
        tenant = self.get(tenant_id)
        if tenant is None:
            raise NotFoundError(f"tenant {tenant_id!r} does not exist")
        return tenant

    def delete(self, tenant_id: str) -> None:
        """Delete the tenant with its endpoints, keys and their state. Events age out through TTL."""
        self.require(tenant_id)
        items = self._table.query_all(
            "list tenant items",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": s(tenant_pk(tenant_id))},
            ProjectionExpression="pk, sk, digest",
        )
        keys: list[Item] = []
        for item in items:
            sort_key = get_str(item, "sk")
            if sort_key == "TENANT":
                continue
            keys.append(key(tenant_pk(tenant_id), sort_key))
            if sort_key.startswith("EP#"):
                keys.append(rate_key(tenant_id, sort_key.removeprefix("EP#")))
            elif sort_key.startswith("KEY#") and get_str(item, "digest"):
                keys.append(api_key_lookup_key(get_str(item, "digest")))
        # The tenant item goes last, so a failure half-way never leaves endpoints without their tenant.
        self._table.batch_write(
            [{"DeleteRequest": {"Key": k}} for k in [*keys, tenant_key(tenant_id)]], "delete tenant"
        )
