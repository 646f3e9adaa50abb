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


def _record(endpoint_ids: tuple[str, ...] | None, inline: tuple[str, ...], **extra: object) -> EventRecord:
    from hookline.core.models import Delivery, DeliveryStatus

    event = Event(tenant_id="t", event_id="evt_1", event_type="order.created", timestamp="ts", body="{}")
    deliveries = {ep: Delivery(ep, DeliveryStatus.PENDING) for ep in inline}
    fanout = extra.pop("fanout", FanoutState.DONE)
    assert isinstance(fanout, FanoutState)
    return EventRecord(event, fanout, endpoint_ids, deliveries, overflow=bool(extra.get("overflow")))


def test_the_matched_endpoints_are_left_out_when_they_are_the_inline_deliveries() -> None:
    record = _record(("ep_a", "ep_b"), ("ep_b", "ep_a"))
    item = record_item(record, expires_at=1)
    assert "eps" not in item
    assert record_from_item(item).endpoint_ids == ("ep_a", "ep_b")


def test_the_matched_endpoints_are_kept_whenever_the_deliveries_do_not_say_them() -> None:
    kept = [
        _record(("ep_a", "ep_b"), ("ep_a",)),  # a delivery not written yet
        _record((), (), fanout=FanoutState.PENDING),  # a fan-out not done
        _record(("ep_a",), (), overflow=True),  # deliveries in items of their own
    ]
    for record in kept:
        item = record_item(record, expires_at=1)
        assert "eps" in item
        assert record_from_item(item).endpoint_ids == record.endpoint_ids
    pending = record_item(_record(None, (), fanout=FanoutState.PENDING), expires_at=1)
    assert "eps" not in pending and record_from_item(pending).endpoint_ids is None
