"""Hypothesis strategies for requests to the API: structured (well-shaped bodies whose fields are valid
or hostile), mutated (a structured body damaged at the byte level) and raw (bytes, deep nesting,
headers with CR/LF or UTF-8, wrong methods and content types).

A structured request also knows when its input is one that must be refused (a 4xx): a non-finite
number, a lone surrogate, a control character in an event type, or a delivery header that HTTP does not
allow. Those are the causes issue 7 lists; the oracles hold the API to them.
"""

from __future__ import annotations

import base64
import json
import math
import urllib.parse
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.routes import ROUTES, Live, Route
from tests.fuzz.wire import FuzzRequest

SNIPPETS = (
    "\ud800", "\udfff", "\n", "\r\n", "\x00", "\t", "\u2028", "\ufeff", "\x7f", "\u0301", "日本",
    "\U0001d518", "%00", "../", "' OR 1=1 --", "${jndi:x}", "{{7*7}}", "<script>", "\\", '"', "NaN",
    "Traceback",
)  # fmt: skip
WEIRD_IDS = (
    "..", ".", "%2e%2e", "%2F", "%00", "%ff", "%", "a%zz", "x" * 300, "%F0%9F%98%80", "%ED%A0%80", "%0A",
    "evt_" + "0" * 26, "ep_" + "Z" * 26, "key_x", "%20", "~", "T%23x",
)  # fmt: skip
SCOPES = ("endpoints:read", "endpoints:write", "events:read", "events:write", "admin", "*", "")
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


