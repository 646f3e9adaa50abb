"""The cost model's billing rules (bench/dynamodb_units.py, bench/cost_model.py) on hand-made calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from bench.aws_meter import AwsCall
from bench.cost_model import sqs_requests
from bench.dynamodb_units import CapacityModel, item_size, read_units, write_units

TABLE = "events"
REPO = Path(__file__).resolve().parents[2]


def _s(text: str) -> dict[str, str]:
    return {"S": text}


def test_item_size_counts_names_and_values_by_dynamodb_rules() -> None:
    assert item_size({"pk": _s("abc")}) == 2 + 3
    assert item_size({"n": {"N": "-0012.3400"}}) == 1 + 3  # digits 1234: 2 bytes + 1
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    assert item_size({"m": {"M": {"a": _s("x")}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"l": {"L": [{"N": "1"}, {"BOOL": False}]}}) == 1 + 3 + (1 + 2) + (1 + 1)
    assert item_size({"é": _s("€")}) == 2 + 3  # UTF-8 bytes


@pytest.mark.parametrize(("size", "units"), [(0, 1), (1024, 1), (1025, 2), (3000, 3)])
def test_write_units_round_up_per_kilobyte_with_a_minimum_of_one(size: int, units: int) -> None:
    assert write_units(size) == units


def test_read_units_round_up_per_4_kb_and_halve_when_eventually_consistent() -> None:
    assert read_units(0, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1
    assert read_units(0, consistent=False) == 0.5


class FakeTable:
    """A DynamoDB client stand-in for one table keyed on pk/sk with one GSI (gsi1pk/gsi1sk, ALL)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def describe_table(self, TableName: str) -> dict[str, Any]:
        gsi = {
            "IndexName": "gsi1",
            "KeySchema": [{"AttributeName": "gsi1pk"}, {"AttributeName": "gsi1sk"}],
            "Projection": {"ProjectionType": "ALL"},
        }
        keys = [{"AttributeName": "pk"}, {"AttributeName": "sk"}]
        return {"Table": {"KeySchema": keys, "GlobalSecondaryIndexes": [gsi]}}

    def scan(self, TableName: str, **_: Any) -> dict[str, Any]:
        return {"Items": list(self.items.values())}

    def get_item(self, TableName: str, Key: dict[str, Any], ConsistentRead: bool) -> dict[str, Any]:
        found = self.items.get((Key["pk"]["S"], Key["sk"]["S"]))
        return {"Item": found} if found else {}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        found = [self.get_item(TABLE, key, True).get("Item") for key in RequestItems[TABLE]["Keys"]]
        return {"Responses": {TABLE: [item for item in found if item]}, "UnprocessedKeys": {}}

    def query(self, **params: Any) -> dict[str, Any]:
        assert "FilterExpression" not in params and "ProjectionExpression" not in params
        partition = params["ExpressionAttributeValues"][":p"]["S"]
        return {"Items": [item for (pk, _), item in sorted(self.items.items()) if pk == partition]}

    def put(self, item: dict[str, Any]) -> None:
        self.items[(item["pk"]["S"], item["sk"]["S"])] = item


def _run(model: CapacityModel, operation: str, params: dict[str, Any], **outcome: Any) -> Any:
    call = AwsCall("fn", "dynamodb", operation, params, accepted=frozenset({"ReturnConsumedCapacity"}))
    model.before(call)
    for name, value in outcome.items():
        setattr(call, name, value)
    model.after(call)
    return call.notes["units"]


def _item(sk: str, size: int, **extra: Any) -> dict[str, Any]:
    item = {"pk": _s("T#t"), "sk": _s(sk)} | {name: _s(value) for name, value in extra.items()}
    item["body"] = _s("x" * (size - item_size(item) - 4))
    assert item_size(item) == size
    return item


