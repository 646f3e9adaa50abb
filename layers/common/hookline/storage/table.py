"""The DynamoDB table every store shares: its keys, attribute codecs, and the one AWS-error translation.

Item layout (``pk`` / ``sk``; no secondary index; ``expires_at`` is the TTL attribute)::

    T#{t}                    TENANT                  the tenant
    T#{t}                    EP#{e}                  an endpoint (signing secrets sealed, see core.crypto)
    T#{t}                    KEY#{key id}            a tenant API key's metadata (its digest, never the key)
    K#{sha256 of the key}    KEY                     the same key, found by the digest a request presents
    T#{t}                    HEALTH#{e}              the endpoint's circuit breaker
    RATE#{t}#{e}             RATE                    the endpoint's rate-limiter slot
    T#{t}#E#{shard}          {event id}              an event record: the event, its fan-out, its deliveries
    T#{t}#E#{shard}          {event id}#D#{e}        one delivery of an event too large to keep them inline
    T#{t}#FAIL#{e}           {failed at}#{event id}  failed deliveries to an endpoint, for ``recover``
    IDEM#{t}#{sha256 of key} IDEM                    an idempotency key's first answer (24 h)
    DEADLETTERS              {kind}#{ids}            a dead-lettered job, kept for an operator's redrive
    CATALOG                  ET#{name}               an event type of the catalog (shared by every tenant)

``shard`` comes from the event id (``core.ids.event_shard``): one tenant's writes spread over partitions,
and since event ids are ULIDs a partition's sort order is time order. Tenant ids cannot hold ``#`` (the API
validates them), so keys never collide across tenants.

Every AWS call of every store goes through ``Table``, where botocore errors become ``DependencyError``
(worth a retry), ``ThrottledError``, or ``ConditionNotMet`` (a lost race, which stores turn into answers).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from hookline.core.errors import ConditionNotMet, DependencyError, ThrottledError
from hookline.core.ids import event_shard

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]

_BATCH_GET_LIMIT = 100
_BATCH_WRITE_LIMIT = 25
_UNPROCESSED_RETRIES = 5
_THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


# --- keys -----------------------------------------------------------------------------------------------


def key(pk: str, sk: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def tenant_key(tenant_id: str) -> Item:
    return key(tenant_pk(tenant_id), "TENANT")


def endpoint_key(tenant_id: str, endpoint_id: str) -> Item:
    return key(tenant_pk(tenant_id), f"EP#{endpoint_id}")


def health_key(tenant_id: str, endpoint_id: str) -> Item:
    return key(tenant_pk(tenant_id), f"HEALTH#{endpoint_id}")


def in_flight_key(tenant_id: str, endpoint_id: str) -> Item:
    return key(f"INFLIGHT#{tenant_id}#{endpoint_id}", "INFLIGHT")


def rate_key(tenant_id: str, endpoint_id: str) -> Item:
    return key(f"RATE#{tenant_id}#{endpoint_id}", "RATE")


def api_key_meta_key(tenant_id: str, key_id: str) -> Item:
    return key(tenant_pk(tenant_id), f"KEY#{key_id}")


def api_key_lookup_key(digest: str) -> Item:
    return key(f"K#{digest}", "KEY")


def events_pk(tenant_id: str, shard: int) -> str:
    return f"T#{tenant_id}#E#{shard:02d}"


def event_key(tenant_id: str, event_id: str) -> Item:
    return key(events_pk(tenant_id, event_shard(event_id)), event_id)


def delivery_key(tenant_id: str, event_id: str, endpoint_id: str) -> Item:
    return key(events_pk(tenant_id, event_shard(event_id)), f"{event_id}{_DELIVERY_INFIX}{endpoint_id}")


_DELIVERY_INFIX = "#D#"


def event_id_in_key(sort_key: str) -> str:
    """The event id in an event record's or delivery item's sort key."""
    return sort_key.split(_DELIVERY_INFIX, 1)[0]


def delivery_key_parts(sort_key: str) -> tuple[str, str]:
    """(event id, endpoint id) from a delivery item's sort key."""
    event_id, endpoint_id = sort_key.split(_DELIVERY_INFIX, 1)
    return event_id, endpoint_id


