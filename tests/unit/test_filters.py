"""Endpoint content filters: a subset of EventBridge event patterns over the delivered webhook body."""

from __future__ import annotations

from typing import Any

import pytest

from hookline.core.errors import InvalidRequestError
from hookline.core.filters import MAX_DEPTH, MAX_VALUES, matches, validate_filter

BODY: dict[str, Any] = {
    "type": "order.shipped",
    "timestamp": "2025-01-02T03:04:05Z",
    "data": {
        "id": "ord_123_2b",
        "status": "shipped",
        "amount": 150,
        "ratio": 0.5,
        "code": "100",
        "paid": True,
        "refunded": False,
        "coupon": None,
        "email": "Ann@Example.COM",
        "tags": ["priority", "gift"],
        "scores": [3, 7],
        "customer": {
            "id": "cus_9",
            "address": {"country": "FR", "zip": "75001", "lines": ["1 rue", "Paris"]},
        },
        "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 0}],
        "meta": {},
        "empty": [],
    },
}


def data(**fields: Any) -> dict[str, Any]:
    """A pattern (or body) on ``data`` only."""
    return {"data": fields}


MATCH_CASES = [
    # exact values
    pytest.param({"type": ["order.shipped"]}, BODY, True, id="string-exact"),
    pytest.param({"type": ["order.created"]}, BODY, False, id="string-exact-miss"),
    pytest.param({"type": ["Order.Shipped"]}, BODY, False, id="string-exact-is-case-sensitive"),
    pytest.param(data(amount=[150]), BODY, True, id="number-exact"),
    pytest.param(data(amount=[150.0]), BODY, True, id="number-int-matches-float-literal"),
    pytest.param(data(amount=[100]), data(amount=100.0), True, id="number-float-event-matches-int-literal"),
    pytest.param(data(amount=[151]), BODY, False, id="number-exact-miss"),
    pytest.param(data(big=[10**400]), data(big=10**400), True, id="number-huge-int"),
    pytest.param(data(big=[{"numeric": [">", 1e300]}]), data(big=10**400), True, id="numeric-huge-int"),
    pytest.param(data(paid=[True]), BODY, True, id="bool-true"),
    pytest.param(data(refunded=[False]), BODY, True, id="bool-false"),
    pytest.param(data(paid=[False]), BODY, False, id="bool-miss"),
    pytest.param(data(flag=[True]), data(flag=1), False, id="bool-literal-never-equals-number"),
    pytest.param(data(flag=[1]), data(flag=True), False, id="number-literal-never-equals-bool"),
    pytest.param(data(coupon=[None]), BODY, True, id="null-exact"),
    pytest.param(data(nope=[None]), BODY, False, id="null-does-not-match-missing-key"),
    pytest.param(data(status=[None]), BODY, False, id="null-does-not-match-string"),
    # type mismatches
    pytest.param(data(code=[100]), BODY, False, id="type-number-literal-vs-string-value"),
    pytest.param(data(amount=["150"]), BODY, False, id="type-string-literal-vs-number-value"),
    pytest.param(data(code=["100"]), BODY, True, id="type-string-literal-vs-string-value"),
    # OR alternatives, AND keys
    pytest.param(data(status=["created", "shipped"]), BODY, True, id="or-second-alternative"),
    pytest.param(data(status=["created", "cancelled"]), BODY, False, id="or-no-alternative"),
    pytest.param(data(status=["pending", {"prefix": "ship"}]), BODY, True, id="or-literal-and-operator"),
    pytest.param(
        data(status=["shipped"], amount=[{"numeric": [">", 100]}]), BODY, True, id="and-issue-example"
    ),
    pytest.param(
        data(status=["shipped"], amount=[{"numeric": [">", 100]}]),
        data(status="shipped", amount=50),
        False,
        id="and-issue-example-one-key-fails",
    ),
    pytest.param(
        {"type": ["order.shipped"], "data": {"paid": [True]}}, BODY, True, id="and-top-level-and-data"
    ),
    # prefix / suffix / equals-ignore-case / wildcard
    pytest.param({"type": [{"prefix": "order."}]}, BODY, True, id="prefix"),
    pytest.param({"type": [{"prefix": "invoice."}]}, BODY, False, id="prefix-miss"),
    pytest.param(data(amount=[{"prefix": "15"}]), BODY, False, id="prefix-never-matches-number"),
    pytest.param(
        data(email=[{"prefix": {"equals-ignore-case": "ann@"}}]), BODY, True, id="prefix-ignore-case"
    ),
    pytest.param({"type": [{"suffix": ".shipped"}]}, BODY, True, id="suffix"),
    pytest.param({"type": [{"suffix": ".created"}]}, BODY, False, id="suffix-miss"),
    pytest.param(
        data(email=[{"suffix": {"equals-ignore-case": ".com"}}]), BODY, True, id="suffix-ignore-case"
    ),
    pytest.param(
        data(email=[{"equals-ignore-case": "ann@example.com"}]), BODY, True, id="equals-ignore-case"
    ),
    pytest.param(
        data(email=[{"equals-ignore-case": "bob@example.com"}]), BODY, False, id="equals-ignore-case-miss"
    ),
    pytest.param(data(id=[{"wildcard": "ord*_2*"}]), BODY, True, id="wildcard"),
    pytest.param(data(id=[{"wildcard": "ord*_3*"}]), BODY, False, id="wildcard-miss"),
    pytest.param(data(id=[{"wildcard": "ord_123_2b"}]), BODY, True, id="wildcard-without-star-is-exact"),
    pytest.param(
        data(id=[{"wildcard": "a*b*b"}]), data(id="abab"), True, id="wildcard-star-matches-empty-run"
    ),
    pytest.param(data(id=[{"wildcard": "ab*ba"}]), data(id="aba"), False, id="wildcard-head-tail-no-overlap"),
    pytest.param(data(id=[{"wildcard": "ord*"}]), data(id="xord_1"), False, id="wildcard-anchored-at-start"),
    pytest.param(
        data(id=[{"wildcard": r"a\*b"}]), data(id="a*b"), True, id="wildcard-escaped-star-is-literal"
    ),
    pytest.param(
        data(id=[{"wildcard": r"a\*b"}]), data(id="axxb"), False, id="wildcard-escaped-star-not-glob"
    ),
    # anything-but
    pytest.param(data(status=[{"anything-but": "cancelled"}]), BODY, True, id="anything-but-string"),
    pytest.param(data(status=[{"anything-but": "shipped"}]), BODY, False, id="anything-but-string-excluded"),
    pytest.param(
        data(status=[{"anything-but": ["shipped", "x"]}]), BODY, False, id="anything-but-list-excluded"
    ),
    pytest.param(
        data(status=[{"anything-but": ["created", "x"]}]), BODY, True, id="anything-but-list-allowed"
    ),
    pytest.param(data(amount=[{"anything-but": 150.0}]), BODY, False, id="anything-but-number-excluded"),
    pytest.param(
        data(amount=[{"anything-but": "150"}]), BODY, True, id="anything-but-string-vs-number-value"
    ),
    pytest.param(
        data(id=[{"anything-but": {"prefix": "ord_"}}]), BODY, False, id="anything-but-prefix-excluded"
    ),
    pytest.param(
        data(id=[{"anything-but": {"prefix": "inv_"}}]), BODY, True, id="anything-but-prefix-allowed"
    ),
    pytest.param(
        data(id=[{"anything-but": {"suffix": "_2b"}}]), BODY, False, id="anything-but-suffix-excluded"
    ),
    pytest.param(
        data(status=[{"anything-but": {"equals-ignore-case": "SHIPPED"}}]),
        BODY,
        False,
        id="anything-but-ignore-case-excluded",
    ),
    pytest.param(data(nope=[{"anything-but": "x"}]), BODY, False, id="anything-but-missing-key-fails"),
    pytest.param(data(coupon=[{"anything-but": "x"}]), BODY, True, id="anything-but-matches-null-value"),
    pytest.param(data(tags=[{"anything-but": "gift"}]), BODY, True, id="anything-but-any-array-element"),
    # numeric
    pytest.param(data(amount=[{"numeric": [">", 100]}]), BODY, True, id="numeric-open-greater"),
    pytest.param(data(amount=[{"numeric": ["<", 100]}]), BODY, False, id="numeric-open-less-miss"),
    pytest.param(data(amount=[{"numeric": [">", 150]}]), BODY, False, id="numeric-strict-bound-excludes"),
    pytest.param(data(amount=[{"numeric": [">=", 150]}]), BODY, True, id="numeric-inclusive-bound-includes"),
    pytest.param(data(amount=[{"numeric": [">", 100, "<=", 150]}]), BODY, True, id="numeric-closed-range"),
    pytest.param(
        data(amount=[{"numeric": ["<=", 200, ">", 150]}]), BODY, False, id="numeric-range-any-order"
    ),
    pytest.param(data(ratio=[{"numeric": [">", 0, "<", 1]}]), BODY, True, id="numeric-float-range"),
    pytest.param(data(amount=[{"numeric": ["=", 150.0]}]), BODY, True, id="numeric-equality"),
    pytest.param(data(amount=[{"numeric": ["=", 149.99]}]), BODY, False, id="numeric-equality-miss"),
    pytest.param(data(code=[{"numeric": [">", 0]}]), BODY, False, id="numeric-never-matches-numeric-string"),
    pytest.param(data(paid=[{"numeric": [">", 0]}]), BODY, False, id="numeric-never-matches-bool"),
    pytest.param(data(coupon=[{"numeric": [">", 0]}]), BODY, False, id="numeric-never-matches-null"),
    pytest.param(data(nope=[{"numeric": [">", 0]}]), BODY, False, id="numeric-missing-key-fails"),
    # exists
    pytest.param(data(status=[{"exists": True}]), BODY, True, id="exists-true-present"),
    pytest.param(data(nope=[{"exists": True}]), BODY, False, id="exists-true-missing"),
    pytest.param(data(nope=[{"exists": False}]), BODY, True, id="exists-false-missing"),
    pytest.param(data(status=[{"exists": False}]), BODY, False, id="exists-false-present"),
    pytest.param(data(coupon=[{"exists": True}]), BODY, True, id="exists-true-null-is-a-value"),
    pytest.param(data(refunded=[{"exists": True}]), BODY, True, id="exists-true-false-is-a-value"),
    pytest.param(data(customer=[{"exists": True}]), BODY, False, id="exists-true-object-is-not-a-leaf"),
    pytest.param(data(meta=[{"exists": False}]), BODY, True, id="exists-false-object-is-not-a-leaf"),
    pytest.param(data(empty=[{"exists": False}]), BODY, True, id="exists-false-empty-array-holds-no-value"),
    pytest.param({"data": {"x": {"y": [{"exists": False}]}}}, BODY, True, id="exists-false-missing-parent"),
    pytest.param(data(nope=[{"exists": False}, "x"]), BODY, True, id="exists-false-as-one-alternative"),
    # nested objects, three levels and more
    pytest.param(
        {"data": {"customer": {"address": {"country": ["FR"]}}}}, BODY, True, id="nested-3-levels-match"
    ),
    pytest.param(
        {"data": {"customer": {"address": {"country": ["DE"]}}}}, BODY, False, id="nested-3-levels-miss"
    ),
    pytest.param(
        {"data": {"customer": {"address": {"zip": [{"prefix": "75"}], "country": ["FR", "BE"]}}}},
        BODY,
        True,
        id="nested-3-levels-and-of-operators",
    ),
    pytest.param({"data": {"status": {"code": ["x"]}}}, BODY, False, id="nested-pattern-vs-scalar-value"),
    pytest.param({"data": {"customer": ["cus_9"]}}, BODY, False, id="leaf-pattern-vs-object-value"),
    pytest.param({"data": {"nope": {"deeper": ["x"]}}}, BODY, False, id="nested-missing-parent"),
    pytest.param({"data": {"customer": {"id": ["cus_9"]}}}, {"type": "x"}, False, id="missing-data-object"),
    # arrays in the event
    pytest.param(data(tags=["gift"]), BODY, True, id="array-any-element-equals"),
    pytest.param(data(tags=["sale"]), BODY, False, id="array-no-element-equals"),
    pytest.param(data(tags=["sale", "priority"]), BODY, True, id="array-intersects-alternatives"),
    pytest.param(data(scores=[{"numeric": [">", 5]}]), BODY, True, id="array-numeric-any-element"),
    pytest.param(data(scores=[{"numeric": [">", 10]}]), BODY, False, id="array-numeric-no-element"),
    pytest.param(data(tags=[{"prefix": "gi"}]), BODY, True, id="array-prefix-any-element"),
    pytest.param(data(empty=["x"]), BODY, False, id="array-empty-matches-nothing"),
    pytest.param(data(empty=[{"anything-but": "x"}]), BODY, False, id="array-empty-anything-but"),
    pytest.param(
        {"data": {"customer": {"address": {"lines": ["Paris"]}}}}, BODY, True, id="array-inside-nested-object"
    ),
    pytest.param(data(m=[2]), data(m=[[1, [2]]]), True, id="array-nested-flattened"),
    pytest.param({"data": {"items": {"sku": ["B2"]}}}, BODY, True, id="array-of-objects-any-object"),
    pytest.param(
        {"data": {"items": {"sku": ["B2"], "qty": [{"numeric": [">", 0]}]}}},
        BODY,
        False,
        id="array-of-objects-same-object-must-match-all",
    ),
    pytest.param(
        {"data": {"items": {"sku": ["A1"], "qty": [{"numeric": [">", 0]}]}}},
        BODY,
        True,
        id="array-of-objects-one-object-matches-all",
    ),
    # missing keys
    pytest.param(data(nope=["x"]), BODY, False, id="missing-key-fails-literal"),
    pytest.param(data(nope=[{"prefix": ""}]), BODY, False, id="missing-key-fails-empty-prefix"),
    pytest.param(data(nope=[{"wildcard": "*"}]), BODY, False, id="missing-key-fails-wildcard"),
    pytest.param({"data": {"status": ["shipped"]}}, {}, False, id="missing-everything"),
]


