"""DynamoDB data access: one table, keyed so every read is a GetItem or a single-partition Query.

Item layout (``pk`` / ``sk``; ``gsi1pk`` / ``gsi1sk`` on the per-endpoint index)::

    TENANT#{t}                 TENANT                         the tenant
    TENANT#{t}                 ENDPOINT#{e}                   an endpoint (with its signing secrets)
    TENANT#{t}#EVENT#{evt}     EVENT                          the event and the exact body endpoints receive
    TENANT#{t}#EVENT#{evt}     DELIVERY#{e}                   where (event, endpoint) stands
                               gsi1: TENANT#{t}#ENDPOINT#{e} / DELIVERY#{updated}#{evt}
    TENANT#{t}#EVENT#{evt}     ATTEMPT#{time}#{e}#{n}         one HTTP attempt (the delivery log)
                               gsi1: TENANT#{t}#ENDPOINT#{e} / ATTEMPT#{time}#{evt}#{n}
    TENANT#{t}                 HEALTH#{e}                     circuit breaker and failure streak
    RATE#{t}#{e}               RATE                           rate limiter state (next free slot)
    DEADLETTERS                {time}#{t}#{evt}#{e}           dead letters kept for an operator redrive

Events, deliveries and attempts carry ``expires_at`` so TTL enforces retention. Tenant ids cannot hold
``#`` (the API validates them), so keys never collide across tenants.

Every AWS error is translated here, at the edge, into ``DependencyError`` (worth a retry) or a domain error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from hookline.errors import (
    ConflictError,
    DependencyError,
    InvalidRequestError,
    NotFoundError,
    ThrottledError,
)
from hookline.models import (
    Attempt,
    AttemptOutcome,
    AttemptResult,
    DeadLetterRecord,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointHealth,
    EndpointSecret,
    Event,
    Tenant,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

GSI1 = "gsi1"
_BATCH_GET_LIMIT = 100
_BATCH_WRITE_LIMIT = 25
_THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


# --- keys -------------------------------------------------------------------------------------------


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def event_pk(tenant_id: str, event_id: str) -> str:
    return f"TENANT#{tenant_id}#EVENT#{event_id}"


def endpoint_gsi_pk(tenant_id: str, endpoint_id: str) -> str:
    return f"TENANT#{tenant_id}#ENDPOINT#{endpoint_id}"


def _key(pk: str, sk: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def tenant_key(tenant_id: str) -> Item:
    return _key(tenant_pk(tenant_id), "TENANT")


def endpoint_key(tenant_id: str, endpoint_id: str) -> Item:
    return _key(tenant_pk(tenant_id), f"ENDPOINT#{endpoint_id}")


def event_key(tenant_id: str, event_id: str) -> Item:
    return _key(event_pk(tenant_id, event_id), "EVENT")


def delivery_key(tenant_id: str, event_id: str, endpoint_id: str) -> Item:
    return _key(event_pk(tenant_id, event_id), f"DELIVERY#{endpoint_id}")


def health_key(tenant_id: str, endpoint_id: str) -> Item:
    return _key(tenant_pk(tenant_id), f"HEALTH#{endpoint_id}")


def rate_key(tenant_id: str, endpoint_id: str) -> Item:
    return _key(f"RATE#{tenant_id}#{endpoint_id}", "RATE")


DEAD_LETTERS_PK = "DEADLETTERS"


# --- attribute helpers -------------------------------------------------------------------------------


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int | float) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _str(item: Mapping[str, Any], name: str, default: str = "") -> str:
    attribute = item.get(name)
    return str(attribute["S"]) if attribute and "S" in attribute else default


def _opt_str(item: Mapping[str, Any], name: str) -> str | None:
    attribute = item.get(name)
    return str(attribute["S"]) if attribute and "S" in attribute else None


def _opt_int(item: Mapping[str, Any], name: str) -> int | None:
    attribute = item.get(name)
    return int(attribute["N"]) if attribute and "N" in attribute else None


def _json(item: Mapping[str, Any], name: str) -> Any:
    raw = _opt_str(item, name)
    return None if raw is None else json.loads(raw)


def _put_optional(item: Item, name: str, value: str | int | None) -> None:
    if isinstance(value, str):
        item[name] = _s(value)
    elif isinstance(value, int):
        item[name] = _n(value)


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Translate botocore failures into domain errors that say whether a retry is worth it."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _THROTTLING_CODES:
            raise ThrottledError(f"{action}: DynamoDB throttled ({code})") from exc
        raise DependencyError(f"{action}: {code or 'AWS error'}") from exc
    except BotoCoreError as exc:
        raise DependencyError(f"{action}: {exc}") from exc


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# --- item <-> model ----------------------------------------------------------------------------------


def _tenant_from_item(item: Mapping[str, Any]) -> Tenant:
    return Tenant(
        tenant_id=_str(item, "tenant_id"),
        name=_str(item, "name"),
        created_at=_str(item, "created_at"),
        updated_at=_str(item, "updated_at"),
    )


def _endpoint_item(endpoint: Endpoint) -> Item:
    item = endpoint_key(endpoint.tenant_id, endpoint.endpoint_id)
    item.update(
        {
            "type": _s("endpoint"),
            "tenant_id": _s(endpoint.tenant_id),
            "endpoint_id": _s(endpoint.endpoint_id),
            "url": _s(endpoint.url),
            "secrets": _s(
                json.dumps([{"value": s.value, "expires_at": s.expires_at} for s in endpoint.secrets])
            ),
            "description": _s(endpoint.description),
            "enabled": {"BOOL": endpoint.enabled},
            "headers": _s(json.dumps(endpoint.headers)),
            "created_at": _s(endpoint.created_at),
            "updated_at": _s(endpoint.updated_at),
        }
    )
    if endpoint.event_types is not None:
        item["event_types"] = _s(json.dumps(list(endpoint.event_types)))
    if endpoint.filter is not None:
        item["filter"] = _s(json.dumps(endpoint.filter))
    _put_optional(item, "rate_limit", endpoint.rate_limit)
    _put_optional(item, "disabled_reason", endpoint.disabled_reason)
    return item


def _endpoint_from_item(item: Mapping[str, Any]) -> Endpoint:
    event_types = _json(item, "event_types")
    return Endpoint(
        tenant_id=_str(item, "tenant_id"),
        endpoint_id=_str(item, "endpoint_id"),
        url=_str(item, "url"),
        secrets=tuple(EndpointSecret(s["value"], s.get("expires_at")) for s in _json(item, "secrets") or []),
        event_types=None if event_types is None else tuple(event_types),
        filter=_json(item, "filter"),
        description=_str(item, "description"),
        enabled=bool(item.get("enabled", {}).get("BOOL", True)),
        headers=_json(item, "headers") or {},
        rate_limit=_opt_int(item, "rate_limit"),
        disabled_reason=_opt_str(item, "disabled_reason"),
        created_at=_str(item, "created_at"),
        updated_at=_str(item, "updated_at"),
    )


def _event_item(event: Event, expires_at: int) -> Item:
    item = event_key(event.tenant_id, event.event_id)
    item.update(
        {
            "type": _s("event"),
            "tenant_id": _s(event.tenant_id),
            "event_id": _s(event.event_id),
            "event_type": _s(event.event_type),
            "timestamp": _s(event.timestamp),
            "body": _s(event.body),
            "expires_at": _n(expires_at),
        }
    )
    return item


def _event_from_item(item: Mapping[str, Any]) -> Event:
    endpoint_ids = _json(item, "endpoint_ids")
    return Event(
        tenant_id=_str(item, "tenant_id"),
        event_id=_str(item, "event_id"),
        event_type=_str(item, "event_type"),
        timestamp=_str(item, "timestamp"),
        body=_str(item, "body"),
        endpoint_ids=None if endpoint_ids is None else tuple(endpoint_ids),
    )


def _delivery_item(delivery: Delivery, updated_at: str, expires_at: int) -> Item:
    item = delivery_key(delivery.tenant_id, delivery.event_id, delivery.endpoint_id)
    item.update(
        {
            "type": _s("delivery"),
            "tenant_id": _s(delivery.tenant_id),
            "event_id": _s(delivery.event_id),
            "endpoint_id": _s(delivery.endpoint_id),
            "event_type": _s(delivery.event_type),
            "status": _s(delivery.status.value),
            "attempts": _n(delivery.attempts),
            "updated_at": _s(updated_at),
            "expires_at": _n(expires_at),
            "gsi1pk": _s(endpoint_gsi_pk(delivery.tenant_id, delivery.endpoint_id)),
            "gsi1sk": _s(f"DELIVERY#{updated_at}#{delivery.event_id}"),
        }
    )
    _put_optional(item, "last_attempt_at", delivery.last_attempt_at)
    _put_optional(item, "last_status_code", delivery.last_status_code)
    _put_optional(item, "last_error_kind", delivery.last_error_kind)
    _put_optional(item, "last_error", delivery.last_error)
    _put_optional(item, "next_attempt_at", delivery.next_attempt_at)
    return item


def _delivery_from_item(item: Mapping[str, Any]) -> Delivery:
    return Delivery(
        tenant_id=_str(item, "tenant_id"),
        event_id=_str(item, "event_id"),
        endpoint_id=_str(item, "endpoint_id"),
        event_type=_str(item, "event_type"),
        status=DeliveryStatus(_str(item, "status", DeliveryStatus.PENDING.value)),
        attempts=_opt_int(item, "attempts") or 0,
        last_attempt_at=_opt_str(item, "last_attempt_at"),
        last_status_code=_opt_int(item, "last_status_code"),
        last_error_kind=_opt_str(item, "last_error_kind"),
        last_error=_opt_str(item, "last_error"),
        next_attempt_at=_opt_str(item, "next_attempt_at"),
    )


def _attempt_item(attempt: Attempt, expires_at: int) -> Item:
    result = attempt.result
    item = _key(
        event_pk(attempt.tenant_id, attempt.event_id),
        f"ATTEMPT#{attempt.attempted_at}#{attempt.endpoint_id}#{attempt.attempt:03d}",
    )
    item.update(
        {
            "type": _s("attempt"),
            "tenant_id": _s(attempt.tenant_id),
            "event_id": _s(attempt.event_id),
            "endpoint_id": _s(attempt.endpoint_id),
            "attempt": _n(attempt.attempt),
            "attempted_at": _s(attempt.attempted_at),
            "outcome": _s(result.outcome.value),
            "latency_ms": _n(result.latency_ms),
            "response_excerpt": _s(result.response_excerpt),
            "expires_at": _n(expires_at),
            "gsi1pk": _s(endpoint_gsi_pk(attempt.tenant_id, attempt.endpoint_id)),
            "gsi1sk": _s(f"ATTEMPT#{attempt.attempted_at}#{attempt.event_id}#{attempt.attempt:03d}"),
        }
    )
    _put_optional(item, "status_code", result.status_code)
    _put_optional(item, "error_kind", result.error_kind)
    _put_optional(item, "error_message", result.error_message)
    return item


def _attempt_from_item(item: Mapping[str, Any]) -> Attempt:
    return Attempt(
        tenant_id=_str(item, "tenant_id"),
        event_id=_str(item, "event_id"),
        endpoint_id=_str(item, "endpoint_id"),
        attempt=_opt_int(item, "attempt") or 0,
        attempted_at=_str(item, "attempted_at"),
        result=AttemptResult(
            outcome=AttemptOutcome(_str(item, "outcome")),
            latency_ms=_opt_int(item, "latency_ms") or 0,
            status_code=_opt_int(item, "status_code"),
            error_kind=_opt_str(item, "error_kind"),
            error_message=_opt_str(item, "error_message"),
            response_excerpt=_str(item, "response_excerpt"),
        ),
    )


def _health_from_item(item: Mapping[str, Any]) -> EndpointHealth:
    def _float(name: str) -> float | None:
        attribute = item.get(name)
        return float(attribute["N"]) if attribute and "N" in attribute else None

    return EndpointHealth(
        tenant_id=_str(item, "tenant_id"),
        endpoint_id=_str(item, "endpoint_id"),
        consecutive_failures=_opt_int(item, "consecutive_failures") or 0,
        failing_since=_float("failing_since"),
        open_until=_float("open_until"),
        probe_until=_float("probe_until"),
        alerted_failing=bool(item.get("alerted_failing", {}).get("BOOL", False)),
    )


# --- pagination --------------------------------------------------------------------------------------


def encode_cursor(last_evaluated_key: Mapping[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    return (
        base64.urlsafe_b64encode(json.dumps(last_evaluated_key, sort_keys=True).encode()).decode().rstrip("=")
    )


def decode_cursor(cursor: str | None, expected_pk: str, pk_attribute: str = "pk") -> Item | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidRequestError("cursor is not one this API returned") from exc
    if not isinstance(key, dict) or key.get(pk_attribute, {}).get("S") != expected_pk:
        raise InvalidRequestError("cursor does not belong to this list")
    return key


@dataclass(frozen=True, slots=True)
class Page[T]:
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class DispatchSnapshot:
    """What one dispatch batch needs, read in a single BatchGetItem."""

    events: dict[tuple[str, str], Event]
    endpoints: dict[tuple[str, str], Endpoint]
    deliveries: dict[tuple[str, str, str], Delivery]
    health: dict[tuple[str, str], EndpointHealth]


# --- the store ---------------------------------------------------------------------------------------


class Store:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    # tenants

    def upsert_tenant(self, tenant_id: str, name: str, now: str) -> tuple[Tenant, bool]:
        """Create or rename a tenant. Returns it and whether it was created."""
        with aws_errors("upsert tenant"):
            response = self._client.update_item(
                TableName=self._table,
                Key=tenant_key(tenant_id),
                UpdateExpression=(
                    "SET #name = :name, updated_at = :now, tenant_id = :tid, #type = :type, "
                    "created_at = if_not_exists(created_at, :now)"
                ),
                ExpressionAttributeNames={"#name": "name", "#type": "type"},
                ExpressionAttributeValues={
                    ":name": _s(name),
                    ":now": _s(now),
                    ":tid": _s(tenant_id),
                    ":type": _s("tenant"),
                },
                ReturnValues="ALL_NEW",
            )
        tenant = _tenant_from_item(response["Attributes"])
        return tenant, tenant.created_at == now

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        with aws_errors("get tenant"):
            item = self._client.get_item(TableName=self._table, Key=tenant_key(tenant_id)).get("Item")
        return _tenant_from_item(item) if item else None

    def require_tenant(self, tenant_id: str) -> Tenant:
        tenant = self.get_tenant(tenant_id)
        if tenant is None:
            raise NotFoundError(f"tenant {tenant_id!r} does not exist")
        return tenant

    def delete_tenant(self, tenant_id: str) -> None:
        """Delete the tenant with its endpoints and their state. Events and the delivery log age out
        through TTL."""
        self.require_tenant(tenant_id)
        items = self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": _s(tenant_pk(tenant_id))},
            ProjectionExpression="pk, sk, endpoint_id",
        )
        endpoint_ids = [
            _str(item, "endpoint_id") for item in items if _str(item, "sk").startswith("ENDPOINT#")
        ]
        keys = [_key(_str(item, "pk"), _str(item, "sk")) for item in items if _str(item, "sk") != "TENANT"]
        keys += [rate_key(tenant_id, endpoint_id) for endpoint_id in endpoint_ids]
        # The tenant item goes last, so a failure half-way never leaves endpoints without their tenant.
        self._batch_write([{"DeleteRequest": {"Key": key}} for key in [*keys, tenant_key(tenant_id)]])

    # endpoints

    def create_endpoint(self, endpoint: Endpoint) -> None:
        """Write the endpoint only if its tenant exists, in one transaction."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": tenant_key(endpoint.tenant_id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": _endpoint_item(endpoint),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if _error_code(exc) == "TransactionCanceledException":
                raise NotFoundError(f"tenant {endpoint.tenant_id!r} does not exist") from exc
            raise DependencyError(f"create endpoint: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise DependencyError(f"create endpoint: {exc}") from exc

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> Endpoint | None:
        with aws_errors("get endpoint"):
            item = self._client.get_item(
                TableName=self._table, Key=endpoint_key(tenant_id, endpoint_id), ConsistentRead=True
            ).get("Item")
        return _endpoint_from_item(item) if item else None

    def require_endpoint(self, tenant_id: str, endpoint_id: str) -> Endpoint:
        endpoint = self.get_endpoint(tenant_id, endpoint_id)
        if endpoint is None:
            raise NotFoundError(f"endpoint {endpoint_id!r} does not exist")
        return endpoint

    def replace_endpoint(self, endpoint: Endpoint, expected_updated_at: str) -> None:
        """Write a changed endpoint unless someone else changed it since it was read (optimistic lock)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_endpoint_item(endpoint),
                ConditionExpression="attribute_exists(pk) AND updated_at = :seen",
                ExpressionAttributeValues={":seen": _s(expected_updated_at)},
            )
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                raise ConflictError("the endpoint changed or was deleted meanwhile; read it again") from exc
            raise DependencyError(f"update endpoint: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise DependencyError(f"update endpoint: {exc}") from exc

    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=endpoint_key(tenant_id, endpoint_id),
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                raise NotFoundError(f"endpoint {endpoint_id!r} does not exist") from exc
            raise DependencyError(f"delete endpoint: {_error_code(exc)}") from exc
        # Its breaker and rate-limiter state would otherwise linger with no TTL.
        self._batch_write(
            [
                {"DeleteRequest": {"Key": health_key(tenant_id, endpoint_id)}},
                {"DeleteRequest": {"Key": rate_key(tenant_id, endpoint_id)}},
            ]
        )

    def disable_endpoint(self, tenant_id: str, endpoint_id: str, reason: str, now: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=endpoint_key(tenant_id, endpoint_id),
                UpdateExpression="SET enabled = :false, disabled_reason = :reason, updated_at = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":false": {"BOOL": False}, ":reason": _s(reason), ":now": _s(now)},
            )
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":  # deleted meanwhile: nothing to disable
                raise DependencyError(f"disable endpoint: {_error_code(exc)}") from exc

    def list_endpoints(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Endpoint]:
        start = decode_cursor(cursor, tenant_pk(tenant_id))
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": _s(tenant_pk(tenant_id)), ":prefix": _s("ENDPOINT#")},
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        with aws_errors("list endpoints"):
            response = self._client.query(**kwargs)
        return Page(
            [_endpoint_from_item(item) for item in response.get("Items", [])],
            encode_cursor(response.get("LastEvaluatedKey")),
        )

    def iter_endpoints(self, tenant_id: str) -> Iterator[Endpoint]:
        cursor: str | None = None
        while True:
            page = self.list_endpoints(tenant_id, limit=500, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # events

    def put_event(self, event: Event, expires_at: int) -> None:
        """Store the event only if its tenant exists: one transaction, so ingest makes a single call."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": tenant_key(event.tenant_id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": _event_item(event, expires_at)}},
                ]
            )
        except ClientError as exc:
            if _error_code(exc) == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons", [])
                if not reasons or reasons[0].get("Code") == "ConditionalCheckFailed":
                    raise NotFoundError(f"tenant {event.tenant_id!r} does not exist") from exc
            raise DependencyError(f"put event: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise DependencyError(f"put event: {exc}") from exc

    def delete_event(self, tenant_id: str, event_id: str) -> None:
        with aws_errors("delete event"):
            self._client.delete_item(TableName=self._table, Key=event_key(tenant_id, event_id))

    def get_event(self, tenant_id: str, event_id: str) -> Event | None:
        with aws_errors("get event"):
            item = self._client.get_item(
                TableName=self._table, Key=event_key(tenant_id, event_id), ConsistentRead=True
            ).get("Item")
        return _event_from_item(item) if item else None

    def require_event(self, tenant_id: str, event_id: str) -> Event:
        event = self.get_event(tenant_id, event_id)
        if event is None:
            raise NotFoundError(f"event {event_id!r} does not exist")
        return event

    def record_fanout(self, tenant_id: str, event_id: str, endpoint_ids: Sequence[str]) -> None:
        with aws_errors("record fan-out"):
            self._client.update_item(
                TableName=self._table,
                Key=event_key(tenant_id, event_id),
                UpdateExpression="SET endpoint_ids = :ids",
                ExpressionAttributeValues={":ids": _s(json.dumps(list(endpoint_ids)))},
            )

    def get_event_with_deliveries(self, tenant_id: str, event_id: str) -> tuple[Event, list[Delivery]]:
        """One Query over the event's partition: deliveries sort between ATTEMPT# and EVENT."""
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND sk >= :from",
            ExpressionAttributeValues={":pk": _s(event_pk(tenant_id, event_id)), ":from": _s("DELIVERY#")},
            ConsistentRead=True,
        )
        event_items = [item for item in items if _str(item, "sk") == "EVENT"]
        if not event_items:
            raise NotFoundError(f"event {event_id!r} does not exist")
        deliveries = [_delivery_from_item(item) for item in items if _str(item, "sk").startswith("DELIVERY#")]
        return _event_from_item(event_items[0]), deliveries

    # deliveries and the delivery log

    def get_delivery(self, tenant_id: str, event_id: str, endpoint_id: str) -> Delivery | None:
        with aws_errors("get delivery"):
            item = self._client.get_item(
                TableName=self._table, Key=delivery_key(tenant_id, event_id, endpoint_id), ConsistentRead=True
            ).get("Item")
        return _delivery_from_item(item) if item else None

    def load_for_dispatch(
        self,
        event_ids: Iterable[tuple[str, str]],
        endpoint_ids: Iterable[tuple[str, str]],
        delivery_ids: Iterable[tuple[str, str, str]],
    ) -> DispatchSnapshot:
        keys: list[Item] = [event_key(*ids) for ids in set(event_ids)]
        unique_endpoints = set(endpoint_ids)
        keys += [endpoint_key(*ids) for ids in unique_endpoints]
        keys += [health_key(*ids) for ids in unique_endpoints]
        keys += [delivery_key(*ids) for ids in set(delivery_ids)]
        snapshot = DispatchSnapshot(events={}, endpoints={}, deliveries={}, health={})
        for item in self._batch_get(keys):
            kind = _str(item, "type")
            if kind == "event":
                event = _event_from_item(item)
                snapshot.events[(event.tenant_id, event.event_id)] = event
            elif kind == "endpoint":
                endpoint = _endpoint_from_item(item)
                snapshot.endpoints[(endpoint.tenant_id, endpoint.endpoint_id)] = endpoint
            elif kind == "delivery":
                delivery = _delivery_from_item(item)
                snapshot.deliveries[(delivery.tenant_id, delivery.event_id, delivery.endpoint_id)] = delivery
            elif kind == "health":
                health = _health_from_item(item)
                snapshot.health[(health.tenant_id, health.endpoint_id)] = health
        return snapshot

    def record_attempts(
        self, attempts: Sequence[Attempt], deliveries: Sequence[Delivery], now: str, expires_at: int
    ) -> None:
        """Write attempts and the deliveries' new state together, in as few calls as the batch allows."""
        requests: list[Any] = [{"PutRequest": {"Item": _attempt_item(a, expires_at)}} for a in attempts]
        requests += [{"PutRequest": {"Item": _delivery_item(d, now, expires_at)}} for d in deliveries]
        self._batch_write(requests)

    def put_deliveries(self, deliveries: Sequence[Delivery], now: str, expires_at: int) -> None:
        self._batch_write([{"PutRequest": {"Item": _delivery_item(d, now, expires_at)}} for d in deliveries])

    def mark_dead_lettered(
        self, tenant_id: str, event_id: str, endpoint_id: str, event_type: str, now: str, expires_at: int
    ) -> Delivery | None:
        """Mark a dead-lettered delivery failed, unless it already succeeded (a duplicate message).
        Returns the delivery as it now stands, or None if it had succeeded."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=delivery_key(tenant_id, event_id, endpoint_id),
                UpdateExpression=(
                    "SET #status = :failed, updated_at = :now, gsi1pk = :gpk, gsi1sk = :gsk, "
                    "tenant_id = :tid, event_id = :evt, endpoint_id = :ep, #type = :type, "
                    "event_type = if_not_exists(event_type, :etype), "
                    "attempts = if_not_exists(attempts, :zero), "
                    "expires_at = :exp REMOVE next_attempt_at"
                ),
                ConditionExpression="attribute_not_exists(#status) OR #status <> :succeeded",
                ExpressionAttributeNames={"#status": "status", "#type": "type"},
                ExpressionAttributeValues={
                    ":failed": _s(DeliveryStatus.FAILED.value),
                    ":succeeded": _s(DeliveryStatus.SUCCEEDED.value),
                    ":now": _s(now),
                    ":gpk": _s(endpoint_gsi_pk(tenant_id, endpoint_id)),
                    ":gsk": _s(f"DELIVERY#{now}#{event_id}"),
                    ":tid": _s(tenant_id),
                    ":evt": _s(event_id),
                    ":ep": _s(endpoint_id),
                    ":type": _s("delivery"),
                    ":etype": _s(event_type),
                    ":zero": _n(0),
                    ":exp": _n(expires_at),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise DependencyError(f"mark dead-lettered: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise DependencyError(f"mark dead-lettered: {exc}") from exc
        return _delivery_from_item(response["Attributes"])

    def list_event_attempts(
        self, tenant_id: str, event_id: str, limit: int, cursor: str | None
    ) -> Page[Attempt]:
        """The event's attempts, newest first."""
        pk = event_pk(tenant_id, event_id)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": _s(pk), ":prefix": _s("ATTEMPT#")},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start = decode_cursor(cursor, pk)
        if start:
            kwargs["ExclusiveStartKey"] = start
        with aws_errors("list attempts"):
            response = self._client.query(**kwargs)
        return Page(
            [_attempt_from_item(item) for item in response.get("Items", [])],
            encode_cursor(response.get("LastEvaluatedKey")),
        )

    def list_endpoint_attempts(
        self, tenant_id: str, endpoint_id: str, outcome: str | None, limit: int, cursor: str | None
    ) -> Page[Attempt]:
        """An endpoint's attempts across events, newest first; ``outcome`` keeps only succeeded or failed."""
        gsi_pk = endpoint_gsi_pk(tenant_id, endpoint_id)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            "ExpressionAttributeValues": {":pk": _s(gsi_pk), ":prefix": _s("ATTEMPT#")},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if outcome == "succeeded":
            kwargs["FilterExpression"] = "outcome = :succeeded"
            kwargs["ExpressionAttributeValues"][":succeeded"] = _s(AttemptOutcome.SUCCEEDED.value)
        elif outcome == "failed":
            kwargs["FilterExpression"] = "outcome <> :succeeded"
            kwargs["ExpressionAttributeValues"][":succeeded"] = _s(AttemptOutcome.SUCCEEDED.value)
        start = decode_cursor(cursor, gsi_pk, pk_attribute="gsi1pk")
        if start:
            kwargs["ExclusiveStartKey"] = start
        with aws_errors("list endpoint attempts"):
            response = self._client.query(**kwargs)
        return Page(
            [_attempt_from_item(item) for item in response.get("Items", [])],
            encode_cursor(response.get("LastEvaluatedKey")),
        )

    def failed_deliveries_since(
        self, tenant_id: str, endpoint_id: str, since: str, limit: int, cursor: str | None
    ) -> Page[Delivery]:
        """Deliveries to the endpoint that ended failed at or after ``since`` (oldest first)."""
        gsi_pk = endpoint_gsi_pk(tenant_id, endpoint_id)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to",
            "FilterExpression": "#status = :failed",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":pk": _s(gsi_pk),
                ":from": _s(f"DELIVERY#{since}"),
                ":to": _s("DELIVERY#~"),
                ":failed": _s(DeliveryStatus.FAILED.value),
            },
            "Limit": limit,
        }
        start = decode_cursor(cursor, gsi_pk, pk_attribute="gsi1pk")
        if start:
            kwargs["ExclusiveStartKey"] = start
        with aws_errors("failed deliveries"):
            response = self._client.query(**kwargs)
        return Page(
            [_delivery_from_item(item) for item in response.get("Items", [])],
            encode_cursor(response.get("LastEvaluatedKey")),
        )

    # endpoint health (circuit breaker, auto-disable)

    def record_failures(self, tenant_id: str, endpoint_id: str, failures: int, now: float) -> EndpointHealth:
        with aws_errors("record failures"):
            response = self._client.update_item(
                TableName=self._table,
                Key=health_key(tenant_id, endpoint_id),
                UpdateExpression=(
                    "ADD consecutive_failures :n SET failing_since = if_not_exists(failing_since, :now), "
                    "tenant_id = :tid, endpoint_id = :ep, #type = :type"
                ),
                ExpressionAttributeNames={"#type": "type"},
                ExpressionAttributeValues={
                    ":n": _n(failures),
                    ":now": _n(now),
                    ":tid": _s(tenant_id),
                    ":ep": _s(endpoint_id),
                    ":type": _s("health"),
                },
                ReturnValues="ALL_NEW",
            )
        return _health_from_item(response["Attributes"])

    def open_breaker(self, tenant_id: str, endpoint_id: str, open_until: float) -> bool:
        """Open (or re-open) the breaker. Returns True if this call is the one that first marked the
        endpoint as failing, so exactly one caller sends the ``endpoint.failing`` alert."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=health_key(tenant_id, endpoint_id),
                UpdateExpression="SET open_until = :until, alerted_failing = :true REMOVE probe_until",
                ConditionExpression="attribute_not_exists(alerted_failing) OR alerted_failing = :false",
                ExpressionAttributeValues={
                    ":until": _n(open_until),
                    ":true": {"BOOL": True},
                    ":false": {"BOOL": False},
                },
            )
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise DependencyError(f"open breaker: {_error_code(exc)}") from exc
        else:
            return True
        with aws_errors("re-open breaker"):
            self._client.update_item(
                TableName=self._table,
                Key=health_key(tenant_id, endpoint_id),
                UpdateExpression="SET open_until = :until REMOVE probe_until",
                ExpressionAttributeValues={":until": _n(open_until)},
            )
        return False

    def acquire_probe(self, tenant_id: str, endpoint_id: str, now: float, lease_until: float) -> bool:
        """Let exactly one delivery probe an endpoint whose breaker cool-down is over."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=health_key(tenant_id, endpoint_id),
                UpdateExpression="SET probe_until = :lease",
                ConditionExpression=(
                    "attribute_exists(open_until) AND open_until <= :now "
                    "AND (attribute_not_exists(probe_until) OR probe_until < :now)"
                ),
                ExpressionAttributeValues={":now": _n(now), ":lease": _n(lease_until)},
            )
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise DependencyError(f"acquire probe: {_error_code(exc)}") from exc
        return True

    def clear_health(self, tenant_id: str, endpoint_id: str) -> EndpointHealth | None:
        """Forget the failure streak (after a success, or when re-enabled). Returns what it was."""
        with aws_errors("clear health"):
            response = self._client.delete_item(
                TableName=self._table, Key=health_key(tenant_id, endpoint_id), ReturnValues="ALL_OLD"
            )
        old = response.get("Attributes")
        return _health_from_item(old) if old else None

    # rate limiter state

    def rate_slot(self, tenant_id: str, endpoint_id: str) -> float | None:
        with aws_errors("read rate limiter"):
            item = self._client.get_item(
                TableName=self._table, Key=rate_key(tenant_id, endpoint_id), ConsistentRead=True
            ).get("Item")
        return float(item["next_slot"]["N"]) if item and "next_slot" in item else None

    def claim_rate_slot(
        self, tenant_id: str, endpoint_id: str, seen: float | None, next_slot: float, expires_at: int
    ) -> bool:
        """Compare-and-set the limiter's next free slot; False when another dispatcher got there first."""
        item = rate_key(tenant_id, endpoint_id) | {"next_slot": _n(next_slot), "expires_at": _n(expires_at)}
        kwargs: dict[str, Any] = {"TableName": self._table, "Item": item}
        if seen is None:
            kwargs["ConditionExpression"] = "attribute_not_exists(next_slot)"
        else:
            kwargs["ConditionExpression"] = "next_slot = :seen"
            kwargs["ExpressionAttributeValues"] = {":seen": _n(seen)}
        try:
            self._client.put_item(**kwargs)
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise DependencyError(f"claim rate slot: {_error_code(exc)}") from exc
        return True

    # dead letters kept for redrive

    def put_dead_letter(self, record: DeadLetterRecord, expires_at: int) -> None:
        with aws_errors("keep dead letter"):
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": _s(DEAD_LETTERS_PK),
                    "sk": _s(record.key),
                    "type": _s("dead_letter"),
                    "tenant_id": _s(record.tenant_id),
                    "event_id": _s(record.event_id),
                    "endpoint_id": _s(record.endpoint_id),
                    "dead_lettered_at": _s(record.dead_lettered_at),
                    "expires_at": _n(expires_at),
                },
            )

    def list_dead_letters(self, limit: int, cursor: str | None) -> Page[DeadLetterRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(DEAD_LETTERS_PK)},
            "Limit": limit,
            "ConsistentRead": True,
        }
        start = decode_cursor(cursor, DEAD_LETTERS_PK)
        if start:
            kwargs["ExclusiveStartKey"] = start
        with aws_errors("list dead letters"):
            response = self._client.query(**kwargs)
        records = [
            DeadLetterRecord(
                key=_str(item, "sk"),
                tenant_id=_str(item, "tenant_id"),
                event_id=_str(item, "event_id"),
                endpoint_id=_str(item, "endpoint_id"),
                dead_lettered_at=_str(item, "dead_lettered_at"),
            )
            for item in response.get("Items", [])
        ]
        return Page(records, encode_cursor(response.get("LastEvaluatedKey")))

    def delete_dead_letters(self, keys: Sequence[str]) -> None:
        self._batch_write([{"DeleteRequest": {"Key": _key(DEAD_LETTERS_PK, key)}} for key in keys])

    # plumbing

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: Any = None
        while True:
            page_kwargs = {"TableName": self._table, **kwargs}
            if start:
                page_kwargs["ExclusiveStartKey"] = start
            with aws_errors("query"):
                response = self._client.query(**page_kwargs)
            items.extend(response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                return items

    def _batch_get(self, keys: list[Item]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        pending = list(keys)
        while pending:
            chunk, pending = pending[:_BATCH_GET_LIMIT], pending[_BATCH_GET_LIMIT:]
            request: Any = {self._table: {"Keys": chunk, "ConsistentRead": True}}
            for _ in range(5):
                with aws_errors("batch get"):
                    response = self._client.batch_get_item(RequestItems=request)
                items.extend(response.get("Responses", {}).get(self._table, []))
                request = response.get("UnprocessedKeys") or None
                if not request:
                    break
            else:
                raise ThrottledError("batch get: keys left unprocessed after retries")
        return items

    def _batch_write(self, requests: list[Any]) -> None:
        pending = list(requests)
        while pending:
            chunk, pending = pending[:_BATCH_WRITE_LIMIT], pending[_BATCH_WRITE_LIMIT:]
            request: Any = {self._table: chunk}
            for _ in range(5):
                with aws_errors("batch write"):
                    response = self._client.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems") or None
                if not request:
                    break
            else:
                raise ThrottledError("batch write: items left unprocessed after retries")