def test_a_put_is_charged_for_the_larger_item_and_its_index_copy() -> None:
    table = FakeTable()
    model = CapacityModel(table)
    table.put(_item("EVT#1", 2500))
    new = _item("EVT#1", 1500, gsi1pk="E#1", gsi1sk="2026")
    units = _run(model, "PutItem", {"TableName": TABLE, "Item": new})
    assert (units.write, units.index_write) == (3, 2)  # the old 2.5 KB item; the new 1.5 KB index entry


def test_a_transaction_doubles_table_writes_and_condition_checks_but_not_index_writes() -> None:
    table = FakeTable()
    model = CapacityModel(table)
    table.put(_item("TENANT", 200))
    event = _item("EVT#2", 900, gsi1pk="E#2", gsi1sk="2026")
    actions = [
        {"Put": {"TableName": TABLE, "Item": event}},
        {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": _s("T#t"), "sk": _s("TENANT")}}},
    ]
    units = _run(model, "TransactWriteItems", {"TransactItems": actions})
    assert (units.write, units.index_write) == (4, 1)


def test_a_failed_condition_is_charged_as_a_write_of_the_existing_item() -> None:
    table = FakeTable()
    model = CapacityModel(table)
    table.put(_item("EVT#3", 1800))
    units = _run(
        model,
        "PutItem",
        {"TableName": TABLE, "Item": _item("EVT#3", 100)},
        error_code="ConditionalCheckFailedException",
    )
    assert (units.write, units.index_write) == (2, 0)


def test_reads_of_missing_items_cost_the_minimum_and_queries_are_rounded_once() -> None:
    table = FakeTable()
    model = CapacityModel(table)
    for number in range(3):
        table.put(_item(f"EP#{number}", 3000))
    missing = _run(model, "GetItem", {"TableName": TABLE, "Key": {"pk": _s("T#t"), "sk": _s("nope")}})
    assert missing.read == 0.5
    query = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "#e = :yes",
        "ExpressionAttributeNames": {"#e": "enabled"},
        "ExpressionAttributeValues": {":p": _s("T#t"), ":yes": {"BOOL": True}},
        "ConsistentRead": True,
    }
    assert _run(model, "Query", query).read == 3  # 9,000 bytes read before the filter: 3 x 4 KB


def test_batches_are_charged_per_item() -> None:
    table = FakeTable()
    model = CapacityModel(table)
    table.put(_item("D#1", 1100))
    writes = [{"PutRequest": {"Item": _item(f"D#{n}", 600, gsi1pk="E", gsi1sk=str(n))}} for n in (1, 2)]
    units = _run(model, "BatchWriteItem", {"RequestItems": {TABLE: writes}})
    assert (units.write, units.index_write) == (2 + 1, 1 + 1)
    for write in writes:
        table.put(write["PutRequest"]["Item"])  # what the write left
    keys = [{"pk": _s("T#t"), "sk": _s(sk)} for sk in ("D#1", "D#2", "missing")]
    found = [table.items[("T#t", sk)] for sk in ("D#1", "D#2")]
    reads = _run(
        model,
        "BatchGetItem",
        {"RequestItems": {TABLE: {"Keys": keys}}},
        response={"Responses": {TABLE: found}},
    )
    assert reads.read == 1.5  # three eventually consistent reads of at most 4 KB, the missing one included


def test_sqs_requests_are_billed_per_64_kb_chunk_of_the_payload() -> None:
    entries = [{"Id": str(n), "MessageBody": "x" * 30_000} for n in range(3)]
    batch = AwsCall("fn", "sqs", "SendMessageBatch", {"Entries": entries})
    assert sqs_requests(batch) == 2
    small = AwsCall("fn", "sqs", "ReceiveMessage", {}, response={"Messages": [{"Body": "{}"}] * 10})
    assert sqs_requests(small) == 1
    delete = AwsCall("fn", "sqs", "DeleteMessageBatch", {"Entries": []}, retries=1)
    assert sqs_requests(delete) == 2


