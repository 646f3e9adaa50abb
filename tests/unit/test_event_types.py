"""The event-type catalog's rules at unit tier: which schemas and examples are accepted, how a mismatch
names its path, that a schema compiles once per container, and how long ingest trusts a cached type."""

from __future__ import annotations

from typing import Any

import pytest

from hookline.api.event_types import EventTypeGate
from hookline.core.errors import InvalidRequestError, SchemaMismatchError, UnknownEventTypeError
from hookline.core.event_types import EventType, SchemaCache, check_examples, check_schema
from hookline.storage.event_types import EventTypeCatalog
from tests.unit.fakes import FakeClock

ORDER: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["order_id", "amount"],
    "properties": {
        "order_id": {"type": "string"},
        "amount": {"type": "integer"},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
        "customer": {"type": "object", "properties": {"email": {"type": "string", "minLength": 3}}},
    },
    "$defs": {"line": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}}}},
}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"order_id": "o", "amount": "12"}, "data.amount: '12' is not of type 'integer'"),
        ({"amount": 1}, "data.order_id: is required"),
        ({"order_id": "o", "amount": 1, "lines": [{"sku": "a"}, {}]}, "data.lines[1].sku: is required"),
        ({"order_id": "o", "amount": 1, "customer": {"email": "x"}}, "data.customer.email: 'x' is too short"),
        ([], "data: [] is not of type 'object'"),
    ],
)
def test_a_mismatch_names_the_failing_path(data: Any, message: str) -> None:
    assert SchemaCache().mismatch(ORDER, data) == message


def test_matching_data_has_no_mismatch() -> None:
    data = {"order_id": "o", "amount": 1, "lines": [{"sku": "a"}], "extra": True}
    assert SchemaCache().mismatch(ORDER, data) is None


@pytest.mark.parametrize(
    ("schema", "named"),
    [
        ({"type": "nope"}, "schema.type"),
        ({"minimum": "zero"}, "schema.minimum"),
        ({"pattern": "("}, "schema.pattern"),
        ({"properties": {"a": {"$ref": "#/$defs/missing"}}}, "$ref '#/$defs/missing'"),
        ({"$ref": "https://example.com/schema.json"}, "$ref 'https://example.com/schema.json'"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "$schema"),
    ],
)
def test_an_invalid_schema_is_refused_naming_where(schema: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidRequestError, match=None) as caught:
        check_schema(schema)
    assert named in caught.value.message


def test_a_valid_schema_with_internal_references_is_accepted() -> None:
    check_schema(ORDER)
    check_schema({})


def test_examples_must_be_objects_that_match_the_schema() -> None:
    cache = SchemaCache()
    check_examples(ORDER, [{"order_id": "o", "amount": 1}], cache)
    check_examples(None, [{"anything": 1}], cache)
    with pytest.raises(InvalidRequestError) as caught:
        check_examples(ORDER, [{"order_id": "o", "amount": 1}, {"order_id": "o"}], cache)
    assert caught.value.message.startswith("examples[1].amount: is required")
    with pytest.raises(InvalidRequestError) as caught:
        check_examples(None, ["text"], cache)
    assert caught.value.message.startswith("examples[0]: must be a JSON object")


def test_each_schema_compiles_once_per_container() -> None:
    cache = SchemaCache()
    first = cache.validator(ORDER)
    same_schema_rebuilt = {key: ORDER[key] for key in reversed(list(ORDER))}
    assert cache.validator(same_schema_rebuilt) is first
    assert cache.validator({"type": "object"}) is not first


class CountingStore:
    def __init__(self, types: dict[str, EventType]) -> None:
        self.types = types
        self.reads = 0

    def get(self, name: str, consistent: bool = True) -> EventType | None:
        self.reads += 1
        return self.types.get(name)


def _catalog(store: CountingStore, ttl: float, clock: FakeClock) -> EventTypeCatalog:
    return EventTypeCatalog(store, ttl, clock)  # type: ignore[arg-type]


def test_ingest_reads_a_type_at_most_once_per_ttl_absent_types_included() -> None:
    clock = FakeClock()
    store = CountingStore({"order.created": EventType("order.created", schema=ORDER)})
    catalog = _catalog(store, 10, clock)
    for _ in range(3):
        catalog.get("order.created")
        catalog.get("not.registered")
    assert store.reads == 2
    store.types["not.registered"] = EventType("not.registered")
    clock.advance(10)
    assert catalog.get("not.registered") is not None
    assert store.reads == 3


def test_a_zero_ttl_reads_every_time_and_forget_drops_one_answer() -> None:
    clock = FakeClock()
    store = CountingStore({})
    uncached = _catalog(store, 0, clock)
    uncached.get("a.b")
    uncached.get("a.b")
    assert store.reads == 2
    cached = _catalog(store, 60, clock)
    cached.get("a.b")
    cached.forget("a.b")
    cached.get("a.b")
    assert store.reads == 4


def test_the_gate_checks_schemas_and_optionally_requires_registration() -> None:
    store = CountingStore({"order.created": EventType("order.created", schema=ORDER)})
    clock = FakeClock()
    lenient = EventTypeGate(_catalog(store, 10, clock), SchemaCache(), require_registered=False)
    strict = EventTypeGate(_catalog(store, 10, clock), SchemaCache(), require_registered=True)
    lenient.check("order.created", {"order_id": "o", "amount": 1})
    lenient.check("unknown.type", {})
    with pytest.raises(SchemaMismatchError) as caught:
        lenient.check("order.created", {"order_id": "o"})
    assert (caught.value.status, caught.value.code) == (422, "schema_mismatch")
    with pytest.raises(UnknownEventTypeError):
        strict.check("unknown.type", {})
    strict.check("unknown.type", {}, registered_only=False)  # test sends
