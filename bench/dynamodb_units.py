"""DynamoDB read and write units of each call, from the items it actually wrote and read.

AWS's rules (DynamoDB developer guide, "Read and write operations" and "Global secondary indexes"):
- An item's size is the sum of its attribute names (UTF-8 bytes) and values: strings in UTF-8 bytes,
  numbers about 1 byte per two significant digits plus 1, binary in bytes, booleans and nulls 1 byte,
  lists and maps 3 bytes plus 1 byte per element plus the elements (a map's element includes its name).
- Writes: 1 write unit per 1 KB, rounded up, at least 1. PutItem and UpdateItem are charged for the larger
  of the item before and after; DeleteItem (and a delete of a missing item) for the item deleted, at
  least 1. A conditional write whose condition fails is charged as a write of the existing item, at
  least 1. BatchWriteItem is charged per item. TransactWriteItems is charged twice (prepare and commit)
  per action, ConditionCheck included; a cancelled transaction here is charged its prepare phase once.
- Global secondary indexes: a write that puts an item into an index, or changes its projected attributes
  there, costs one more write of the index entry's size; one that changes an index key costs two (delete
  the old entry, put the new); one that removes it from the index costs one. Index writes are not doubled
  for transactions (the index is updated asynchronously, outside the transaction protocol).
- Reads: 1 read unit per 4 KB, rounded up, halved for eventually consistent reads (the default), doubled
  for transactions. A missing item still costs the minimum. GetItem and BatchGetItem are charged per item
  on its whole size (a projection does not reduce it); Query and Scan on the total size of the items read
  before any filter, rounded up once.

``CapacityModel`` is an ``AwsMeter`` observer: before a write it reads the items the write will touch,
after it reads them again where the request does not say what they became, through a client of its own
that the meter does not see. ``CapacityModel`` also asks each call for ``ReturnConsumedCapacity`` so that
moto's figure can be printed beside the model's (moto 5.2.5 answers fixed placeholders, not sizes).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.aws_meter import AwsCall

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
_NAME_OR_VALUE = re.compile(r"[#:][A-Za-z0-9_]+")

Item = dict[str, Any]  # DynamoDB JSON, as boto3's client speaks it: {"name": {"S": "..."}}


# --- sizes ---------------------------------------------------------------------------------------------


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").lower().split("e")[0].replace(".", "").strip("0")
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return len(content if isinstance(content, bytes | bytearray) else str(content).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(element.encode()) for element in content)
    if kind == "NS":
        return sum(_number_size(str(element)) for element in content)
    if kind == "BS":
        return sum(len(element) for element in content)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in content.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return units if consistent else units / 2


# --- tables ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[Index, ...]

    def key_of(self, item: Item) -> Item:
        return {name: item[name] for name in self.keys}

    def index_entry(self, index: Index, item: Item | None) -> Item | None:
        """What ``item`` projects into ``index``, or None when it lacks one of the index's keys."""
        if item is None or any(name not in item for name in index.keys):
            return None
        if index.projection == "ALL":
            return item
        kept = {*self.keys, *index.keys, *(index.included if index.projection == "INCLUDE" else ())}
        return {name: value for name, value in item.items() if name in kept}

    def index_writes(self, old: Item | None, new: Item | None) -> int:
        """Write units the table's global secondary indexes consume when ``old`` becomes ``new``."""
        units = 0
        for index in self.indexes:
            before, after = self.index_entry(index, old), self.index_entry(index, new)
            if before == after:
                continue
            if before is not None and after is not None:
                moved = any(before[name] != after[name] for name in index.keys)
                units += write_units(item_size(before)) if moved else 0
            if after is not None:
                units += write_units(item_size(after))
            elif before is not None:
                units += write_units(item_size(before))
        return units


def describe(client: Any, name: str) -> Table:
    table = client.describe_table(TableName=name)["Table"]
    keys = tuple(element["AttributeName"] for element in table["KeySchema"])
    indexes = tuple(
        Index(
            index["IndexName"],
            tuple(element["AttributeName"] for element in index["KeySchema"]),
            index["Projection"].get("ProjectionType", "ALL"),
            tuple(index["Projection"].get("NonKeyAttributes", ())),
        )
        for index in table.get("GlobalSecondaryIndexes", [])
    )
    return Table(name, keys, indexes)


# --- the model ------------------------------------------------------------------------------------------


@dataclass
class Units:
    read: float = 0.0
    write: float = 0.0  # table writes
    index_write: float = 0.0  # global secondary index writes

    def __iadd__(self, other: Units) -> Units:
        self.read += other.read
        self.write += other.write
        self.index_write += other.index_write
        return self

    @property
    def all_writes(self) -> float:
        return self.write + self.index_write


