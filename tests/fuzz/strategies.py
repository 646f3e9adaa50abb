"""Hypothesis strategies for requests to the API: structured (a route's body from ``tests.fuzz.bodies``,
with hostile paths, queries and headers), mutated (a structured body damaged at the byte level) and raw
(bytes, deep nesting, headers with CR/LF or UTF-8, wrong methods and content types).
"""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.bodies import (
    bodies,
    encode,
    item_refusals,
    json_values,
    mostly,
    refusal_reason,
    weighted,
    weird_text,
)
from tests.fuzz.routes import ROUTES, Live, Route
from tests.fuzz.wire import FuzzRequest

WEIRD_IDS = (
    "..", ".", "%2e%2e", "%2F", "%00", "%ff", "%", "a%zz", "x" * 300, "%F0%9F%98%80", "%ED%A0%80", "%0A",
    "evt_" + "0" * 26, "ep_" + "Z" * 26, "key_x", "%20", "~", "T%23x",
)  # fmt: skip
CONTENT_TYPES = (
    b"application/json", b"application/json; charset=utf-8", b"text/plain", b"application/octet-stream",
    b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x",
    b"application/json; charset=latin-1",
)  # fmt: skip
INVALID_BYTES = (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xc0\xaf", b"\x00")
TOKENS = (
    b"NaN", b"Infinity", b"-Infinity", b"1e999", b'"\\ud800"', b"[" * 64, b"{" * 64, b"\\u0000", b",", b"]}",
    b'"\\udc00\\ud800"', b"-0", b"123456789012345678901234567890", b"true", b"null", b'"\\x41"',
)  # fmt: skip


# ------------------------------------------------------------------------------------- paths, queries


def _quoted(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def ids(live_id: str, pool: tuple[str, ...]) -> st.SearchStrategy[str]:
    return weighted(
        (6, st.just(live_id)),
        (1, st.sampled_from(pool) if pool else st.just(live_id)),
        (1, st.text(min_size=1, max_size=40).map(_quoted)),
        (1, st.sampled_from(WEIRD_IDS)),
    )


def cursors(live: Live) -> st.SearchStrategy[str]:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    forged_keys = st.fixed_dictionaries(
        {"pk": st.one_of(st.just({"S": f"T#{live.tenant}"}), json_values(2)), "sk": json_values(2)},
        optional={"gsi1pk": json_values(2), "extra": json_values(2)},
    )
    return st.one_of(
        forged_keys.map(lambda key: b64(encode(key))),
        json_values(3).map(lambda value: b64(encode(value))),
        st.binary(max_size=60).map(b64),
        weird_text(),
        st.sampled_from(["", "=", "!!!", "a" * 5000, b64(b"\xff\xfe"), b64(b"[]"), b64(b'{"pk": 1}')]),
    )


def queries(kind: str, live: Live) -> st.SearchStrategy[str]:
    limit = mostly(
        st.integers(1, 250).map(str),
        st.one_of(
            st.integers(-2, 300).map(str),
            st.sampled_from(["", "1e3", "0x10", "10" * 20, "NaN"]),
            weird_text(8),
        ),
    )
    # A cursor is optional: left out, the request reads a first page.
    fields: dict[str, st.SearchStrategy[str]] = {"limit": limit, "cursor": cursors(live)}
    if kind == "attempts":
        fields["status"] = st.one_of(st.sampled_from(["failed", "succeeded", "pending"]), weird_text(10))
    if kind == "events":
        fields["type"] = st.one_of(st.sampled_from(["order.created", "order.*", "*"]), weird_text(12))
        fields["status"] = st.one_of(
            st.sampled_from(["pending", "retrying", "succeeded", "failed"]), weird_text(8)
        )
        fields["since"] = st.one_of(st.datetimes().map(lambda moment: moment.isoformat()), weird_text(12))
        fields["until"] = fields["since"]
    chosen = st.fixed_dictionaries({}, optional=fields)
    return chosen.map(
        lambda params: urllib.parse.urlencode(params, quote_via=urllib.parse.quote, errors="surrogatepass")
    )


def request_headers(
    live: Live, route: Route, with_idempotency: bool
) -> st.SearchStrategy[tuple[tuple[str, bytes], ...]]:
    auth = weighted(
        (20, st.just([("Authorization", f"Bearer {live.api_key}".encode())])),
        (1, st.just([])),
        (
            1,
            st.sampled_from(
                [
                    [("Authorization", b"Bearer nope")],
                    [("Authorization", b"Basic eDp5")],
                    [("Authorization", b"Bearer \xff\xfe")],
                ]
            ),
        ),
    )
    content_type = weighted(
        (6, st.just([("Content-Type", b"application/json")])),
        (1, st.sampled_from(CONTENT_TYPES).map(lambda value: [("Content-Type", value)])),
        (1, st.just([])),
    )
    idempotency: st.SearchStrategy[list[tuple[str, bytes]]] = st.just([])
    if with_idempotency:
        idempotency = st.one_of(
            st.just([]),
            st.uuids().map(lambda value: [("Idempotency-Key", str(value).encode())]),
            weird_text().map(lambda text: [("Idempotency-Key", text.encode("utf-8", "surrogatepass"))]),
        )
    return st.tuples(auth if route.auth else st.just([]), content_type, idempotency).map(
        lambda parts: tuple(h for part in parts for h in part)
    )


# ------------------------------------------------------------------------------------- requests


def _path(route: Route, live: Live, draw: st.DrawFn) -> str:
    if route.destructive:
        tenant = draw(st.one_of(st.sampled_from(live.disposable_tenants), ids("x", ())))
    elif route.body == "endpoint":
        tenant = draw(st.one_of(st.sampled_from(live.scratch_tenants), ids(live.tenant, ())))
    else:
        tenant = draw(ids(live.tenant, live.scratch_tenants))
    values = {
        "t": tenant,
        "e": draw(ids("ep_" + "0" * 26, ())) if route.destructive else draw(ids(live.endpoint_id, ())),
        "v": draw(ids(live.event_id, ())),
        "k": draw(ids("key_" + "0" * 26, ())),
    }
    return route.template.format(**values)


@st.composite
def structured(draw: st.DrawFn, live: Live) -> tuple[FuzzRequest, Any]:
    route = draw(st.sampled_from(ROUTES))
    target = _path(route, live, draw)
    if route.query:
        query = draw(queries(route.query, live))
        target += f"?{query}" if query else ""
    body_value: Any = None
    body: bytes | None = None
    reason = ""
    refused_items: tuple[tuple[int, str], ...] = ()
    if route.body:
        body_value = draw(bodies(route.body, live))
        body = encode(body_value)
        reason = refusal_reason(route.body, body_value)
        refused_items = item_refusals(route.body, body_value)
    headers = draw(request_headers(live, route, route.body == "event"))
    request = FuzzRequest(
        route.method, target, headers, body, route.template, "structured", reason, refused_items
    )
    return request, body_value


def _mutate(body: bytes, draw: st.DrawFn) -> bytes:
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(body)))
        operation = draw(
            st.sampled_from(["flip", "insert-bytes", "insert-token", "delete", "truncate", "repeat"])
        )
        if operation == "flip" and body:
            index = min(at, len(body) - 1)
            body = body[:index] + bytes([body[index] ^ draw(st.integers(1, 255))]) + body[index + 1 :]
        elif operation == "insert-bytes":
            body = body[:at] + draw(st.sampled_from(INVALID_BYTES)) + body[at:]
        elif operation == "insert-token":
            body = body[:at] + draw(st.sampled_from(TOKENS)) + body[at:]
        elif operation == "delete":
            body = body[:at] + body[at + draw(st.integers(1, 8)) :]
        elif operation == "truncate":
            body = body[:at]
        else:
            body = body + body[at:]
    return body


