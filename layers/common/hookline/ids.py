"""Identifiers: a type prefix plus a ULID-style body, so ids sort by creation time and never collide."""

from __future__ import annotations

import re
import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Tenant ids are chosen by the user (their customer's id). '#' separates key parts in DynamoDB, so the
# alphabet excludes it, and anything that would need escaping in a URL path.
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")


def _ulid() -> str:
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_event_id() -> str:
    return "evt_" + _ulid()


def new_endpoint_id() -> str:
    return "ep_" + _ulid()


def is_valid_tenant_id(tenant_id: str) -> bool:
    return bool(TENANT_ID_PATTERN.match(tenant_id))