@pytest.mark.parametrize(("pattern", "body", "expected"), MATCH_CASES)
def test_matches(pattern: dict[str, Any], body: dict[str, Any], expected: bool) -> None:
    assert validate_filter(pattern) is pattern
    assert matches(pattern, body) is expected


def test_the_table_is_large_enough() -> None:
    assert len(MATCH_CASES) >= 40


def test_matches_never_raises_on_odd_bodies() -> None:
    pattern = validate_filter({"data": {"a": {"b": [{"numeric": [">", 0]}, {"exists": False}]}}})
    for odd in ({"data": None}, {"data": 5}, {"data": [1, None, {"a": None}]}, {"data": {"a": [[[]]]}}):
        assert isinstance(matches(pattern, odd), bool)


def test_deeply_nested_event_arrays_do_not_recurse() -> None:
    value: list[Any] = ["needle"]
    for _ in range(5000):
        value = [value]
    assert matches({"data": {"v": ["needle"]}}, {"data": {"v": value}})


def depth_pattern(levels: int) -> dict[str, Any]:
    pattern: dict[str, Any] = {"leaf": ["x"]}
    for _ in range(levels - 1):
        pattern = {"n": pattern}
    return pattern


def test_limits_accept_the_maximum() -> None:
    validate_filter(depth_pattern(MAX_DEPTH))
    validate_filter({"data": {"v": list(range(MAX_VALUES))}})


