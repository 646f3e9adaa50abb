"""Pure building blocks: strict JSON, sealing, signed cursors, ids, and the queue's job format."""

from __future__ import annotations

import json

import pytest

from hookline.core import cursor, ids, jsonsafe
from hookline.core.crypto import Keyring
from hookline.core.errors import ConfigurationError, InvalidRequestError, SealBrokenError, UnknownKeyError
from hookline.core.jobs import DeliverJob, EventJob, RecoverJob, RedriveJob, decode_job, encode_job
from hookline.core.models import (
    Attempt,
    AttemptOutcome,
    Claim,
    Delivery,
    DeliveryStatus,
    FailureKind,
    ResendClaim,
)

KEY_A = "a" * 40
KEY_B = "b" * 40


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "nests deeper"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": 1e999}', "too large"),
        (b'{"a": -1.5e400}', "too large"),
        (b'{"name": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'{"\\udfff": 1}', "lone UTF-16 surrogate"),
        (b'{"a": ', "not valid JSON"),
    ],
    ids=[
        "utf8",
        "deep",
        "nan",
        "infinity",
        "overflow",
        "negative-overflow",
        "surrogate-value",
        "surrogate-key",
        "truncated",
    ],
)
def test_strict_json_refuses_what_cannot_be_stored_or_delivered(raw: bytes, problem: str) -> None:
    with pytest.raises(InvalidRequestError, match=problem):
        jsonsafe.parse(raw)


def test_strict_json_accepts_ordinary_json_and_keeps_unicode() -> None:
    value = jsonsafe.parse('{"name": "日本 \\ud83d\\ude00", "n": [1, 2.5, true, null]}'.encode())
    assert value == {"name": "日本 😀", "n": [1, 2.5, True, None]}
    assert jsonsafe.dumps(value) == '{"name":"日本 😀","n":[1,2.5,true,null]}'
    jsonsafe.parse(b"[" * 32 + b"]" * 32)


def test_sealed_secrets_open_only_with_their_context_and_survive_a_key_rotation() -> None:
    old = Keyring([KEY_A])
    sealed = old.seal("whsec_abc", "acme/ep_1/secrets")
    assert old.open(sealed, "acme/ep_1/secrets") == "whsec_abc"
    with pytest.raises(SealBrokenError):
        old.open(sealed, "acme/ep_2/secrets")
    rotated = Keyring([KEY_B, KEY_A])
    assert rotated.open(sealed, "acme/ep_1/secrets") == "whsec_abc"
    assert not rotated.sealed_with_current(sealed)
    assert rotated.sealed_with_current(rotated.seal("x", "c"))
    with pytest.raises(UnknownKeyError):
        Keyring([KEY_B]).open(sealed, "acme/ep_1/secrets")
    with pytest.raises(ConfigurationError):
        Keyring(["short"])


def test_cursors_belong_to_one_list_and_cannot_be_forged() -> None:
    keyring = Keyring([KEY_A])
    token = cursor.encode(keyring, "events:acme", {"before": "evt_1"})
    assert cursor.decode(keyring, "events:acme", token) == {"before": "evt_1"}
    assert cursor.decode(Keyring([KEY_B, KEY_A]), "events:acme", token) == {"before": "evt_1"}
    for forged in (
        token[:-2] + "xx",
        "eyJwayI6IDF9.abc",
        "not a cursor",
        "",
        ".",
        "a" * 5000,
        token.replace(".", ".."),
    ):
        with pytest.raises(InvalidRequestError, match="cursor"):
            cursor.decode(keyring, "events:acme", forged)
    with pytest.raises(InvalidRequestError):
        cursor.decode(keyring, "events:other-tenant", token)


def test_event_ids_sort_by_time_and_map_to_ranges_and_shards() -> None:
    first, second = ids.new_event_id(), ids.new_event_id()
    assert ids.is_event_id(first) and first[:14] <= second[:14]
    minted = ids.event_id_unix_seconds(first)
    assert minted is not None
    assert ids.event_id_floor(minted - 1) < first < ids.event_id_ceiling(minted + 1)
    assert 0 <= ids.event_shard(first) < ids.EVENT_SHARDS
    assert ids.event_id_unix_seconds("evt_not-a-ulid") is None
    assert not ids.is_valid_tenant_id("acme\n")
    assert ids.new_api_key().startswith("hk_") and len(ids.new_api_key()) == 43


def test_every_job_survives_the_wire() -> None:
    delivery = Delivery(
        "ep_1",
        DeliveryStatus.RETRYING,
        attempts=2,
        round_base=1,
        next_attempt_at=12.5,
        last_error_kind=FailureKind.TIMEOUT,
        last_error="read timeout",
        history=(
            Attempt(2, "2027-01-01T00:00:00.000Z", AttemptOutcome.RETRY, 15000, None, FailureKind.TIMEOUT),
        ),
        claim=Claim(3, 99.0, "owner"),
        resend=ResendClaim("tok", 100.0),
    )
    jobs = [
        EventJob("acme", "evt_1", "order.created", "2027-01-01T00:00:00.000Z", '{"a":1}'),
        EventJob(
            "acme",
            "evt_1",
            "t",
            "ts",
            None,
            only_endpoint="ep_1",
            read_first=True,
            known=(delivery,),
            after="ep_0",
            traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        DeliverJob("acme", "evt_1", "ep_1"),
        DeliverJob("acme", "evt_1", "ep_1", "tok", delivery),
        DeliverJob("acme", "evt_1", "ep_1", waits=3),
        RecoverJob("acme", "ep_1", "2027-01-01T00:00:00.000Z", "cursor"),
        RedriveJob(),
    ]
    for job in jobs:
        assert decode_job(encode_job(job)) == job


@pytest.mark.parametrize(
    "body",
    [
        "",
        "[]",
        "{}",
        '{"kind": "fanout"}',
        '{"kind": "event", "tenant_id": 1}',
        '{"kind": "deliver"}',
        '{"kind": "deliver", "tenant_id": "a", "event_id": "e", "endpoint_id": "p", "waits": -1}',
        '{"kind": "deliver", "tenant_id": "a", "event_id": "e", "endpoint_id": "p", "waits": true}',
        '{"kind": "deliver", "tenant_id": "a", "event_id": "e", "endpoint_id": "p", "waits": 1e9}',
        "[" * 5000,
    ],
)
def test_anything_else_on_the_queue_is_refused_as_unreadable(body: str) -> None:
    with pytest.raises(ValueError):
        decode_job(body)


def test_a_job_body_is_compact_json() -> None:
    body = encode_job(DeliverJob("acme", "evt_1", "ep_1"))
    assert json.loads(body) == {
        "kind": "deliver",
        "tenant_id": "acme",
        "event_id": "evt_1",
        "endpoint_id": "ep_1",
    }
    assert " " not in body
