"""W3C trace context: which ``traceparent`` headers are kept, and what each delivery attempt sends."""

import pytest

from hookline.core import trace

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        (VALID, VALID),
        (f"  {VALID} ", VALID),
        (
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-future",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
        ),
        (None, None),
        ("", None),
        (VALID + "-extra", None),  # version 00 has exactly four fields
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", None),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", None),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", None),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", None),  # upper case is invalid
        ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", None),
        ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", None),
        ("not a traceparent", None),
    ],
)
def test_only_a_valid_traceparent_is_kept(header: str | None, kept: str | None) -> None:
    assert trace.parse(header) == kept


def test_each_attempt_keeps_the_trace_and_flags_with_a_parent_id_of_its_own() -> None:
    first, second = trace.for_attempt(VALID), trace.for_attempt(VALID)
    for sent in (first, second):
        assert trace.parse(sent) == sent
        version, trace_id, parent_id, flags = sent.split("-")
        assert (version, trace_id, flags) == ("00", trace.trace_id(VALID), "01")
        assert parent_id != "00f067aa0ba902b7"
    assert first != second
