"""The event record's body codec: compressed when that is smaller, and records of either kind read back."""

from __future__ import annotations

import json

from hookline.core.models import Event, EventRecord, FanoutState
from hookline.storage.records import body_attributes, body_from_item, record_from_item, record_item


def _order(lines: int) -> str:
    data = {
        "order_id": "ord_1",
        "line_items": [{"sku": f"SKU-{n}", "name": f"Item {n}"} for n in range(lines)],
    }
    return json.dumps({"type": "order.created", "timestamp": "2026-12-06T00:00:00Z", "data": data})


def test_a_body_that_shrinks_is_stored_compressed_and_reads_back_the_same() -> None:
    body = _order(40)
    stored = body_attributes(body)
    assert set(stored) == {"bz"}
    assert len(stored["bz"]["B"]) < len(body.encode()) / 2
    assert body_from_item(stored) == body


def test_a_body_that_does_not_shrink_is_stored_as_text() -> None:
    assert body_attributes('{"a":1}') == {"b": {"S": '{"a":1}'}}
    assert body_from_item({"b": {"S": '{"a":1}'}}) == '{"a":1}'


def test_a_record_round_trips_with_a_compressed_body_and_keeps_unicode() -> None:
    body = _order(10).replace("Item", "Artikel für €")
    event = Event(tenant_id="t", event_id="evt_1", event_type="order.created", timestamp="ts", body=body)
    record = EventRecord(event=event, fanout=FanoutState.DONE, endpoint_ids=(), deliveries={})
    item = record_item(record, expires_at=1)
    assert "bz" in item and "b" not in item
    assert record_from_item(item).event.body == body