def _canonical(key: Item) -> str:
    return json.dumps(key, sort_keys=True, default=str)


def _first_keys(
    requests: dict[str, dict[str, Any]], limit: int
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Split BatchGetItem request items into the first ``limit`` keys and the rest."""
    chunk: dict[str, dict[str, Any]] = {}
    rest: dict[str, dict[str, Any]] = {}
    room = limit
    for table, request in requests.items():
        keys = request["Keys"]
        if room:
            chunk[table] = request | {"Keys": keys[:room]}
        if keys[room:]:
            rest[table] = request | {"Keys": keys[room:]}
        room = max(0, room - len(keys))
    return chunk, rest


def _moto_units(response: dict[str, Any]) -> float | None:
    consumed = response.get("ConsumedCapacity")
    if consumed is None:
        return None
    entries = consumed if isinstance(consumed, list) else [consumed]
    return float(sum(Decimal(str(entry.get("CapacityUnits", 0))) for entry in entries))


class CapacityModel:
    """Computes ``call.notes["units"]`` (a ``Units``) for every DynamoDB call the meter sees."""

    def __init__(self, client: Any) -> None:
        self._client = client  # not metered: made from a Session of its own
        self._tables: dict[str, Table] = {}

    def table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = describe(self._client, name)
        return self._tables[name]

    def _get(self, table: str, key: Item) -> Item | None:
        found: Item | None = self._client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return found

    def _get_many(self, keys: list[tuple[str, Item]]) -> dict[tuple[str, str], Item | None]:
        found: dict[tuple[str, str], Item | None] = {(table, _canonical(key)): None for table, key in keys}
        if len(found) == 1:
            [(table, key)] = keys[:1]
            found[(table, _canonical(key))] = self._get(table, key)
            return found
        pending: dict[str, list[Item]] = {}
        for table, key in keys:
            pending.setdefault(table, []).append(key)
        requests = {
            table: {"Keys": list({_canonical(key): key for key in wanted}.values()), "ConsistentRead": True}
            for table, wanted in pending.items()
        }
        while requests:
            chunk, requests = _first_keys(requests, 100)
            answer = self._client.batch_get_item(RequestItems=chunk)
            for table, items in answer.get("Responses", {}).items():
                for item in items:
                    found[(table, _canonical(self.table(table).key_of(item)))] = item
            for table, unprocessed in answer.get("UnprocessedKeys", {}).items():
                retry = requests.setdefault(table, {"Keys": [], "ConsistentRead": True})
                retry["Keys"] += unprocessed["Keys"]
        return found

    # -- observer -----------------------------------------------------------------------------------------

    def before(self, call: AwsCall) -> None:
        if call.service != "dynamodb":
            return
        if "ReturnConsumedCapacity" in call.accepted:
            call.params.setdefault("ReturnConsumedCapacity", "TOTAL")
        if call.operation in _WRITES:
            call.notes["old"] = self._get_many(self._touched(call))

    def after(self, call: AwsCall) -> None:
        if call.service != "dynamodb":
            return
        call.notes["moto_units"] = _moto_units(call.response)
        handler = getattr(self, f"_units_{call.operation}", None)
        call.notes["units"] = handler(call) if handler is not None else Units()

    def _touched(self, call: AwsCall) -> list[tuple[str, Item]]:
        params = call.params
        if call.operation == "PutItem":
            return [(params["TableName"], self.table(params["TableName"]).key_of(params["Item"]))]
        if call.operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"])]
        if call.operation == "BatchWriteItem":
            return [
                (table, self.table(table).key_of(request["PutRequest"]["Item"]))
                if "PutRequest" in request
                else (table, request["DeleteRequest"]["Key"])
                for table, requests in params["RequestItems"].items()
                for request in requests
            ]
        return [self._action_target(action) for action in params["TransactItems"]]

    def _action_target(self, action: dict[str, Any]) -> tuple[str, Item]:
        ((kind, body),) = action.items()
        if kind == "Put":
            return body["TableName"], self.table(body["TableName"]).key_of(body["Item"])
        return body["TableName"], body["Key"]

    def _old(self, call: AwsCall, table: str, key: Item) -> Item | None:
        old: Item | None = call.notes["old"][(table, _canonical(key))]
        return old

    def _write(self, table: str, old: Item | None, new: Item | None, factor: int = 1) -> Units:
        size = max(item_size(old), item_size(new))
        return Units(write=factor * write_units(size), index_write=self.table(table).index_writes(old, new))

    # -- writes -------------------------------------------------------------------------------------------

    def _units_PutItem(self, call: AwsCall) -> Units:
        table = call.params["TableName"]
        old = self._old(call, table, self.table(table).key_of(call.params["Item"]))
        if call.error_code:
            return Units(write=write_units(item_size(old)))
        return self._write(table, old, call.params["Item"])

    def _units_UpdateItem(self, call: AwsCall) -> Units:
        table, key = call.params["TableName"], call.params["Key"]
        old = self._old(call, table, key)
        if call.error_code:
            return Units(write=write_units(item_size(old)))
        return self._write(table, old, self._get(table, key))

    def _units_DeleteItem(self, call: AwsCall) -> Units:
        table, key = call.params["TableName"], call.params["Key"]
        old = self._old(call, table, key)
        if call.error_code:
            return Units(write=write_units(item_size(old)))
        return self._write(table, old, None)

    def _units_BatchWriteItem(self, call: AwsCall) -> Units:
        unprocessed = {
            (table, _canonical(request))
            for table, requests in call.response.get("UnprocessedItems", {}).items()
            for request in requests
        }
        units = Units()
        for table, requests in call.params["RequestItems"].items():
            for request in requests:
                if (table, _canonical(request)) in unprocessed:
                    continue
                if "PutRequest" in request:
                    new = request["PutRequest"]["Item"]
                    units += self._write(table, self._old(call, table, self.table(table).key_of(new)), new)
                else:
                    units += self._write(table, self._old(call, table, request["DeleteRequest"]["Key"]), None)
        return units

    def _units_TransactWriteItems(self, call: AwsCall) -> Units:
        units = Units()
        for action in call.params["TransactItems"]:
            ((kind, _),) = action.items()
            table, key = self._action_target(action)
            old = self._old(call, table, key)
            if call.error_code or kind == "ConditionCheck":
                units.write += (1 if call.error_code else 2) * write_units(item_size(old))
            elif kind == "Put":
                units += self._write(table, old, action["Put"]["Item"], factor=2)
            elif kind == "Update":
                units += self._write(table, old, self._get(table, key), factor=2)
            else:
                units += self._write(table, old, None, factor=2)
        return units

    # -- reads --------------------------------------------------------------------------------------------

    def _units_GetItem(self, call: AwsCall) -> Units:
        params = call.params
        projected = "ProjectionExpression" in params or "AttributesToGet" in params
        whole = self._get(params["TableName"], params["Key"]) if projected else call.response.get("Item")
        return Units(read=read_units(item_size(whole), bool(params.get("ConsistentRead"))))

    def _units_BatchGetItem(self, call: AwsCall) -> Units:
        unprocessed = {
            (table, _canonical(key))
            for table, request in call.response.get("UnprocessedKeys", {}).items()
            for key in request.get("Keys", [])
        }
        units = Units()
        for table, request in call.params["RequestItems"].items():
            consistent = bool(request.get("ConsistentRead"))
            keys = [key for key in request["Keys"] if (table, _canonical(key)) not in unprocessed]
            if "ProjectionExpression" in request or "AttributesToGet" in request:
                whole = self._get_many([(table, key) for key in keys])
            else:  # the response holds every item found, whole
                returned = call.response.get("Responses", {}).get(table, [])
                whole = {(table, _canonical(self.table(table).key_of(item))): item for item in returned}
            for key in keys:
                units.read += read_units(item_size(whole.get((table, _canonical(key)))), consistent)
        return units

    def _units_TransactGetItems(self, call: AwsCall) -> Units:
        units = Units()
        for action in call.params["TransactItems"]:
            whole = self._get(action["Get"]["TableName"], action["Get"]["Key"])
            units.read += 2 * read_units(item_size(whole), consistent=True)
        return units

    def _units_Query(self, call: AwsCall) -> Units:
        return self._scanned(call, "query", call.params.get("KeyConditionExpression", ""))

    def _units_Scan(self, call: AwsCall) -> Units:
        return self._scanned(call, "scan", "")

    def _scanned(self, call: AwsCall, operation: str, kept_expression: str) -> Units:
        """Query and Scan read every item the key condition and ``Limit`` reach, filter or not: run the
        same page again without filter, projection or count, and size what comes back."""
        if call.error_code:
            return Units()
        params = {
            name: value
            for name, value in call.params.items()
            if name
            not in (
                "FilterExpression",
                "ProjectionExpression",
                "Select",
                "AttributesToGet",
                "ReturnConsumedCapacity",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
            )
        }
        used = set(_NAME_OR_VALUE.findall(kept_expression))
        for field in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            kept = {k: v for k, v in call.params.get(field, {}).items() if k in used}
            if kept:
                params[field] = kept
        items = getattr(self._client, operation)(**params).get("Items", [])
        table = self.table(call.params["TableName"])
        index = next((i for i in table.indexes if i.name == call.params.get("IndexName")), None)
        sizes = (item_size(table.index_entry(index, item) if index else item) for item in items)
        return Units(read=read_units(sum(sizes), bool(call.params.get("ConsistentRead"))))