@st.composite
def mutated(draw: st.DrawFn, live: Live) -> FuzzRequest:
    request, _ = draw(structured(live))
    body = _mutate(request.body if request.body is not None else b"{}", draw)
    return FuzzRequest(request.method, request.target, request.headers, body, request.route, "mutated")


def _nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@st.composite
def raw(draw: st.DrawFn, live: Live) -> FuzzRequest:
    route = draw(st.sampled_from(ROUTES))
    target = _path(route, live, draw)
    body = draw(
        st.one_of(
            st.binary(max_size=400),
            st.builds(
                lambda depth, kind: b'{"type":"a.b","data":' + _nested(depth, kind) + b"}",
                st.integers(50, 12_000),
                st.sampled_from(["list", "dict"]),
            ),
            st.builds(_nested, st.integers(50, 12_000), st.sampled_from(["list", "dict"])),
            st.sampled_from(
                [
                    b"[]",
                    b'"x"',
                    b"1",
                    b"null",
                    b"",
                    b" ",
                    b"\xef\xbb\xbf{}",
                    b'{"a":1,"a":2}',
                    b"{,}",
                    b'{"type":"a.b","data":{}}\n\n',
                ]
            ),
        )
    )
    method = draw(
        st.one_of(
            st.just(route.method),
            st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
        )
    )
    headers = list(draw(request_headers(live, route, True)))
    extra_name = draw(
        st.sampled_from(
            ["X-Fuzz", "X-Fuzz\r\nX-Injected", "Idempotency-Key", "Content-Type", "Authorization"]
        )
    )
    extra_value = draw(
        st.one_of(
            st.binary(max_size=40).filter(lambda value: b"\r\n\r\n" not in value),
            weird_text(20).map(lambda text: text.encode("utf-8", "surrogatepass")),
        )
    )
    if b"\r\n\r\n" not in extra_value and not extra_value.endswith(b"\r\n\r"):
        headers.append((extra_name, extra_value))
    if draw(st.booleans()):
        target += "?" + draw(st.text(max_size=30).map(lambda text: urllib.parse.quote(text, safe="=&")))
    return FuzzRequest(method, target, tuple(headers), body, route.template, "raw")
