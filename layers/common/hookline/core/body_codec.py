"""How an event's body is stored: zlib-compressed when that is smaller, as text otherwise.

Pure, so that delivery can size a record (``stored_body_bytes``) before ``storage.records`` writes it.
"""

from __future__ import annotations

import zlib

# zlib at its default level: a 1 KiB order JSON shrinks to about 55 %, 10 KiB to about 23 %, 64 KiB to about
# 18 %, in well under a millisecond; lzma and bz2 save up to another 10-30 % at 10-50 times the CPU
# (docs/cost.md has the measurements). Write units are billed per KiB and storage per byte, so the body,
# usually most of the record, is what compression is for.
BODY_COMPRESSION_LEVEL = 6


def compressed_body(body: str) -> bytes | None:
    """The body compressed, or None when compressing would not make it smaller (it is stored as text)."""
    text = body.encode()
    packed = zlib.compress(text, BODY_COMPRESSION_LEVEL)
    return packed if len(packed) < len(text) else None


def stored_body_bytes(body: str) -> int:
    """How many bytes the body takes in a record."""
    packed = compressed_body(body)
    return len(body.encode()) if packed is None else len(packed)
