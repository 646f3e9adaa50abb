"""Whole numbers read from text that a caller controls (query parameters, headers).

``int()`` on a string of thousands of digits costs quadratic time, and past Python's limit (4,300 digits) it
raises ``ValueError``: a 500 where a 400 belongs. Every such number is bounded in length first.
"""

from __future__ import annotations

MAX_DIGITS = 18  # below 2**63: every count, size or second count Hookline reads fits


def parse_whole(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """``text`` as a non-negative decimal integer (ASCII digits only, leading zeros allowed, at most
    ``max_digits`` significant ones), or None when it is not one."""
    if not text.isascii() or not text.isdigit():
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > max_digits:
        return None
    return int(significant)
