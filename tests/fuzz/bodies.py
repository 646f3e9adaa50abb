"""Hypothesis strategies for the values and JSON bodies of fuzzed requests: text with hostile
snippets, arbitrary JSON, and each route's body with fields that are mostly valid (so whole bodies are
often accepted and stored) and sometimes hostile.

A body also knows when it must be refused (a 4xx): a non-finite number, a lone surrogate, a control
character in an event type, or a delivery header that HTTP does not allow. Those are the causes issue 7
lists; the oracles hold the API to them.
"""

from __future__ import annotations

import base64
import json
import math
import urllib.parse
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.routes import Live

SNIPPETS = (
    "\ud800", "\udfff", "\n", "\r\n", "\x00", "\t", "\u2028", "\ufeff", "\x7f", "\u0301", "日本",
    "\U0001d518", "%00", "../", "' OR 1=1 --", "${jndi:x}", "{{7*7}}", "<script>", "\\", '"', "NaN",
    "Traceback",
)  # fmt: skip
SCOPES = ("endpoints:read", "endpoints:write", "events:read", "events:write", "admin", "*", "")


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


def item_refusals(body_kind: str, value: Any) -> tuple[tuple[int, str], ...]:
    """The items of a batch that must each get their own 4xx in the 207 (one bad item never fails the
    others, so the batch as a whole is not refused for them)."""
    items = value.get("events") if body_kind == "batch" and isinstance(value, dict) else None
    if not isinstance(items, list):
        return ()
    return tuple(
        (index, "a control character in an event type")
        for index, item in enumerate(items)
        if isinstance(item, dict) and _has_control(item.get("type"))
    )


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


def mostly(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three valid values for every hostile one, so that whole bodies are often accepted and stored."""
    return weighted((3, valid), (1, hostile))


def _body(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[Any]:
    shaped = st.fixed_dictionaries(dict(required), optional=dict(optional))
    with_unknown = st.fixed_dictionaries(
        {**required, "unknown_field": json_values(2)}, optional=dict(optional)
    )
    return weighted((8, shaped), (1, with_unknown), (1, json_values(6)))


def plain(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=max_size)


def bodies(kind: str, live: Live) -> st.SearchStrategy[Any]:
    plain_type = st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,2}", fullmatch=True)
    plain_data = st.dictionaries(
        plain(8), st.one_of(plain(), st.integers(-1000, 1000), st.booleans()), max_size=4
    )
    event = {"type": mostly(plain_type, event_types()), "data": mostly(plain_data, json_values())}
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    endpoint_fields = {
        "event_types": mostly(
            st.one_of(st.none(), st.lists(plain_type, max_size=3)),
            st.one_of(st.lists(event_types(), max_size=4), json_values(2)),
        ),
        "filter": mostly(st.just({"data": {"n": [{"numeric": [">", 0]}]}}), filters()),
        "description": mostly(plain(40), weird_text()),
        "enabled": mostly(st.booleans(), json_values(1)),
        "headers": mostly(
            st.dictionaries(st.from_regex(r"X-[A-Za-z]{1,10}", fullmatch=True), plain(), max_size=2),
            header_maps(),
        ),
        "rate_limit": mostly(
            st.integers(1, 1000),
            st.one_of(st.integers(-5, 10**12), st.floats(allow_nan=True), json_values(1)),
        ),
        "secret": mostly(st.just(secret), weird_text().map(lambda t: "whsec_" + t)),
    }
    url = mostly(st.just(live.receiver_url + "/fuzz/ok"), urls(live))
    since = mostly(
        st.datetimes().map(lambda moment: moment.isoformat() + "Z"), st.one_of(weird_text(), json_values(1))
    )
    table: dict[str, st.SearchStrategy[Any]] = {
        "tenant": _body({"name": mostly(plain(), weird_text())}, {}),
        "endpoint": _body({"url": url}, endpoint_fields),
        "endpoint_patch": _body({}, {"url": url, **endpoint_fields}),
        "event": _body(event, {}),
        "test_send": _body({}, event),
        "batch": _body(
            {
                "events": st.one_of(
                    st.lists(_body(event, {"idempotency_key": mostly(plain(), weird_text())}), max_size=5),
                    st.lists(st.just({"type": "a.b", "data": {}}), min_size=100, max_size=103),
                    json_values(3),
                )
            },
            {},
        ),
        "key": _body(
            {"name": mostly(plain(), weird_text())},
            {
                "scopes": st.lists(st.sampled_from(SCOPES), max_size=5),
                "expires_in": mostly(st.integers(1, 10**6), json_values(1)),
            },
        ),
        "recover": _body({"since": since}, {}),
        "retry": _body({}, {"endpoint_id": st.one_of(st.just(live.endpoint_id), weird_text())}),
        "rotate": _body({}, {"secret": endpoint_fields["secret"]}),
        "empty": st.one_of(st.just({}), json_values(2)),
    }
    return table[kind]
