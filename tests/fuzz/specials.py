"""Named cases every fuzz run sends first: each input issue 7 lists, on every route it can reach."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.fuzz.routes import Live
from tests.fuzz.wire import FuzzRequest

DEEP = 10_000


def _b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def special_cases(live: Live) -> list[tuple[str, FuzzRequest]]:
    auth = (("Authorization", f"Bearer {live.api_key}".encode()), ("Content-Type", b"application/json"))
    tenant = f"/v1/tenants/{live.tenant}"
    scratch = f"/v1/tenants/{live.scratch_tenants[0]}"
    endpoint = f"{tenant}/endpoints/{live.endpoint_id}"
    # Named PATCH cases that would poison an endpoint aim at a scratch tenant's, not the live one.
    scratch_endpoint = f"{scratch}/endpoints/{live.scratch_endpoint_id}"
    url = live.receiver_url + "/fuzz/special"
    cases: list[tuple[str, FuzzRequest]] = []

    def add(
        name: str, method: str, target: str, body: bytes | None, refuse: str, route: str, **extra: bytes
    ) -> None:
        headers = auth + tuple(extra.items())
        cases.append((name, FuzzRequest(method, target, headers, body, route, "special", refuse)))

    # Each route with a place for a hostile string (%s) and one for a hostile JSON value (%v), where the
    # API would otherwise accept what is there.
    url_field = b'"url": "' + url.encode() + b'"'
    json_routes = [
        ("PUT", tenant, "/v1/tenants/{t}", b'{"name": %s}', b'{"name": "x", "unknown": %v}'),
        (
            "POST",
            f"{tenant}/events",
            "/v1/tenants/{t}/events",
            b'{"type": "order.created", "data": {"s": %s}}',
            b'{"type": "order.created", "data": {"v": %v}}',
        ),
        (
            "POST",
            f"{scratch}/endpoints",
            "/v1/tenants/{t}/endpoints",
            b"{" + url_field + b', "description": %s}',
            b"{" + url_field + b', "rate_limit": %v, "filter": {"data": {"v": [%v]}}}',
        ),
        (
            "PATCH",
            scratch_endpoint,
            "/v1/tenants/{t}/endpoints/{e}",
            b'{"description": %s}',
            b'{"rate_limit": %v, "filter": {"data": {"v": [%v]}}}',
        ),
        (
            "POST",
            f"{tenant}/events/batch",
            "/v1/tenants/{t}/events/batch",
            b'{"events": [{"type": "a.b", "data": {"s": %s}}]}',
            b'{"events": [{"type": "a.b", "data": {"v": %v}}]}',
        ),
        (
            "POST",
            f"{endpoint}/test",
            "/v1/tenants/{t}/endpoints/{e}/test",
            b'{"type": "a.b", "data": {"s": %s}}',
            b'{"type": "a.b", "data": {"v": %v}}',
        ),
        (
            "POST",
            f"{tenant}/keys",
            "/v1/tenants/{t}/keys",
            b'{"name": %s, "scopes": ["events:read"]}',
            b'{"name": "k", "scopes": ["events:read"], "expires_in": %v}',
        ),
    ]
    strings = {
        "invalid UTF-8": (b'"\xff\xfe caf\xc3"', "invalid UTF-8 in the body"),
        "lone surrogate": (b'"\\ud800"', "a lone surrogate in a JSON string"),
        "reversed surrogates": (b'"\\udc00\\ud800"', "a lone surrogate in a JSON string"),
    }
    values = {
        "NaN": (b"NaN", "a non-finite number (NaN/Infinity) in a JSON body"),
        "Infinity": (b"Infinity", "a non-finite number (NaN/Infinity) in a JSON body"),
        "-Infinity": (b"-Infinity", "a non-finite number (NaN/Infinity) in a JSON body"),
        "1e999": (b"1e999", ""),  # may be refused or kept; never delivered as Infinity (delivery oracle)
        "deep list": (b"[" * DEEP + b"]" * DEEP, f"JSON nested {DEEP:,} deep"),
        "deep object": (b'{"a":' * DEEP + b"1" + b"}" * DEEP, f"JSON nested {DEEP:,} deep"),
    }
    for method, target, route, string_template, value_template in json_routes:
        for name, (text, refuse) in strings.items():
            body = string_template.replace(b"%s", text)
            add(f"{name} in {method} {route}", method, target, body, refuse, route)
        for name, (value, refuse) in values.items():
            body = value_template.replace(b"%v", value)
            add(f"{name} in {method} {route}", method, target, body, refuse, route)

    for route, target in [
        ("/v1/tenants/{t}/endpoints", f"{tenant}/endpoints"),
        ("/v1/tenants/{t}/endpoints/{e}/attempts", f"{endpoint}/attempts"),
        ("/v1/tenants/{t}/events/{v}/attempts", f"{tenant}/events/{live.event_id}/attempts"),
        ("/v1/tenants/{t}/events", f"{tenant}/events"),
        ("/v1/tenants/{t}/keys", f"{tenant}/keys"),
        ("/v1/admin/dead-letters", "/v1/admin/dead-letters"),
    ]:
        for name, cursor in [
            ("pk not an object", _b64({"pk": 1, "sk": {"S": "x"}})),
            ("pk a string", _b64({"pk": "T#x"})),
            ("sk of a wrong type", _b64({"pk": {"S": f"T#{live.tenant}"}, "sk": {"BOOL": True}})),
            ("another tenant's", _b64({"pk": {"S": "T#someone-else"}, "sk": {"S": "EP#x"}})),
            ("a list", _b64([1, 2])),
            ("not JSON", _b64(b"\xff\x00garbage")),
            ("not base64", "!!!***"),
        ]:
            add(
                f"forged cursor ({name}) on GET {route}",
                "GET",
                f"{target}?cursor={cursor}",
                None,
                "a forged cursor",
                route,
            )

    endpoint_bodies: dict[str, tuple[dict[str, Any], str]] = {
        "numeric filter [{}, 1]": (
            {"filter": {"data": {"x": [{"numeric": [{}, 1]}]}}},
            "a malformed numeric filter",
        ),
        "numeric filter at the top": ({"filter": {"numeric": [{}, 1]}}, "a malformed filter"),
        "non-Latin-1 header value": (
            {"headers": {"X-Note": "日本"}},
            "a delivery header value that is not Latin-1",
        ),
        "LF at the end of a header name": (
            {"headers": {"X-A\n": "v"}},
            "CR, LF or another control character in a delivery header",
        ),
        "CRLF in a header value": (
            {"headers": {"X-A": "v\r\nX-Injected: 1"}},
            "CR, LF or another control character in a delivery header",
        ),
        "NUL in a header value": (
            {"headers": {"X-A": "\x00"}},
            "CR, LF or another control character in a delivery header",
        ),
        "LF at the end of an event type": (
            {"event_types": ["order.created\n"]},
            "a control character in an endpoint's event type",
        ),
    }
    for name, (fields, refuse) in endpoint_bodies.items():
        body = json.dumps({"url": url, **fields}).encode()
        add(
            f"{name} (POST endpoint)",
            "POST",
            f"{scratch}/endpoints",
            body,
            refuse,
            "/v1/tenants/{t}/endpoints",
        )
        add(
            f"{name} (PATCH endpoint)",
            "PATCH",
            scratch_endpoint,
            json.dumps(fields).encode(),
            refuse,
            "/v1/tenants/{t}/endpoints/{e}",
        )

    for event_type in [
        "order.created\n",
        "order.created\r\n",
        "order.created\x00",
        "\norder.created",
        " order.created",
    ]:
        body = json.dumps({"type": event_type, "data": {}}).encode()
        add(
            f"event type {event_type!r}",
            "POST",
            f"{tenant}/events",
            body,
            "a control character or space in an event type",
            "/v1/tenants/{t}/events",
        )

    add(
        "CR/LF in a request header",
        "POST",
        f"{tenant}/events",
        b'{"type": "a.b", "data": {}}',
        "",
        "/v1/tenants/{t}/events",
        **{"Idempotency-Key": b"k\r\nX-Injected: 1"},
    )
    add(
        "UTF-8 in a request header",
        "POST",
        f"{tenant}/events",
        b'{"type": "a.b", "data": {}}',
        "",
        "/v1/tenants/{t}/events",
        **{"Idempotency-Key": "日本".encode()},
    )
    add(
        "invalid UTF-8 in a request header",
        "POST",
        f"{tenant}/events",
        b'{"type": "a.b", "data": {}}',
        "",
        "/v1/tenants/{t}/events",
        **{"Idempotency-Key": b"\xff\xfe"},
    )
    add("an unknown method", "BREW", f"{tenant}/events", b"{}", "an unknown method", "/v1/tenants/{t}/events")
    return cases
