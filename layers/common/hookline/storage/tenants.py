"""Tenants: one item each, under which their endpoints, keys and breakers live.

Deleting a tenant cannot lose a race with creating its keys and endpoints: the delete first marks the
tenant item ``deleting`` (a tombstone with a token of its own), and every key or endpoint is created in a
transaction whose condition is "the tenant exists and is not being deleted". Once the tombstone is written,
no new child can appear, so one consistent listing finds them all; the tenant item goes last, and only if
the tombstone is still this delete's. A ``PUT`` that finds a tombstone (a delete that failed half-way, or one
still running) finishes the purge before it creates the tenant anew, so nothing of the old tenant
authenticates or receives events after a re-creation. A tombstoned tenant reads as absent.
"""

from __future__ import annotations

import secrets

from hookline.core.errors import ConditionNotMet, ConflictError, NotFoundError
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

# The condition every child's creation checks on its tenant item, in the same transaction.
TENANT_IS_LIVE = "attribute_exists(pk) AND attribute_not_exists(deleting)"
_UPSERT_ROUNDS = 3


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
        for _ in range(_UPSERT_ROUNDS):
            try:
                attributes = self._table.update(
                    tenant_key(tenant_id),
                    "upsert tenant",
                    "SET #name = :name, updated_at = :now, tenant_id = :tid, k = :kind, "
                    "created_at = if_not_exists(created_at, :now)",
                    condition="attribute_not_exists(deleting)",
                    return_values="ALL_NEW",
                    ExpressionAttributeNames={"#name": "name"},
                    ExpressionAttributeValues=_tenant_values(tenant_id, name, now),
                )
            except ConditionNotMet:
                recreated = self._recreate(tenant_id, name, now)
                if recreated is not None:
                    return recreated, True
                continue
            tenant = _tenant_from_item(attributes)
            return tenant, tenant.created_at == now
        raise ConflictError(f"tenant {tenant_id!r} is being deleted and re-created concurrently; retry")

    def _recreate(self, tenant_id: str, name: str, now: str) -> Tenant | None:
        """Finish a pending delete, then create the tenant anew; None if someone else changed it first."""
        item = self._table.get(tenant_key(tenant_id), "read tenant")
        token = get_str(item, "deleting") if item else ""
        if not token:
            return None
        self._purge_children(tenant_id)
        try:
            attributes = self._table.update(
                tenant_key(tenant_id),
                "re-create tenant",
                "SET #name = :name, updated_at = :now, tenant_id = :tid, k = :kind, created_at = :now "
                "REMOVE deleting",
                condition="deleting = :token",
                return_values="ALL_NEW",
                ExpressionAttributeNames={"#name": "name"},
                ExpressionAttributeValues=_tenant_values(tenant_id, name, now) | {":token": s(token)},
            )
        except ConditionNotMet:
            return None
        return _tenant_from_item(attributes)

    def get(self, tenant_id: str, consistent: bool = True) -> Tenant | None:
        item = self._table.get(tenant_key(tenant_id), "get tenant", consistent=consistent)
        return _tenant_from_item(item) if item and "deleting" not in item else None

    def require(self, tenant_id: str) -> Tenant:
        tenant = self.get(tenant_id)
        if tenant is None:
            raise NotFoundError(f"tenant {tenant_id!r} does not exist")
        return tenant

    def delete(self, tenant_id: str) -> list[str]:
        """Delete the tenant with its endpoints, keys and their state (events age out through TTL).
        Returns the digests of the API keys removed."""
        token = secrets.token_hex(16)
        try:
            # A tombstone left by a delete that failed half-way is taken over: the purge is idempotent.
            self._table.update(
                tenant_key(tenant_id),
                "mark tenant deleted",
                "SET deleting = :token",
                condition="attribute_exists(pk)",
                ExpressionAttributeValues={":token": s(token)},
            )
        except ConditionNotMet as exc:
            raise NotFoundError(f"tenant {tenant_id!r} does not exist") from exc
        digests = self._purge_children(tenant_id)
        try:
            self._table.delete(
                tenant_key(tenant_id),
                "delete tenant",
                "deleting = :token",
                ExpressionAttributeValues={":token": s(token)},
            )
        except ConditionNotMet as exc:
            raise ConflictError(f"tenant {tenant_id!r} was re-created while it was being deleted") from exc
        return digests

    def _purge_children(self, tenant_id: str) -> list[str]:
        """Delete everything under a tombstoned tenant but the tenant item; the API key digests removed."""
        items = self._table.query_all(
            "list tenant items",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": s(tenant_pk(tenant_id))},
            ProjectionExpression="pk, sk, digest",
            ConsistentRead=True,
        )
        keys: list[Item] = []
        digests: list[str] = []
        for item in items:
            sort_key = get_str(item, "sk")
            if sort_key == "TENANT":
                continue
            keys.append(key(tenant_pk(tenant_id), sort_key))
            if sort_key.startswith("EP#"):
                keys.append(rate_key(tenant_id, sort_key.removeprefix("EP#")))
            elif sort_key.startswith("KEY#") and get_str(item, "digest"):
                digests.append(get_str(item, "digest"))
                keys.append(api_key_lookup_key(get_str(item, "digest")))
        self._table.batch_write([{"DeleteRequest": {"Key": k}} for k in keys], "delete tenant items")
        return digests


def _tenant_values(tenant_id: str, name: str, now: str) -> Item:
    return {":name": s(name), ":now": s(now), ":tid": s(tenant_id), ":kind": s("tenant")}