def tenant_of_events_pk(pk: str) -> str:
    """The tenant id in an event shard's partition key (``events_pk``)."""
    return pk.removeprefix("T#").rsplit("#E#", 1)[0]


def failures_pk(tenant_id: str, endpoint_id: str) -> str:
    return f"T#{tenant_id}#FAIL#{endpoint_id}"


def idempotency_key(tenant_id: str, digest: str) -> Item:
    return key(f"IDEM#{tenant_id}#{digest}", "IDEM")


DEAD_LETTERS_PK = "DEADLETTERS"
CATALOG_PK = "CATALOG"


def event_type_key(name: str) -> Item:
    return key(CATALOG_PK, f"ET#{name}")


# --- attributes -----------------------------------------------------------------------------------------


def s(value: str) -> dict[str, Any]:
    return {"S": value}


def n(value: float) -> dict[str, Any]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def boolean(value: bool) -> dict[str, Any]:
    return {"BOOL": value}


def get_str(item: Mapping[str, Any], name: str, default: str = "") -> str:
    attribute = item.get(name)
    return str(attribute["S"]) if attribute and "S" in attribute else default


def get_opt_str(item: Mapping[str, Any], name: str) -> str | None:
    attribute = item.get(name)
    return str(attribute["S"]) if attribute and "S" in attribute else None


def get_opt_int(item: Mapping[str, Any], name: str) -> int | None:
    attribute = item.get(name)
    return int(float(attribute["N"])) if attribute and "N" in attribute else None


def get_opt_float(item: Mapping[str, Any], name: str) -> float | None:
    attribute = item.get(name)
    return float(attribute["N"]) if attribute and "N" in attribute else None


def get_bool(item: Mapping[str, Any], name: str, default: bool) -> bool:
    attribute = item.get(name)
    return bool(attribute["BOOL"]) if attribute and "BOOL" in attribute else default


def put_optional(item: Item, name: str, value: str | float | None) -> None:
    if isinstance(value, str):
        item[name] = s(value)
    elif isinstance(value, int | float):
        item[name] = n(value)


