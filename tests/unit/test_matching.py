import pytest

from hookline.core.matching import event_type_matches, is_valid_event_type, is_valid_event_type_pattern


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (None, "order.created", True),
        (["order.created"], "order.created", True),
        (["order.created"], "order.updated", False),
        (["order.*"], "order.created", True),
        (["order.*"], "order.item.added", True),
        (["order.*"], "order", False),
        (["order.*"], "orders.created", False),
        (["order.*"], "invoice.paid", False),
        (["*"], "anything.at_all", True),
        (["invoice.paid", "order.*"], "order.shipped", True),
        (["invoice.paid", "order.*"], "customer.created", False),
        ([], "order.created", False),
        (["Order.created"], "order.created", False),
    ],
)
def test_event_type_matching(patterns: list[str] | None, event_type: str, expected: bool) -> None:
    assert event_type_matches(patterns, event_type) is expected


@pytest.mark.parametrize("name", ["order.created", "a", "invoice.payment_failed.v2", "user-signup"])
def test_valid_event_types(name: str) -> None:
    assert is_valid_event_type(name)


@pytest.mark.parametrize(
    "name", ["", ".", "order.", ".order", "order..created", "order created", "order.*", "a" * 257]
)
def test_invalid_event_types(name: str) -> None:
    assert not is_valid_event_type(name)


@pytest.mark.parametrize(
    ("pattern", "valid"), [("order.*", True), ("*", True), ("*.created", False), ("or*", False)]
)
def test_pattern_validation(pattern: str, valid: bool) -> None:
    assert is_valid_event_type_pattern(pattern) is valid
