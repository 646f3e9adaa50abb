"""The OpenAPI document and the request models agree: a body the document calls valid is not refused for its
shape, and a body it calls invalid is refused. (schemathesis checks the same over HTTP against the local
stack, in tests/contract; each disagreement it found is pinned here, at the lowest tier.)

The document is judged by jsonschema-rs, as schemathesis judges it: its patterns follow ECMA-262, as JSON
Schema says (Python's ``re`` lets ``$`` match before a final newline)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from jsonschema_rs import Draft202012Validator

import hookline.api.routes  # noqa: F401 - declares every route, so the document is whole
from hookline.api import binding, models, openapi
from hookline.core.config import TargetPolicy
from hookline.core.errors import InvalidRequestError
from hookline.core.models import Scope

POLICY = {"target_policy": TargetPolicy(allow_http=True, allowed_private_networks=())}
EVENT = {"type": "order.created", "data": {}}
URL = "https://example.com/webhooks"


def secret(size: int, encode: Any = base64.b64encode) -> str:
    return "whsec_" + encode(bytes(range(256))[-size:]).decode().rstrip("\n")


def document_accepts(model: str, body: Any) -> bool:
    document = openapi.document()
    schema = {"$ref": f"#/components/schemas/{model}", "components": document["components"]}
    return Draft202012Validator(schema).is_valid(body)


def api_accepts(model: str, body: Any) -> bool:
    try:
        binding.validate(getattr(models, model), body, POLICY)
    except InvalidRequestError:
        return False
    return True


# The rules the document states as patterns (event types, secrets, idempotency keys): the same verdict, at
# and around every boundary.
@pytest.mark.parametrize(
    ("model", "body", "valid"),
    [
        *(
            ("EventIn", {"type": name, "data": {}}, True)
            for name in ["a", "order.created", "A_1-b.c", "a" * 256]
        ),
        *(
            ("EventIn", {"type": name, "data": {}}, False)
            for name in ["", "a" * 257, "order created", "a..b", ".a", "a.", "ordér.created", "a.*", "a\n"]
        ),
        ("EndpointTestIn", {"type": "x y"}, False),
        *(
            ("EndpointPatch", {"event_types": [pattern]}, True)
            for pattern in ["*", "order.created", "order.*", "a" * 256, "a" * 256 + ".*"]
        ),
        *(
            ("EndpointPatch", {"event_types": [pattern]}, False)
            for pattern in [
                "",
                "**",
                "order*",
                "*.created",
                "a" * 257,
                "a" * 257 + ".*",
                ".*",
                "a.*\n",
                "a b",
            ]
        ),
        *(
            ("EndpointIn", {"url": URL, "secret": secret(size)}, True)
            for size in [24, 25, 26, 27, 62, 63, 64]
        ),
        *(("EndpointIn", {"url": URL, "secret": secret(size)}, False) for size in [0, 1, 23, 65, 66, 96]),
        ("EndpointIn", {"url": URL, "secret": secret(32, base64.urlsafe_b64encode)}, False),
        ("EndpointIn", {"url": URL, "secret": secret(31)[:-1]}, False),  # padding cut short
        ("EndpointIn", {"url": URL, "secret": "whsec_" + "-_" * 16}, False),  # the URL-safe alphabet
        ("EndpointIn", {"url": URL, "secret": " " + secret(32)}, False),
        ("RotateSecretIn", {"secret": secret(64)}, True),
        ("RotateSecretIn", {"secret": secret(65)}, False),
        ("RotateSecretIn", {"secret": None}, True),
        *(
            ("BatchEventIn", EVENT | {"idempotency_key": key}, True)
            for key in ["k", "order 1001 / paid", "~" * 255, None]
        ),
        *(
            ("BatchEventIn", EVENT | {"idempotency_key": key}, False)
            for key in ["", "k" * 256, "caf\u00e9", "a\tb", "\x7f", "line\n"]
        ),
    ],
)
def test_the_documents_patterns_are_the_validators_rules(model: str, body: Any, valid: bool) -> None:
    assert document_accepts(model, body) is valid
    assert api_accepts(model, body) is valid


@pytest.mark.parametrize(
    ("model", "body", "valid"),
    [
        # JSON Schema's integer is any number without a fractional part (schemathesis sent 1093.0).
        ("ApiKeyIn", {"name": "ci", "scopes": ["events:read"], "expires_in": 1093.0}, True),
        ("ApiKeyIn", {"name": "ci", "scopes": ["events:read"], "expires_in": 1e3}, True),
        ("ApiKeyIn", {"name": "ci", "scopes": ["events:read"], "expires_in": 1093.5}, False),
        ("ApiKeyIn", {"name": "ci", "scopes": ["events:read"], "expires_in": "1093"}, False),
        ("EndpointPatch", {"rate_limit": 5.0}, True),
        ("EndpointPatch", {"rate_limit": True}, False),
        # A URL cannot be removed: null was documented as allowed and answered with a 400.
        ("EndpointPatch", {"url": None}, False),
        ("EndpointPatch", {"description": None, "rate_limit": None}, True),
        # maxItems holds for the scopes as sent, duplicates included (five were accepted, as one).
        ("ApiKeyIn", {"name": "ci", "scopes": ["events:read"] * (len(Scope) + 1)}, False),
        ("ApiKeyIn", {"name": "ci", "scopes": ["events:read"] * 2}, True),
        ("ApiKeyIn", {"name": "ci", "scopes": []}, False),
        # A batch admits any item: a bad one is answered with its own 400 inside the 207, not refused.
        ("BatchIn", {"events": [[None, None], "x", {"type": "a.b"}, EVENT]}, True),
        ("BatchIn", {"events": []}, False),
        ("BatchIn", {"events": [EVENT] * 101}, False),
    ],
)
def test_the_document_and_the_models_agree(model: str, body: Any, valid: bool) -> None:
    assert document_accepts(model, body) is valid
    assert api_accepts(model, body) is valid


def test_integral_floats_become_integers() -> None:
    request = binding.validate(models.ApiKeyIn, {"name": "ci", "scopes": ["events:read"], "expires_in": 60.0})
    assert request.expires_in == 60
    assert type(request.expires_in) is int


def test_a_batch_item_is_still_documented_as_an_event() -> None:
    events = openapi.document()["components"]["schemas"]["BatchIn"]["properties"]["events"]
    assert {"$ref": "#/components/schemas/BatchEventIn"} in events["items"]["anyOf"]
