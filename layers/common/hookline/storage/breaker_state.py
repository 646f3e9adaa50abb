"""The circuit breaker's state per endpoint, changed only by conditional writes, so concurrent dispatchers
agree on who probes, who alerts, and which success may close it."""

from __future__ import annotations

from hookline.core.errors import ConditionNotMet
from hookline.core.models import BreakerState
from hookline.storage.table import (
    Item,
    Table,
    boolean,
    get_bool,
    get_opt_float,
    get_opt_int,
    get_str,
    health_key,
    n,
    s,
)


def breaker_from_item(item: Item) -> BreakerState:
    return BreakerState(
        tenant_id=get_str(item, "tenant_id"),
        endpoint_id=get_str(item, "endpoint_id"),
        consecutive_failures=get_opt_int(item, "consecutive_failures") or 0,
        failing_since=get_opt_float(item, "failing_since"),
        open_until=get_opt_float(item, "open_until"),
        opened_at=get_opt_float(item, "opened_at"),
        probe_until=get_opt_float(item, "probe_until"),
        alerted_failing=get_bool(item, "alerted_failing", default=False),
        slow_until=get_opt_float(item, "slow_until"),
    )


def is_breaker_item(item: Item) -> bool:
    return get_str(item, "k") == "health"


class BreakerStateStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record_failures(self, tenant_id: str, endpoint_id: str, failures: int, now: float) -> BreakerState:
        attributes = self._table.update(
            health_key(tenant_id, endpoint_id),
            "record failures",
            "ADD consecutive_failures :n SET failing_since = if_not_exists(failing_since, :now), "
            "tenant_id = :tid, endpoint_id = :ep, k = :kind",
            return_values="ALL_NEW",
            ExpressionAttributeValues={
                ":n": n(failures),
                ":now": n(round(now, 3)),
                ":tid": s(tenant_id),
                ":ep": s(endpoint_id),
                ":kind": s("health"),
            },
        )
        return breaker_from_item(attributes)

    def open(self, tenant_id: str, endpoint_id: str, now: float, until: float) -> bool:
        """Open (or re-open) the breaker. True if this call first marked the endpoint as failing, so exactly
        one caller sends the ``endpoint.failing`` alert."""
        values = {":until": n(round(until, 3)), ":now": n(round(now, 3)), ":true": boolean(True)}
        try:
            self._table.update(
                health_key(tenant_id, endpoint_id),
                "open breaker",
                "SET open_until = :until, opened_at = :now, alerted_failing = :true REMOVE probe_until",
                condition="attribute_exists(pk) AND (attribute_not_exists(alerted_failing) "
                "OR alerted_failing = :false)",
                ExpressionAttributeValues=values | {":false": boolean(False)},
            )
        except ConditionNotMet:
            self._table.update(
                health_key(tenant_id, endpoint_id),
                "re-open breaker",
                "SET open_until = :until, opened_at = :now REMOVE probe_until",
                condition="attribute_exists(pk)",
                ExpressionAttributeValues={":until": values[":until"], ":now": values[":now"]},
            )
            return False
        return True

    def acquire_probe(self, tenant_id: str, endpoint_id: str, now: float, lease_until: float) -> bool:
        """Let exactly one delivery probe an endpoint whose cool-down is over."""
        try:
            self._table.update(
                health_key(tenant_id, endpoint_id),
                "acquire probe",
                "SET probe_until = :lease",
                condition="attribute_exists(open_until) AND open_until <= :now "
                "AND (attribute_not_exists(probe_until) OR probe_until < :now)",
                ExpressionAttributeValues={":now": n(round(now, 3)), ":lease": n(round(lease_until, 3))},
            )
        except ConditionNotMet:
            return False
        return True

    def close(self, tenant_id: str, endpoint_id: str, success_started_at: float) -> BreakerState | None:
        """Forget the failure streak after a success, unless the breaker opened after that success's attempt
        started (a batch already in flight must not close a breaker its own failures opened). Returns the
        state it cleared, or None."""
        condition = "attribute_exists(pk) AND (attribute_not_exists(opened_at) OR opened_at < :started)"
        started = {":started": n(round(success_started_at, 3))}
        try:
            old = self._table.delete(
                health_key(tenant_id, endpoint_id),
                "close breaker",
                condition + " AND (attribute_not_exists(slow_until) OR slow_until < :started)",
                return_old=True,
                ExpressionAttributeValues=started,
            )
        except ConditionNotMet:
            # Still slow: keep that, forget only the failure streak.
            try:
                old = self._table.update(
                    health_key(tenant_id, endpoint_id),
                    "close breaker",
                    "REMOVE consecutive_failures, failing_since, open_until, opened_at, probe_until, "
                    "alerted_failing",
                    condition=condition,
                    return_values="ALL_OLD",
                    ExpressionAttributeValues=started,
                )
            except ConditionNotMet:
                return None
        return breaker_from_item(old) if old else None

    def mark_slow(self, tenant_id: str, endpoint_id: str, until: float) -> None:
        """The endpoint answers slowly: until then, its deliveries lease their in-flight slots."""
        self._table.update(
            health_key(tenant_id, endpoint_id),
            "mark endpoint slow",
            "SET slow_until = :until, tenant_id = :tid, endpoint_id = :ep, k = :kind",
            ExpressionAttributeValues={
                ":until": n(round(until, 3)),
                ":tid": s(tenant_id),
                ":ep": s(endpoint_id),
                ":kind": s("health"),
            },
        )

    def clear(self, tenant_id: str, endpoint_id: str) -> None:
        """A fresh start (an endpoint re-enabled through the API)."""
        self._table.delete(health_key(tenant_id, endpoint_id), "clear breaker")
