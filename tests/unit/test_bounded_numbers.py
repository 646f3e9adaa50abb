"""Numbers read from text a caller controls are bounded in length before ``int()``: thousands of digits are
a 4xx or an ignored header, never Python's digit-limit ``ValueError`` (a 500)."""

from __future__ import annotations

import io
from email.message import Message

import pytest

from hookline.core.numbers import parse_whole
from hookline.delivery.sender import parse_retry_after
from local_stack.http_framing import read_body

HUGE = "9" * 5000  # past Python's 4,300-digit limit for int()


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("42", 42), ("000042", 42), ("0" * 5000, 0), ("9" * 18, 10**18 - 1)],
)
def test_whole_numbers_are_read_with_leading_zeros(text: str, value: int) -> None:
    assert parse_whole(text) == value


@pytest.mark.parametrize("text", ["", "-1", "1.5", "٣", " 1", "9" * 19, HUGE])
def test_anything_else_or_longer_is_not_a_number(text: str) -> None:
    assert parse_whole(text) is None


def test_a_receivers_retry_after_of_thousands_of_digits_is_ignored() -> None:
    assert parse_retry_after(HUGE) is None
    assert parse_retry_after("120") == 120.0


def test_a_content_length_of_thousands_of_digits_is_over_the_limit() -> None:
    headers = Message()
    headers["content-length"] = HUGE
    assert read_body(io.BytesIO(b"x"), headers, 1_000) is None  # type: ignore[arg-type]
    headers.replace_header("content-length", "0" * 5000 + "1")
    assert read_body(io.BytesIO(b"x"), headers, 1_000) == b"x"  # type: ignore[arg-type]
