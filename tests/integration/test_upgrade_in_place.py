"""Upgrade in place: records and queue messages written by earlier code still work.

``tests/fixtures/legacy_event_and_jobs.json`` was captured from that code (commit d5c4b5d) running its real
handlers under moto: a 1 KiB order event's ``event`` job, the ``deliver`` job its failed first attempt
queued, and the event record dispatch wrote (body as text in ``b``). Ids in the fixture are replaced by
those of the tenant and endpoint made here, so the new handlers meet exactly those bytes otherwise.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from hookline.storage.records import record_from_item
from tests.integration.lambda_harness import ApiClient, Stack
from tests.receivers import Receiver, reply

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_event_and_jobs.json"
# The same record as written by main at 2802521 (body compressed in ``bz``, ``eps`` listed), before ``eps``
# was left out when it repeats the keys of ``d``. Binary values are base64, as in DynamoDB's JSON.
COMPRESSED_FIXTURE = FIXTURE.with_name("compressed_event_record.json")
# The same record again with compact deliveries (branch cost15: times as Unix milliseconds, outcome codes,
# empty attempt fields left out), so that later layouts keep reading this one too.
COMPACT_FIXTURE = FIXTURE.with_name("compact_event_record.json")


def _compressed_item(
    tenant_id: str | None = None, endpoint_id: str | None = None, fixture: Path = COMPRESSED_FIXTURE
) -> dict[str, Any]:
    captured = json.loads(fixture.read_text())
    text = fixture.read_text()
    if tenant_id is not None and endpoint_id is not None:
        text = text.replace(captured["tenant_id"], tenant_id).replace(captured["endpoint_id"], endpoint_id)
    [item] = json.loads(text)["event_record_items"]
    item["bz"] = {"B": base64.b64decode(item["bz"]["B"])}
    return dict(item)


def _legacy(tenant_id: str, endpoint_id: str) -> dict[str, Any]:
    captured = json.loads(FIXTURE.read_text())
    text = FIXTURE.read_text()
    text = text.replace(captured["tenant_id"], tenant_id).replace(captured["endpoint_id"], endpoint_id)
    legacy: dict[str, Any] = json.loads(text)
    return legacy


def _setup(api: ApiClient, url: str) -> tuple[str, str]:
    tenant = "upgraded"
    assert api.call("PUT", f"/v1/tenants/{tenant}", {"name": tenant}).status in (200, 201)
    endpoint = api.call("POST", f"/v1/tenants/{tenant}/endpoints", {"url": url})
    assert endpoint.status == 201, endpoint
    return tenant, str(endpoint.body["id"])


def test_the_legacy_record_reads_back_with_its_text_body() -> None:
    legacy = json.loads(FIXTURE.read_text())
    [item] = legacy["event_record_items"]
    record = record_from_item(item)
    assert "b" in item and "bz" not in item
    assert json.loads(record.event.body)["data"] == legacy["request"]["data"]
    assert set(record.deliveries) == {legacy["endpoint_id"]}


def test_a_record_written_by_the_previous_main_reads_back_with_its_compressed_body() -> None:
    legacy = json.loads(FIXTURE.read_text())
    item = _compressed_item()
    assert "bz" in item and "eps" in item
    record = record_from_item(item)
    assert json.loads(record.event.body)["data"] == legacy["request"]["data"]
    assert record.endpoint_ids == (legacy["endpoint_id"],)
    assert set(record.deliveries) == {legacy["endpoint_id"]}


def test_compact_deliveries_read_back_as_the_deliveries_written_before() -> None:
    before = record_from_item(_compressed_item())
    compact_item = _compressed_item(fixture=COMPACT_FIXTURE)
    [delivery] = compact_item["d"]["M"].values()
    assert "N" in delivery["M"]["u"] and "rb" not in delivery["M"]
    compact = record_from_item(compact_item)
    assert compact.deliveries == before.deliveries
    assert compact.event == before.event and compact.endpoint_ids == before.endpoint_ids


@pytest.mark.parametrize("writer", ["before compression", "previous main", "compact deliveries"])
def test_a_stored_record_and_its_queued_deliver_job_are_delivered_and_shown(
    stack: Stack, api: ApiClient, writer: str
) -> None:
    with Receiver(reply(200)) as receiver:
        tenant, endpoint = _setup(api, f"{receiver.url}/hook")
        legacy = _legacy(tenant, endpoint)
        [item] = legacy["event_record_items"]
        if writer == "previous main":
            item = _compressed_item(tenant, endpoint)
        elif writer == "compact deliveries":
            item = _compressed_item(tenant, endpoint, COMPACT_FIXTURE)
        table = stack.env("DispatchFunction", "TABLE_NAME")
        stack.dynamodb.put_item(TableName=table, Item=item)
        [deliver] = [body for body in legacy["queue_messages"] if json.loads(body)["kind"] == "deliver"]
        stack.sqs.send_message(QueueUrl=stack.delivery_queue_url, MessageBody=deliver)
        stack.run_until(lambda: len(receiver.requests) >= 1)
        [request] = receiver.requests
        assert json.loads(request.body)["data"] == legacy["request"]["data"]
        shown = api.call("GET", f"/v1/tenants/{tenant}/events/{legacy['event_id']}")
        assert shown.status == 200, shown
        assert shown.body["data"] == legacy["request"]["data"]
        assert [d["status"] for d in shown.body["deliveries"]] == ["succeeded"]


def test_a_legacy_event_job_is_delivered_and_stored_compressed(stack: Stack, api: ApiClient) -> None:
    with Receiver(reply(200)) as receiver:
        tenant, endpoint = _setup(api, f"{receiver.url}/hook")
        legacy = _legacy(tenant, endpoint)
        [job] = [body for body in legacy["queue_messages"] if json.loads(body)["kind"] == "event"]
        stack.sqs.send_message(QueueUrl=stack.delivery_queue_url, MessageBody=job)
        stack.run_until(lambda: len(receiver.requests) >= 1)
        assert json.loads(receiver.requests[0].body)["data"] == legacy["request"]["data"]
        shown = api.call("GET", f"/v1/tenants/{tenant}/events/{legacy['event_id']}")
        assert shown.body["data"] == legacy["request"]["data"]
        table = stack.env("DispatchFunction", "TABLE_NAME")
        stored = stack.dynamodb.scan(TableName=table)["Items"]
        [record] = [i for i in stored if i.get("sk", {}).get("S") == legacy["event_id"]]
        assert "bz" in record and "b" not in record
        assert len(record["bz"]["B"]) < len(json.loads(job)["body"].encode()) * 0.7