def test_fifo_queue_requests_are_priced_at_the_fifo_rate_by_the_queue_url() -> None:
    from bench import prices
    from bench.cost_model import Usage, row_name

    standard = "https://sqs.us-east-1.amazonaws.com/123456789012/hookline-deliveries"
    fifo = "https://sqs.us-east-1.amazonaws.com/123456789012/hookline-ordered.fifo"
    assert prices.sqs_request_price(standard).usd == pytest.approx(0.40 / 1e6)
    assert prices.sqs_request_price(fifo).usd == pytest.approx(0.50 / 1e6)
    entries = [{"Id": str(n), "MessageBody": "x" * 30_000} for n in range(3)]  # 2 chunks
    calls = [
        AwsCall("fn", "sqs", "SendMessageBatch", {"QueueUrl": fifo, "Entries": entries}),
        AwsCall("fn", "sqs", "SendMessage", {"QueueUrl": standard, "MessageBody": "{}"}),
        AwsCall("fn", "sqs", "DeleteMessageBatch", {"QueueUrl": fifo, "Entries": []}, retries=1),
    ]
    assert [row_name(call) for call in calls] == [
        "sqs-fifo:SendMessageBatch",
        "sqs:SendMessage",
        "sqs-fifo:DeleteMessageBatch",
    ]
    usage = Usage(events=1)
    usage.add_calls(calls)
    assert usage.dollars({})["SQS"] == pytest.approx((2 + 2) * 0.50 / 1e6 + 1 * 0.40 / 1e6)
    assert usage.billed("SQS") == 5  # one SQS line: standard and FIFO requests together


# --- issue 15: the all-in rules (API units, Lambda's own log lines, the access log, storage, logs) ------


def _invocation(
    request_bytes: int = 0, records: int = 0, api: tuple[str, str, int, int] | None = None
) -> Any:
    from collections import Counter

    from bench.lambda_stack import Invocation

    return Invocation(
        function="Fn",
        response=None,
        started=0.0,
        seconds=0.0125,
        instrument_seconds=0.0,
        excluded_seconds=0.0,
        aws_calls=Counter(),
        aws_seconds=0.0,
        aws_backend_seconds=0.0,
        records=records,
        request_bytes=request_bytes,
        log_bytes=100,
        api_request=api,
    )


def _function(logging: Any) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(memory_mb=512, logging=logging)


def test_api_gateway_bills_each_request_per_512_kb_started() -> None:
    from bench.cost_model import Usage
    from bench.log_lines import LambdaLogging

    usage = Usage(events=3)
    functions = {"Fn": _function(LambdaLogging())}
    sizes = (10, 512 * 1024, 512 * 1024 + 1)
    usage.add_invocations([_invocation(request_bytes=size) for size in sizes], functions)
    assert usage.api_requests == 1 + 1 + 2
    usage.add_invocations([_invocation(records=10)], functions)
    assert usage.api_requests == 4  # an SQS batch is not an API request


def test_lambda_platform_lines_follow_the_logging_config() -> None:
    from bench.log_lines import REQUEST_ID, LambdaLogging, platform_bytes, platform_lines

    text = platform_lines(LambdaLogging(), 12.34, 13, 512)
    assert [line.split(" ", 1)[0] for line in text] == ["START", "END", "REPORT"]
    assert all(REQUEST_ID in line for line in text)
    assert "Billed Duration: 13 ms" in text[2] and "Memory Size: 512 MB" in text[2]
    json_info = LambdaLogging.of({"LoggingConfig": {"LogFormat": "JSON", "SystemLogLevel": "INFO"}})
    assert [json.loads(line)["type"] for line in platform_lines(json_info, 12.34, 13, 512)] == [
        "platform.start",
        "platform.report",
    ]
    json_warn = LambdaLogging.of({"LoggingConfig": {"LogFormat": "JSON", "SystemLogLevel": "WARN"}})
    assert platform_bytes(json_warn, 12.34, 13, 512) == 0
    assert (
        LambdaLogging.of({"LoggingConfig": {"SystemLogLevel": "WARN"}}) == LambdaLogging()
    )  # Text: no levels


