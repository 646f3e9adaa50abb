"""Deliveries as stored: compact (Unix-millisecond times, outcome codes, empty fields left out), and the
layout written before (ISO text, outcome names, all eight attempt fields) read back the same."""

from __future__ import annotations

import json

from hookline.core import clock
from hookline.core.models import (
    Attempt,
    AttemptOutcome,
    Claim,
    Delivery,
    DeliveryStatus,
    Event,
    EventRecord,
    FailureKind,
    FanoutState,
    ResendClaim,
)
from hookline.storage.records import (
    delivery_attributes,
    delivery_from_attributes,
    history_from_text,
    history_text,
)

NOW = 1_796_601_548.327


def _success(number: int = 1, at: float = NOW) -> Attempt:
    return Attempt(number, clock.iso_from_unix(at), AttemptOutcome.SUCCEEDED, 208, 200)


def test_a_successful_attempt_is_stored_in_a_few_bytes_and_reads_back() -> None:
    attempt = _success()
    text = history_text((attempt,))
    assert text == "[[1,1796601548327,0,208,200]]"
    assert history_from_text(text) == (attempt,)


def test_failed_attempts_keep_every_field_that_says_something() -> None:
    attempts = (
        Attempt(
            1, clock.iso_from_unix(NOW), AttemptOutcome.RETRY, 5000, None, FailureKind.TIMEOUT, "timed out"
        ),
        Attempt(
            2,
            clock.iso_from_unix(NOW + 5),
            AttemptOutcome.RETRY,
            38,
            500,
            FailureKind.HTTP_STATUS,
            "HTTP 500",
            "oops é",
        ),
        Attempt(
            3, clock.iso_from_unix(NOW + 9), AttemptOutcome.GONE, 12, 410, FailureKind.HTTP_STATUS, "HTTP 410"
        ),
    )
    text = history_text(attempts)
    assert "é" in text  # UTF-8 as it is, not a six-byte escape
    assert history_from_text(text) == attempts


def test_a_time_that_milliseconds_would_not_give_back_is_kept_as_text() -> None:
    for at in ("2026-12-06T23:52:05.386+02:00", "2026-12-06T23:52:05Z", "not a time"):
        attempt = Attempt(1, at, AttemptOutcome.SUCCEEDED, 1, 200)
        text = history_text((attempt,))
        assert json.loads(text)[0][1] == at
        assert history_from_text(text) == (attempt,)


def test_the_layout_written_before_reads_back() -> None:
    before = '[[1, "2026-12-06T20:56:26.992Z", "retry", 38, 500, "http_status", "HTTP 500", ""]]'
    [attempt] = history_from_text(before)
    assert attempt == Attempt(
        1, "2026-12-06T20:56:26.992Z", AttemptOutcome.RETRY, 38, 500, FailureKind.HTTP_STATUS, "HTTP 500", ""
    )
    fields = {
        "s": {"S": "retrying"},
        "n": {"N": "1"},
        "rb": {"N": "0"},
        "h": {"S": before},
        "u": {"S": "2026-12-06T20:56:27.030Z"},
    }
    delivery = delivery_from_attributes("ep_1", fields)
    assert delivery.updated_at == "2026-12-06T20:56:27.030Z" and delivery.round_base == 0
    assert delivery_from_attributes("ep_1", delivery_attributes(delivery)) == delivery


def test_a_delivery_round_trips_with_claims_and_a_resend_round() -> None:
    delivery = Delivery(
        "ep_1",
        DeliveryStatus.RETRYING,
        attempts=3,
        round_base=2,
        next_attempt_at=NOW + 30.5,
        last_error_kind=FailureKind.CONNECTION,
        last_error="refused",
        history=(_success(1), _success(2, NOW + 1)),
        claim=Claim(4, NOW + 25.0, "owner"),
        resend=ResendClaim("tok", NOW + 90.0),
        updated_at=clock.iso_from_unix(NOW + 2),
    )
    stored = delivery_attributes(delivery)
    assert stored["u"] == {"N": "1796601550327"} and stored["rb"] == {"N": "2"}
    assert delivery_from_attributes("ep_1", stored) == delivery


def test_a_first_round_delivery_leaves_out_its_zero_round_base() -> None:
    delivery = Delivery(
        "ep_1", DeliveryStatus.SUCCEEDED, 1, history=(_success(),), updated_at=clock.iso_from_unix(NOW)
    )
    stored = delivery_attributes(delivery)
    assert "rb" not in stored
    assert delivery_from_attributes("ep_1", stored) == delivery


def _record(body: str, endpoints: int, overflow: bool = False) -> EventRecord:
    event = Event("t", "evt_1", "order.created", "ts", body)
    endpoint_ids = tuple(f"ep_{n:026d}" for n in range(endpoints))
    deliveries = {} if overflow else {ep: Delivery(ep, DeliveryStatus.PENDING) for ep in endpoint_ids}
    return EventRecord(event, FanoutState.DONE, endpoint_ids, deliveries, overflow=overflow)


def _order(lines: int) -> str:
    items = [
        {"sku": f"SKU-{n}", "name": f"Item {n}", "quantity": n % 5, "price": n * 379 % 10_000}
        for n in range(lines)
    ]
    return json.dumps({"type": "order.created", "data": {"order_id": "ord_1", "line_items": items}})


def test_only_a_record_above_one_write_unit_keeps_its_later_changes_apart() -> None:
    assert not _record(_order(12), 1).changes_kept_apart  # an order of 863 B (240 B stored) to one endpoint
    assert _record(_order(12), 10).changes_kept_apart  # the same to ten endpoints
    assert _record(_order(150), 1).changes_kept_apart  # an order of 10 KB (1.4 KB stored) to one endpoint
    assert not _record(_order(12), 10, overflow=True).changes_kept_apart  # items from the start anyway
    noise = "".join(f"{n * 7919 % 65521:05x}" for n in range(400))
    assert _record(noise, 1).changes_kept_apart  # 2 KB that compress poorly
