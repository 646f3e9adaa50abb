"""The fuzz run's oracles on hand-made answers: a batch refuses a known-bad item in its own result."""

from __future__ import annotations

import json

from tests.fuzz.bodies import item_refusals, refusal_reason
from tests.fuzz.oracles import check
from tests.fuzz.wire import FuzzRequest, FuzzResponse

BAD_ITEM = {"events": [{"type": "order.created", "data": {}}, {"type": "order\ncreated", "data": {}}]}


def _batch_answer(second_status: int) -> FuzzResponse:
    second: dict[str, object] = {"status": second_status}
    if second_status >= 400:
        second["error"] = {"code": "invalid_request", "message": "events[1].type: ..."}
    body = {"data": [{"status": 202, "id": "evt_x", "type": "order.created"}, second]}
    return FuzzResponse(207, {"content-type": "application/json"}, json.dumps(body).encode())


def _batch_request() -> FuzzRequest:
    return FuzzRequest(
        "POST",
        "/v1/tenants/t/events/batch",
        body=json.dumps(BAD_ITEM).encode(),
        route="/v1/tenants/{t}/events/batch",
        kind="structured",
        must_refuse=refusal_reason("batch", BAD_ITEM),
        refuse_items=item_refusals("batch", BAD_ITEM),
    )


def test_a_bad_batch_item_is_refused_in_its_own_result_not_by_the_whole_batch() -> None:
    request = _batch_request()
    assert request.must_refuse == ""
    assert request.refuse_items == ((1, "a control character in an event type"),)
    assert check(request, _batch_answer(400)) == []


def test_a_bad_batch_item_accepted_is_a_finding() -> None:
    violations = check(_batch_request(), _batch_answer(202))
    assert [v.oracle for v in violations] == ["known-bad input refused"]
    assert "got 202" in violations[0].detail


def test_a_single_event_with_a_control_character_must_be_refused_whole() -> None:
    assert refusal_reason("event", {"type": "order\ncreated", "data": {}}) != ""
