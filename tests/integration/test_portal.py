"""Portal sessions through the real handler under moto: who may create them, what their links can do, and
the page's answers (the page itself is driven in Chromium by ``tests/e2e/test_portal_browser.py``)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from hookline.api import portal
from hookline.core import clock, portal_session
from hookline.core.crypto import Keyring
from hookline.core.models import Scope
from tests.integration.lambda_harness import ApiClient, Stack, api_request

SESSIONS = "/v1/tenants/acme/portal-sessions"


@pytest.fixture(autouse=True)
def tenants(api: ApiClient) -> None:
    for tenant in ("acme", "globex"):
        assert api.call("PUT", f"/v1/tenants/{tenant}", {"name": tenant}).status == 201


def session_token(response: Any) -> str:
    url = urlsplit(response.body["url"])
    host = "abc123def4.execute-api.us-east-1.amazonaws.com"  # the fixture request's Host
    assert (url.scheme, url.netloc, url.path) == ("https", host, "/v1/portal")
    assert url.fragment.startswith("session=hkp_") and not url.query
    return url.fragment.removeprefix("session=")


def tenant_key(api: ApiClient, tenant: str, scopes: list[str]) -> str:
    response = api.call("POST", f"/v1/tenants/{tenant}/keys", {"name": "product", "scopes": scopes})
    assert response.status == 201
    return str(response.body["key"])


def test_the_admin_gets_a_link_that_acts_for_the_tenant_with_the_default_scopes(
    api: ApiClient, stack: Stack
) -> None:
    issued_after = int(time.time())
    response = api.call("POST", SESSIONS)
    assert response.status == 201, response
    expires_at = clock.parse_iso(response.body["expires_at"]).timestamp()
    assert issued_after + 3600 <= expires_at <= time.time() + 3600  # an hour from when it was issued
    token = session_token(response)
    as_session = ApiClient(stack, token)
    created = as_session.call("POST", "/v1/tenants/acme/endpoints", {"url": "https://example.com/hook"})
    assert created.status == 201
    assert as_session.call("GET", "/v1/tenants/acme/endpoints").status == 200
    assert as_session.call("GET", "/v1/tenants/acme/events").status == 200
    assert as_session.call("POST", "/v1/tenants/acme/events", {"type": "a.b", "data": {}}).status == 202
    # Another tenant's data does not exist for it, and it cannot mint sessions or keys.
    assert as_session.call("GET", "/v1/tenants/globex/endpoints").status == 404
    assert as_session.call("POST", SESSIONS).status == 403
    assert as_session.call("GET", "/v1/tenants/acme/keys").status == 403


def test_a_read_only_session_reads_and_cannot_write(api: ApiClient, stack: Stack) -> None:
    response = api.call("POST", SESSIONS, {"expires_in": 60, "scopes": ["endpoints:read", "events:read"]})
    assert response.status == 201
    reader = ApiClient(stack, session_token(response))
    assert reader.call("GET", "/v1/tenants/acme/endpoints").status == 200
    refused = reader.call("POST", "/v1/tenants/acme/endpoints", {"url": "https://example.com/hook"})
    assert refused.status == 403 and refused.body["error"]["code"] == "forbidden"
    assert reader.call("POST", "/v1/tenants/acme/events", {"type": "a.b", "data": {}}).status == 403


def test_a_tenant_key_needs_portal_create_and_only_for_its_own_tenant(api: ApiClient) -> None:
    creator = tenant_key(api, "acme", [Scope.PORTAL_CREATE.value])
    assert api.call("POST", SESSIONS, {"expires_in": 600}, api_key=creator).status == 201
    assert api.call("POST", "/v1/tenants/globex/portal-sessions", api_key=creator).status == 404
    other = tenant_key(api, "acme", ["endpoints:read", "endpoints:write", "events:read", "events:write"])
    refused = api.call("POST", SESSIONS, api_key=other)
    assert refused.status == 403 and "portal:create" in refused.body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in": 59}, "expires_in"),
        ({"expires_in": 86_401}, "expires_in"),
        ({"expires_in": "60"}, "expires_in"),
        ({"scopes": ["portal:create"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"scope": ["events:read"]}, "scope"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field(api: ApiClient, body: dict[str, Any], field: str) -> None:
    response = api.call("POST", SESSIONS, body)
    assert response.status == 400
    assert response.body["error"]["message"].startswith(field)


def test_an_unknown_tenant_is_a_404(api: ApiClient) -> None:
    assert api.call("POST", "/v1/tenants/nobody/portal-sessions").status == 404


def test_an_expired_or_forged_session_is_a_401(api: ApiClient, stack: Stack) -> None:
    secret = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(
        SecretId=stack.env("IngestFunction", "ENCRYPTION_KEYS_SECRET_ARN")
    )
    keyring = Keyring.parse(secret["SecretString"])
    expired = portal_session.issue(keyring, "acme", [Scope.EVENTS_READ], int(time.time()) - 1)
    response = api.call("GET", "/v1/tenants/acme/events", api_key=expired)
    assert response.status == 401 and "expired" in response.body["error"]["message"]
    forged = portal_session.issue(Keyring(["f" * 40]), "acme", [Scope.EVENTS_READ], int(time.time()) + 60)
    assert api.call("GET", "/v1/tenants/acme/events", api_key=forged).status == 401


def test_the_page_and_its_assets_need_no_key_and_are_read_only_when_asked_for(
    api: ApiClient, stack: Stack
) -> None:
    portal._read.cache_clear()
    assert api.call("GET", "/v1/tenants/acme/endpoints").status == 200
    assert portal._read.cache_info().currsize == 0  # API requests never load the assets
    page = stack.ingest.invoke(api_request("GET", "/v1/portal"))
    assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page["headers"]["Content-Security-Policy"]
    script = stack.ingest.invoke(api_request("GET", "/v1/portal/assets/portal.js"))
    assert script["statusCode"] == 200 and script["headers"]["Content-Type"].startswith("text/javascript")
    assert script["headers"]["X-Content-Type-Options"] == "nosniff"
    assert stack.ingest.invoke(api_request("GET", "/v1/portal/assets/nope.js"))["statusCode"] == 404