def weird_text(max_size: int = 30) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=max_size),
        st.builds(
            lambda head, snippet, tail: head + snippet + tail,
            st.text(max_size=8),
            st.sampled_from(SNIPPETS),
            st.text(max_size=8),
        ),
    )


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        weird_text(),
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(weird_text(12), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def encode(value: Any) -> bytes:
    """JSON as a client would send it; Python's encoder writes NaN and Infinity as bare tokens."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates only travel escaped
        return json.dumps(value, ensure_ascii=True, allow_nan=True).encode("ascii")


def _walk(value: Any) -> list[Any]:
    found, stack = [], [value]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _has_control(text: Any) -> bool:
    return isinstance(text, str) and any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)


def refusal_reason(body_kind: str, value: Any) -> str:
    """Why a structured body must be refused, or "" when it need not be."""
    if body_kind == "empty":  # a route that reads no body (the redrive) may ignore whatever comes
        return ""
    nodes = _walk(value)
    if any(isinstance(node, float) and not math.isfinite(node) for node in nodes):
        return "a non-finite number (NaN/Infinity) in a JSON body"
    if any(isinstance(node, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in node) for node in nodes):
        return "a lone surrogate in a JSON string"
    if not isinstance(value, dict):
        return ""
    if body_kind in {"event", "test_send"} and _has_control(value.get("type")):
        return "a control character in an event type"
    items = value.get("events") if body_kind == "batch" else None
    if isinstance(items, list) and any(
        isinstance(item, dict) and _has_control(item.get("type")) for item in items
    ):
        return "a control character in an event type"
    if body_kind in {"endpoint", "endpoint_patch"}:
        if isinstance(value.get("event_types"), list) and any(_has_control(t) for t in value["event_types"]):
            return "a control character in an endpoint's event type"
        headers = value.get("headers")
        if isinstance(headers, dict):
            for name, header_value in headers.items():
                if _has_control(name) or _has_control(header_value):
                    return "CR, LF or another control character in a delivery header"
                if isinstance(header_value, str) and any(ord(char) > 0xFF for char in header_value):
                    return "a delivery header value that is not Latin-1"
    return ""


# ------------------------------------------------------------------------------------- body fields


def urls(live: Live) -> st.SearchStrategy[Any]:
    receiver = live.receiver_url
    return st.one_of(
        st.builds(lambda path: f"{receiver}/fuzz/{urllib.parse.quote(path)}", st.text(max_size=20)),
        st.sampled_from(
            [
                receiver,
                receiver.replace("http://", "https://"),
                receiver.replace("http://", "http://user:pw@"),
                "http://169.254.169.254/latest/meta-data/",
                "http://[::1]:1/x",
                "http://10.0.0.1/x",
                "ftp://127.0.0.1/x",
                "javascript:alert(1)",
                "http://",
                "http:///x",
                "",
                receiver + "/" + "a" * 5000,
                receiver + "/\r\nX-Injected: 1",
            ]
        ),
        json_values(4),
    )


def event_types() -> st.SearchStrategy[Any]:
    valid = st.sampled_from(
        ["order.created", "order.*", "*", "a", "a.b.c.d", "order.created\n", "order\r\n.x"]
    )
    return st.one_of(valid, weird_text(20), json_values(2))


def filters() -> st.SearchStrategy[Any]:
    operand = st.one_of(json_values(3), st.integers(-1000, 1000))
    matcher = st.one_of(
        json_values(2),
        st.fixed_dictionaries({"prefix": operand}),
        st.fixed_dictionaries({"suffix": operand}),
        st.fixed_dictionaries({"anything-but": operand}),
        st.fixed_dictionaries({"exists": operand}),
        st.fixed_dictionaries({"wildcard": operand}),
        st.fixed_dictionaries({"equals-ignore-case": operand}),
        st.fixed_dictionaries(
            {"numeric": st.lists(st.one_of(st.sampled_from(["<", ">=", "="]), operand), max_size=5)}
        ),
    )
    pattern = st.recursive(
        st.lists(matcher, max_size=3),
        lambda children: st.dictionaries(weird_text(10), children, max_size=3),
        max_leaves=6,
    )
    return st.one_of(pattern, json_values(4), st.just({"data": {"x": [{"numeric": [{}, 1]}]}}))


def header_maps() -> st.SearchStrategy[Any]:
    names = st.one_of(
        st.sampled_from(
            ["X-Token", "X-A\n", "X-A\r\n", "webhook-id", "Content-Type", "X A", ":x", "X-\x00", ""]
        ),
        weird_text(20),
    )
    values = st.one_of(
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30), weird_text()
    )
    return st.one_of(st.dictionaries(names, values, max_size=4), json_values(3))


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of ``choices``, each as often as its weight (``one_of`` folds repeated strategies into one)."""
    indexes = [index for index, (weight, _) in enumerate(choices) for _ in range(weight)]
    return st.sampled_from(indexes).flatmap(lambda index: choices[index][1])


def _mostly(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three valid values for every hostile one, so that whole bodies are often accepted and stored."""
    return weighted((3, valid), (1, hostile))


def _body(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[Any]:
    shaped = st.fixed_dictionaries(dict(required), optional=dict(optional))
    with_unknown = st.fixed_dictionaries(
        {**required, "unknown_field": json_values(2)}, optional=dict(optional)
    )
    return weighted((8, shaped), (1, with_unknown), (1, json_values(6)))


def _plain(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=max_size)


def bodies(kind: str, live: Live) -> st.SearchStrategy[Any]:
    plain_type = st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,2}", fullmatch=True)
    plain_data = st.dictionaries(
        _plain(8), st.one_of(_plain(), st.integers(-1000, 1000), st.booleans()), max_size=4
    )
    event = {"type": _mostly(plain_type, event_types()), "data": _mostly(plain_data, json_values())}
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    endpoint_fields = {
        "event_types": _mostly(
            st.one_of(st.none(), st.lists(plain_type, max_size=3)),
            st.one_of(st.lists(event_types(), max_size=4), json_values(2)),
        ),
        "filter": _mostly(st.just({"data": {"n": [{"numeric": [">", 0]}]}}), filters()),
        "description": _mostly(_plain(40), weird_text()),
        "enabled": _mostly(st.booleans(), json_values(1)),
        "headers": _mostly(
            st.dictionaries(st.from_regex(r"X-[A-Za-z]{1,10}", fullmatch=True), _plain(), max_size=2),
            header_maps(),
        ),
        "rate_limit": _mostly(
            st.integers(1, 1000),
            st.one_of(st.integers(-5, 10**12), st.floats(allow_nan=True), json_values(1)),
        ),
        "secret": _mostly(st.just(secret), weird_text().map(lambda t: "whsec_" + t)),
    }
    url = _mostly(st.just(live.receiver_url + "/fuzz/ok"), urls(live))
    since = _mostly(
        st.datetimes().map(lambda moment: moment.isoformat() + "Z"), st.one_of(weird_text(), json_values(1))
    )
    table: dict[str, st.SearchStrategy[Any]] = {
        "tenant": _body({"name": _mostly(_plain(), weird_text())}, {}),
        "endpoint": _body({"url": url}, endpoint_fields),
        "endpoint_patch": _body({}, {"url": url, **endpoint_fields}),
        "event": _body(event, {}),
        "test_send": _body({}, event),
        "batch": _body(
            {
                "events": st.one_of(
                    st.lists(_body(event, {"idempotency_key": _mostly(_plain(), weird_text())}), max_size=5),
                    st.lists(st.just({"type": "a.b", "data": {}}), min_size=100, max_size=103),
                    json_values(3),
                )
            },
            {},
        ),
        "key": _body(
            {"name": _mostly(_plain(), weird_text())},
            {
                "scopes": st.lists(st.sampled_from(SCOPES), max_size=5),
                "expires_in": _mostly(st.integers(1, 10**6), json_values(1)),
            },
        ),
        "recover": _body({"since": since}, {}),
        "retry": _body({}, {"endpoint_id": st.one_of(st.just(live.endpoint_id), weird_text())}),
        "rotate": _body({}, {"secret": endpoint_fields["secret"]}),
        "empty": st.one_of(st.just({}), json_values(2)),
    }
    return table[kind]


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
    limit = _mostly(
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
    if route.body:
        body_value = draw(bodies(route.body, live))
        body = encode(body_value)
        reason = refusal_reason(route.body, body_value)
    headers = draw(request_headers(live, route, route.body == "event"))
    request = FuzzRequest(route.method, target, headers, body, route.template, "structured", reason)
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