# --- errors, in one place -------------------------------------------------------------------------------


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Translate botocore failures into domain errors that say whether a retry is worth it."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "ConditionalCheckFailedException":
            raise ConditionNotMet(f"{action}: condition not met") from exc
        if code == "TransactionCanceledException":
            reasons = [str(r.get("Code", "")) for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                raise ConditionNotMet(f"{action}: condition not met ({', '.join(reasons)})") from exc
        if code in _THROTTLING_CODES:
            raise ThrottledError(f"{action}: DynamoDB throttled ({code})") from exc
        raise DependencyError(f"{action}: {code or 'AWS error'}") from exc
    except BotoCoreError as exc:
        raise DependencyError(f"{action}: {type(exc).__name__}") from exc


# --- the table ------------------------------------------------------------------------------------------


class Table:
    """One DynamoDB table. Every call translates errors through ``aws_errors``."""

    def __init__(self, name: str, client: DynamoDBClient) -> None:
        self.name = name
        self._client = client

    def get(self, item_key: Item, action: str, consistent: bool = True) -> Item | None:
        with aws_errors(action):
            response = self._client.get_item(TableName=self.name, Key=item_key, ConsistentRead=consistent)
        item: Item | None = response.get("Item")
        return item

    def batch_get(self, keys: Sequence[Item], action: str, consistent: bool = True) -> list[Item]:
        items: list[Item] = []
        unique = list({(k["pk"]["S"], k["sk"]["S"]): k for k in keys}.values())
        for start in range(0, len(unique), _BATCH_GET_LIMIT):
            request: Any = {self.name: {"Keys": unique[start : start + _BATCH_GET_LIMIT]}}
            request[self.name]["ConsistentRead"] = consistent
            for _ in range(_UNPROCESSED_RETRIES):
                with aws_errors(action):
                    response = self._client.batch_get_item(RequestItems=request)
                items.extend(response.get("Responses", {}).get(self.name, []))
                request = response.get("UnprocessedKeys") or None
                if not request:
                    break
            else:
                raise ThrottledError(f"{action}: keys left unprocessed after retries")
        return items

    def put(self, item: Item, action: str, condition: str | None = None, **expression: Any) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": item, **expression}
        if condition:
            kwargs["ConditionExpression"] = condition
        with aws_errors(action):
            self._client.put_item(**kwargs)

    def update(
        self,
        item_key: Item,
        action: str,
        update: str,
        condition: str | None = None,
        return_values: str | None = None,
        **expression: Any,
    ) -> Item:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": item_key,
            "UpdateExpression": update,
            **{name: value for name, value in expression.items() if value},
        }
        if condition:
            kwargs["ConditionExpression"] = condition
        if return_values:
            kwargs["ReturnValues"] = return_values
        with aws_errors(action):
            response = self._client.update_item(**kwargs)
        attributes: Item = response.get("Attributes", {})
        return attributes

    def delete(
        self,
        item_key: Item,
        action: str,
        condition: str | None = None,
        return_old: bool = False,
        **expression: Any,
    ) -> Item | None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": item_key, **expression}
        if condition:
            kwargs["ConditionExpression"] = condition
        if return_old:
            kwargs["ReturnValues"] = "ALL_OLD"
        with aws_errors(action):
            response = self._client.delete_item(**kwargs)
        old: Item | None = response.get("Attributes")
        return old

    def query(self, action: str, **kwargs: Any) -> tuple[list[Item], Item | None]:
        """One page of a query: its items and the key to continue from (None at the end)."""
        with aws_errors(action):
            response = self._client.query(TableName=self.name, **kwargs)
        return list(response.get("Items", [])), response.get("LastEvaluatedKey")

    def prefix_page(
        self, action: str, pk: str, sk_prefix: str, limit: int, start: Item | None, consistent: bool
    ) -> tuple[list[Item], Item | None]:
        """One page of the items under ``pk`` whose sort key starts with ``sk_prefix``."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": s(pk), ":prefix": s(sk_prefix)},
            "Limit": limit,
            "ConsistentRead": consistent,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        return self.query(action, **kwargs)

    def scan(self, action: str, **kwargs: Any) -> tuple[list[Item], Item | None]:
        """One page of a scan (operator maintenance only, such as re-sealing under a new key)."""
        with aws_errors(action):
            response = self._client.scan(TableName=self.name, **kwargs)
        return list(response.get("Items", [])), response.get("LastEvaluatedKey")

    def query_all(self, action: str, **kwargs: Any) -> list[Item]:
        items: list[Item] = []
        start: Item | None = None
        while True:
            page_kwargs = dict(kwargs)
            if start:
                page_kwargs["ExclusiveStartKey"] = start
            page, start = self.query(action, **page_kwargs)
            items.extend(page)
            if not start:
                return items

    def batch_write(self, requests: Sequence[Item], action: str) -> None:
        for begin in range(0, len(requests), _BATCH_WRITE_LIMIT):
            request: Any = {self.name: list(requests[begin : begin + _BATCH_WRITE_LIMIT])}
            for _ in range(_UNPROCESSED_RETRIES):
                with aws_errors(action):
                    response = self._client.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems") or None
                if not request:
                    break
            else:
                raise ThrottledError(f"{action}: items left unprocessed after retries")

    def transact(self, items: Sequence[Item], action: str) -> None:
        """Write ``items`` (TransactWriteItems entries, with ``TableName`` filled in) all or none."""
        entries: list[Any] = []
        for entry in items:
            ((operation, body),) = entry.items()
            entries.append({operation: {"TableName": self.name, **body}})
        with aws_errors(action):
            self._client.transact_write_items(TransactItems=entries)
