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


WRITE_UNIT_BYTES = 1024
# What a record takes besides its body, and per inline delivery (a compact one of one attempt, with its
# endpoint id as the map's key), roughly: for ``changes_kept_apart``. Part of the stored layout: changed,
# they would move where a stored record's later changes go while carriers that decided before still run.
_RECORD_BYTES = 200
_INLINE_DELIVERY_BYTES = 100
_COMPRESS_TO_DECIDE_BELOW = 16_384  # a larger body never compresses into one write unit's record


def changes_kept_apart(body: str, endpoint_count: int, overflow: bool) -> bool:
    """Are a delivery's changes after its record's first round written to an item of its own?

    DynamoDB bills an update on the whole item, so a claim and an outcome on a record of 2 KB cost 2 write
    units each, on a delivery item 1. A record that fits one write unit keeps its deliveries inline (an item
    apart would add its storage and save nothing). Decided on an estimate from what no change alters once
    the record is written (the body and the matched endpoints), so every carrier of a delivery decides
    alike and writes where the others read."""
    if overflow:
        return False  # its deliveries are items from the start
    around = _RECORD_BYTES + endpoint_count * _INLINE_DELIVERY_BYTES
    raw = len(body.encode())
    if around + raw <= WRITE_UNIT_BYTES:
        return False
    if around > WRITE_UNIT_BYTES or raw > _COMPRESS_TO_DECIDE_BELOW:
        return True
    return around + stored_body_bytes(body) > WRITE_UNIT_BYTES
