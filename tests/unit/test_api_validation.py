"""Bad input is a clear 400 naming the field, never a 5xx: bodies, models, query parameters and cursors.

Each case of issue 7's fuzz findings that the API owns is here, at the lowest tier that catches it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from hookline.api import binding, paging
from hookline.api.models import (
    ApiKeyIn,
    BatchEventIn,
    EndpointIn,
    EndpointPatch,
    EndpointTestIn,
    EventIn,
    RecoverIn,
    TenantIn,
)
from hookline.api.paging import Pager
from hookline.core.config import TargetPolicy
from hookline.core.crypto import Keyring
from hookline.core.errors import InvalidRequestError, PayloadTooLargeError
from hookline.core.models import DeliveryStatus, Scope

POLICY = {"target_policy": TargetPolicy(allow_http=False, allowed_private_networks=())}
SECRET_32 = "whsec_" + base64.b64encode(b"k" * 32).decode()
SECRET_65 = "whsec_" + base64.b64encode(b"k" * 65).decode()
NESTED_BAD_NUMERIC = {"data": {"n": [{"numeric": [{}, 1]}]}}


def refused(model: Any, data: Any) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        binding.validate(model, data, POLICY)
    message = caught.value.message
    for leak in (
        "pydantic",
        "errors.pydantic.dev",
        "Traceback",
        "ValidationError",
        "For further information",
    ):
        assert leak not in message
    return message


# --- bodies: strict JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"type": "a.b", "data": {"x": "\xff"}}', "not valid UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "nests deeper"),
        (b'{"data": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001, "nests deeper"),
        (b'{"type": "a.b", "data": {"x": NaN}}', "NaN"),
        (b'{"type": "a.b", "data": {"x": Infinity}}', "Infinity"),
        (b'{"type": "a.b", "data": {"x": -Infinity}}', "Infinity"),
        (b'{"name": "\\ud800"}', "surrogate"),
        (b'{"type": "a.b", "data": {"\\udfff": 1}}', "surrogate"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"", "must be a JSON object"),
    ],
)
def test_bodies_that_are_not_strict_json_objects_are_a_400(raw: bytes, says: str) -> None:
    with pytest.raises(InvalidRequestError, match=says):
        binding.json_object(raw)


def test_an_optional_body_may_be_empty() -> None:
    assert binding.json_object(b"  ", optional=True) == {}


def test_size_is_checked_before_decoding_and_base64_must_be_valid() -> None:
    with pytest.raises(PayloadTooLargeError):
        binding.raw_body("x" * 1025, False, 1024)
    with pytest.raises(PayloadTooLargeError):
        binding.raw_body(base64.b64encode(b"x" * 1025).decode(), True, 1024)
    assert binding.raw_body(base64.b64encode(b'{"a":1}').decode(), True, 1024) == b'{"a":1}'
    with pytest.raises(InvalidRequestError, match="base64"):
        binding.raw_body("not base64!", True, 1024)
    assert binding.raw_body("\udcff", False, 1024) == b"\xed\xb3\xbf"  # a lone surrogate never raises here


# --- models ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "order.created\n", "data": {}}, "type"),
        ({"type": "order created", "data": {}}, "type"),
        ({"type": "", "data": {}}, "type"),
        ({"type": "a.b", "data": [1]}, "data"),
        ({"type": "a.b"}, "data"),
        ({"type": 5, "data": {}}, "type"),
        ({"type": "a.b", "data": {}, "extra": 1}, "extra"),
    ],
)
def test_bad_events_name_the_field(data: dict[str, Any], field: str) -> None:
    assert refused(EventIn, data).startswith(f"{field}: ")


def test_batch_items_are_named_by_their_index() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        binding.validate(BatchEventIn, {"type": "a b", "data": {}}, path="events[3]")
    assert caught.value.message.startswith("events[3].type: ")
    key = "k" * 256
    assert "idempotency_key" in refused(BatchEventIn, {"type": "a.b", "data": {}, "idempotency_key": key})


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"url": "ftp://example.com"}, "url: scheme"),
        ({"url": "https://user:pw@example.com/"}, "url: must not contain user-info"),
        ({"url": "https://169.254.169.254/latest"}, "url: host"),
        ({"url": "https://example.com", "event_types": "order.*"}, "event_types: must be an array"),
        ({"url": "https://example.com", "event_types": []}, "event_types:"),
        ({"url": "https://example.com", "event_types": ["order.created\n"]}, "event_types[0]:"),
        ({"url": "https://example.com", "headers": {"webhook-id": "x"}}, "set by Hookline"),
        ({"url": "https://example.com", "headers": {"Authorization": "x"}}, "set by Hookline"),
        ({"url": "https://example.com", "headers": {"X-A\n": "x"}}, "not a header name"),
        ({"url": "https://example.com", "headers": {"X-A": "a\r\nInjected: 1"}}, "headers.x-a:"),
        ({"url": "https://example.com", "headers": {"X-A": "a\nb"}}, "headers.x-a:"),
        ({"url": "https://example.com", "headers": {"X-Note": "日本"}}, "headers.x-note:"),
        ({"url": "https://example.com", "headers": {"X-A": "\x00"}}, "headers.x-a:"),
        ({"url": "https://example.com", "headers": {"X-A": " padded"}}, "headers.x-a:"),
        ({"url": "https://example.com", "headers": {"X-A": "1", "x-a": "2"}}, "given twice"),
        ({"url": "https://example.com", "headers": {f"x-{i}": "v" for i in range(21)}}, "headers:"),
        ({"url": "https://example.com", "rate_limit": 0}, "rate_limit: must be greater"),
        ({"url": "https://example.com", "rate_limit": True}, "rate_limit: must be an integer"),
        ({"url": "https://example.com", "rate_limit": "5"}, "rate_limit: must be an integer"),
        ({"url": "https://example.com", "rate_limit": 10_001}, "rate_limit:"),
        ({"url": "https://example.com", "secret": "whsec_short"}, "secret: must be"),
        (
            {"url": "https://example.com", "secret": SECRET_65},
            "secret:",
        ),
        ({"url": "https://example.com", "filter": {"numeric": [{}, 1]}}, "filter"),
        (
            {"url": "https://example.com", "filter": NESTED_BAD_NUMERIC},
            "filter.data.n[0]",
        ),
        ({"url": "https://example.com", "filter": []}, "filter: must be a JSON object"),
        ({"url": "https://example.com", "description": "x" * 1025}, "description:"),
        ({"url": "https://example.com", "evnt_types": ["a"]}, "evnt_types: is not a field"),
        ({}, "url: is required"),
    ],
)
def test_bad_endpoints_name_the_field(data: dict[str, Any], says: str) -> None:
    assert says in refused(EndpointIn, data)


def test_a_valid_endpoint_keeps_its_values_and_lowercases_header_names() -> None:
    endpoint = binding.validate(
        EndpointIn,
        {
            "url": "https://example.com/hooks",
            "event_types": ["order.*", "order.*", "invoice.paid"],
            "headers": {"X-Team": "orders\tteam b"},
            "rate_limit": 5,
            "secret": SECRET_32,
            "filter": {"data": {"status": ["shipped"]}},
        },
        POLICY,
    )
    assert endpoint.event_types == ["order.*", "invoice.paid"]
    assert endpoint.headers == {"x-team": "orders\tteam b"}
    assert endpoint.secret == SECRET_32


def test_a_patch_knows_which_fields_were_given() -> None:
    patch = binding.validate(EndpointPatch, {"event_types": None, "enabled": False}, POLICY)
    assert patch.model_fields_set == {"event_types", "enabled"}
    assert "secret: is not a field" in refused(EndpointPatch, {"secret": SECRET_32})


@pytest.mark.parametrize(
    ("model", "data", "says"),
    [
        (TenantIn, {"name": "   "}, "name: must not be blank"),
        (TenantIn, {"name": "x" * 257}, "name:"),
        (TenantIn, {"title": "x"}, "title: is not a field"),
        (ApiKeyIn, {"name": "ci", "scopes": ["events:delete"]}, "scopes: unknown scope 'events:delete'"),
        (ApiKeyIn, {"name": "ci", "scopes": []}, "scopes:"),
        (ApiKeyIn, {"name": "ci", "scopes": ["events:read"], "expires_in": 0}, "expires_in:"),
        (RecoverIn, {"since": "yesterday"}, "since: must be an ISO-8601 time"),
        (EndpointTestIn, {"type": "x\n"}, "type:"),
    ],
)
def test_other_models_name_the_field(model: Any, data: dict[str, Any], says: str) -> None:
    assert says in refused(model, data)


def test_key_scopes_are_deduplicated_enums() -> None:
    request = binding.validate(ApiKeyIn, {"name": "ci", "scopes": ["events:read", "events:read"]})
    assert request.scopes == [Scope.EVENTS_READ]


def test_a_test_event_has_a_documented_default() -> None:
    request = binding.validate(EndpointTestIn, {})
    assert request.type == "webhook.test"
    assert request.data["example"]["order_id"] == "ord_1001"


# --- query parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "251", "-1", "x", "1.5", "٣", "1" * 4300, "9" * 5000, "1" * 19])
def test_limit_must_be_1_to_250(limit: str) -> None:
    with pytest.raises(InvalidRequestError, match="limit"):
        binding.page_size({"limit": limit})


def test_query_values() -> None:
    assert binding.page_size({}) == 50
    assert binding.csv_values({"type": "a.b, c.*,,"}, "type") == ["a.b", "c.*"]
    assert binding.iso_param({"since": "1970-01-01T00:01:00Z"}, "since") == 60.0
    with pytest.raises(InvalidRequestError, match="since"):
        binding.iso_param({"since": "soon"}, "since")
    assert binding.delivery_status({"status": "failed"}, tuple(DeliveryStatus)) is DeliveryStatus.FAILED
    with pytest.raises(InvalidRequestError, match="status"):
        binding.delivery_status({"status": "retrying"}, (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED))


# --- cursors --------------------------------------------------------------------------------------------


class FixedKeys:
    def __init__(self, *keys: str) -> None:
        self._keyring = Keyring(list(keys))

    def keyring(self) -> Keyring:
        return self._keyring


def pager(*keys: str) -> Pager:
    return Pager(FixedKeys(*keys))  # type: ignore[arg-type]


KEY_A, KEY_B = "a" * 40, "b" * 40


def test_a_cursor_round_trips_within_its_list() -> None:
    scope = paging.scope("events", "acme", status="failed")
    cursor = pager(KEY_A).cursor(scope, {"before": "evt_x"})
    assert cursor is not None
    assert pager(KEY_A).position(scope, cursor) == {"before": "evt_x"}
    assert pager(KEY_B, KEY_A).position(scope, cursor) == {"before": "evt_x"}  # survives a key rotation


def test_a_cursor_from_another_list_tenant_or_filter_is_refused() -> None:
    cursor = pager(KEY_A).cursor(paging.scope("events", "acme", status="failed"), {"before": "evt_x"})
    assert cursor is not None
    for other in (
        paging.scope("events", "globex", status="failed"),
        paging.scope("events", "acme", status="succeeded"),
        paging.scope("endpoints", "acme"),
    ):
        with pytest.raises(InvalidRequestError, match="cursor"):
            pager(KEY_A).position(other, cursor)


def forged(position: Any) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")
    return payload + ".AAAAAAAAAAAAAAAAAAAAAA"


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "a.b.c",
        "",
        "%%%.%%%",
        "x" * 5000,
        forged({"pk": {"S": "T#globex"}, "sk": {"S": "EP#x"}}),
        forged({"pk": 5}),
        forged([1, 2]),
        forged({"before": "evt_x"}),
    ],
)
def test_forged_and_malformed_cursors_are_a_400(cursor: str) -> None:
    with pytest.raises(InvalidRequestError, match="cursor"):
        pager(KEY_A).position(paging.scope("events", "acme"), cursor)


def test_an_edited_cursor_is_refused() -> None:
    scope = paging.scope("endpoints", "acme")
    cursor = pager(KEY_A).cursor(scope, {"after": "ep_1"})
    assert cursor is not None
    payload, signature = cursor.split(".")
    edited = base64.urlsafe_b64encode(b'{"after":"ep_2"}').decode().rstrip("=") + "." + signature
    with pytest.raises(InvalidRequestError):
        pager(KEY_A).position(scope, edited)
    assert payload


def test_positions_stay_defensive_about_their_shape() -> None:
    assert paging.text_field({"after": 5}, "after") is None
    assert paging.int_field({"skip": True}, "skip") == 0
    assert paging.int_field({"skip": -3}, "skip") == 0
    assert paging.int_field({"skip": 4}, "skip") == 4