def test_the_access_log_line_is_the_templates_format_with_every_variable_filled() -> None:
    from bench.log_lines import access_log_bytes, access_log_line

    template = yaml_parse((REPO / "template.yaml").read_text())
    log_format = template["Resources"]["HooklineHttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    line = access_log_line(log_format, "POST", "/v1/tenants/t/events", 202, 17, 96)
    fields = json.loads(line)
    assert "$context" not in line
    assert fields["method"] == "POST" and fields["path"] == "/v1/tenants/t/events"
    assert fields["status"] == "202" and fields["length"] == "96" and fields["error"] == "-"
    assert access_log_bytes(log_format, "POST", "/v1/tenants/t/events", 202, 17, 96) == len(line.encode())


def test_logs_are_priced_at_ingestion_plus_storage_for_the_retention() -> None:
    from bench import prices
    from bench.cost_model import Usage
    from bench.stored_items import DAYS_PER_MONTH

    usage = Usage(events=1_000_000, access_log_bytes=10**9, log_retention_days=DAYS_PER_MONTH * 2)
    expected = prices.CLOUDWATCH_LOGS_GB.usd * 1e9 + prices.CLOUDWATCH_LOGS_STORAGE_GB_MONTH.usd * 1e9 * 2
    assert usage.logs_per_million() == pytest.approx(expected)
    assert expected == pytest.approx(0.50 + 0.06)


def test_storage_counts_item_and_index_overheads_for_the_months_until_ttl() -> None:
    from bench.stored_items import DAYS_PER_MONTH, ITEM_OVERHEAD, item_months, stored_since

    fake = FakeTable()
    fake.items[("old", "x")] = {"pk": _s("old"), "sk": _s("x")}
    written_at = 1_000_000.0
    month = DAYS_PER_MONTH * 86400
    new = {"pk": _s("p"), "sk": _s("s"), "expires_at": {"N": str(int(written_at + month))}}
    indexed = {"pk": _s("p"), "sk": _s("t"), "gsi1pk": _s("g"), "gsi1sk": _s("h")}
    fake.items[("p", "s")], fake.items[("p", "t")] = new, indexed
    assert item_months(new, written_at) == pytest.approx(1.0, abs=1e-6)
    assert item_months(indexed, written_at) is None
    stored = stored_since(fake, TABLE, {'{"pk": {"S": "old"}, "sk": {"S": "x"}}'}, written_at, 12.0)
    assert (stored.items, stored.index_entries, stored.without_ttl) == (2, 1, 1)
    new_size, indexed_size = item_size(new) + ITEM_OVERHEAD, 2 * (item_size(indexed) + ITEM_OVERHEAD)
    assert stored.bytes == new_size + indexed_size
    assert stored.byte_months == pytest.approx(new_size * 1.0 + indexed_size * 12.0, rel=1e-6)
    assert stored.backup_usd(pitr=False) == 0
    assert stored.backup_usd(pitr=True) == pytest.approx(stored.byte_months / 1e9 * 0.20)
    assert stored.storage_usd() == pytest.approx(stored.byte_months / 1e9 * 0.25)


def test_egress_and_eventbridge_are_beside_the_all_in_total() -> None:
    from bench.cost_model import Usage

    usage = Usage(events=10, egress_bytes=10 * 2000, published_event_chunks=10, delivery_attempts=13)
    total = usage.all_in({})
    assert total["total"] == pytest.approx(total["requests"] + total["logs"] + total["storage"])
    assert total["egress"] == pytest.approx(2000 * 0.09 / 1e9 * 1e6)
    assert total["eventbridge"] == pytest.approx(1.00 + 1.3 * 0.20)


@pytest.mark.parametrize("size", [1024, 10 * 1024, 64 * 1024])
def test_order_bodies_have_the_exact_size_and_line_items(size: int) -> None:
    from bench.order_body import order_event

    event = order_event(size, 7)
    assert len(json.dumps(event, separators=(",", ":")).encode()) == size
    assert event["type"] == "order.created" and event["data"]["line_items"]
    assert order_event(size, 7) == event and order_event(size, 8) != event