INVALID_CASES = [
    pytest.param(None, "filter: must be a non-empty JSON object", id="not-an-object"),
    pytest.param(["shipped"], "filter: must be a non-empty JSON object", id="array-at-top"),
    pytest.param({}, "filter: must be a non-empty JSON object", id="empty-object"),
    pytest.param({"data": {}}, "filter.data: a nested pattern must be a non-empty object", id="empty-nested"),
    pytest.param(
        data(status=[]), "filter.data.status: an array of alternatives must not be empty", id="empty-array"
    ),
    pytest.param(data(status="shipped"), "filter.data.status: must be an array", id="bare-scalar"),
    pytest.param(
        {"data": {"amount": {"numeric": ">"}}},
        'filter.data.amount.numeric: got ">"; a content filter goes inside an array',
        id="operator-outside-array",
    ),
    pytest.param(
        data(status=[["a"]]), "filter.data.status[0]: an alternative is a literal", id="nested-array"
    ),
    pytest.param(data(x=[float("inf")]), "filter.data.x[0]: Infinity is not a string", id="infinite-literal"),
    pytest.param(
        data(x=[float("nan")]), "filter.data.x[0]: NaN is not a string, finite number", id="nan-literal"
    ),
    pytest.param(
        data(x=["ok", {"prefix": "a", "suffix": "b"}]),
        "filter.data.x[1]: a content filter holds exactly one operator, got 'prefix', 'suffix'",
        id="two-operators",
    ),
    pytest.param(
        data(x=[{}]), "filter.data.x[0]: a content filter holds exactly one operator", id="no-operator"
    ),
    pytest.param(
        data(ip=[{"cidr": "10.0.0.0/8"}]), "filter.data.ip[0]: unknown operator 'cidr'", id="unknown-op"
    ),
    pytest.param(
        data(x=[{"prefix": 5}]), "filter.data.x[0]: prefix needs a string, got 5", id="prefix-number"
    ),
    pytest.param(
        data(x=[{"suffix": {"equals-ignore-case": 1}}]),
        'filter.data.x[0]: suffix needs a string or {"equals-ignore-case": "x"}',
        id="suffix-bad-ignore-case",
    ),
    pytest.param(
        data(x=[{"equals-ignore-case": None}]),
        "filter.data.x[0]: equals-ignore-case needs a string, got null",
        id="equals-ignore-case-null",
    ),
    pytest.param(
        data(x=[{"exists": "yes"}]), 'filter.data.x[0]: exists needs true or false, got "yes"', id="exists"
    ),
    pytest.param(
        data(amount=[{"numeric": ">"}]),
        "filter.data.amount[0]: numeric needs one or two comparisons",
        id="num-str",
    ),
    pytest.param(
        data(amount=[{"numeric": [">", 1, "<"]}]),
        "filter.data.amount[0]: numeric needs one or two comparisons",
        id="numeric-odd-length",
    ),
    pytest.param(
        data(amount=[{"numeric": ["!=", 1]}]),
        "filter.data.amount[0]: numeric needs",
        id="numeric-unknown-operator",
    ),
    pytest.param(
        data(amount=[{"numeric": [">", "100"]}]),
        "filter.data.amount[0]: numeric needs one or two comparisons, "
        'like ["=", 5], [">", 0] or [">", 0, "<=", 5]; "100" after ">" is not a number',
        id="numeric-string-operand",
    ),
    pytest.param(
        data(amount=[{"numeric": [">", True]}]),
        "filter.data.amount[0]: numeric needs",
        id="numeric-bool-operand",
    ),
    pytest.param(
        data(amount=[{"numeric": [">", 1, ">", 2]}]),
        "filter.data.amount[0]: numeric needs one or two comparisons, like",
        id="numeric-two-lower-bounds",
    ),
    pytest.param(
        data(amount=[{"numeric": ["=", 1, "<", 2]}]),
        "filter.data.amount[0]: numeric needs",
        id="numeric-eq-in-range",
    ),
    pytest.param(
        data(amount=[{"numeric": [">", 5, "<", 5]}]),
        'filter.data.amount[0]: numeric range [">", 5, "<", 5] matches no number',
        id="numeric-empty-range",
    ),
    pytest.param(
        data(x=[{"anything-but": []}]), "filter.data.x[0]: anything-but needs", id="anything-but-empty"
    ),
    pytest.param(
        data(x=[{"anything-but": [None]}]),
        "filter.data.x[0]: anything-but needs",
        id="anything-but-null-member",
    ),
    pytest.param(
        data(x=[{"anything-but": {"numeric": [">", 1]}}]),
        "filter.data.x[0]: anything-but supports prefix, suffix, equals-ignore-case, wildcard, not 'numeric'",
        id="anything-but-numeric",
    ),
    pytest.param(
        data(x=[{"wildcard": "a**b"}]),
        'filter.data.x[0]: wildcard "a**b": consecutive',
        id="wildcard-double-star",
    ),
    pytest.param(
        data(x=[{"wildcard": "a\\b"}]),
        'filter.data.x[0]: wildcard "a\\\\b": a backslash',
        id="wildcard-bad-escape",
    ),
    pytest.param({"$or": [{"a": ["x"]}]}, "filter[\"$or\"]: '$or' is not supported", id="dollar-or"),
    pytest.param(
        {"data": {"odd key": [{"exists": 1}]}},
        'filter.data["odd key"][0]: exists needs',
        id="path-quotes-odd-keys",
    ),
    pytest.param(
        depth_pattern(MAX_DEPTH + 1),
        "filter.n.n.n.n.n.n.n.n.n.n: a filter nests at most 10 objects deep",
        id="too-deep",
    ),
    pytest.param(
        {"data": {"a": list(range(150)), "b": list(range(51))}},
        "filter.data.b[50]: a filter holds at most 200 values in all",
        id="too-many-values",
    ),
    pytest.param(
        {"data": {"a": list(range(150)), "b": [{"anything-but": list(range(60))}]}},
        "filter.data.b[0]: a filter holds at most 200 values in all",
        id="too-many-anything-but-values",
    ),
]


@pytest.mark.parametrize(("pattern", "message"), INVALID_CASES)
def test_invalid_patterns(pattern: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        validate_filter(pattern)
    assert caught.value.status == 400
    assert caught.value.message.startswith(message), caught.value.message


def test_invalid_table_is_large_enough() -> None:
    assert len(INVALID_CASES) >= 12
