"""Portal session tokens (``core.portal_session``), how ``api.auth`` accepts them, the portal's settings and
its page's security headers."""

from __future__ import annotations

import base64
import json

import pytest

from hookline.api import portal
from hookline.api.auth import EVENTS_READ, EVENTS_WRITE, PORTAL_CREATE, AdminKey, Authenticator, authorize
from hookline.core import portal_session
from hookline.core.config import PortalSettings
from hookline.core.crypto import Keyring
from hookline.core.cursor import encode as encode_cursor
from hookline.core.errors import (
    ConfigurationError,
    ForbiddenError,
    InvalidSessionError,
    NotFoundError,
    UnauthorizedError,
)
from hookline.core.models import Scope
from hookline.core.portal_session import issue, verify

KEY = "k" * 40
NOW = 1_800_000_000
READ_ONLY = {Scope.ENDPOINTS_READ, Scope.EVENTS_READ}


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([KEY])


def test_a_token_grants_its_tenant_and_scopes_until_it_expires(keyring: Keyring) -> None:
    token = issue(keyring, "acme", READ_ONLY, NOW + 60)
    assert token.startswith("hkp_")
    session = verify(keyring, token, NOW + 59)
    assert (session.tenant_id, session.scopes, session.expires_at) == ("acme", READ_ONLY, NOW + 60)
    with pytest.raises(InvalidSessionError, match="expired"):
        verify(keyring, token, NOW + 60)


def test_two_tokens_for_the_same_grant_differ(keyring: Keyring) -> None:
    assert issue(keyring, "acme", READ_ONLY, NOW) != issue(keyring, "acme", READ_ONLY, NOW)


def _claims(token: str) -> dict[str, object]:
    encoded = token.removeprefix("hkp_").split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))))


def _with_claims(token: str, **changes: object) -> str:
    payload = json.dumps(_claims(token) | changes, separators=(",", ":"), sort_keys=True).encode()
    signature = token.split(".")[1]
    return "hkp_" + base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + signature


@pytest.mark.parametrize(
    "changes",
    [{"t": "globex"}, {"s": [scope.value for scope in portal_session.GRANTABLE_SCOPES]}, {"e": NOW + 86_400}],
)
def test_an_edited_token_is_refused(keyring: Keyring, changes: dict[str, object]) -> None:
    token = _with_claims(issue(keyring, "acme", READ_ONLY, NOW + 60), **changes)
    with pytest.raises(InvalidSessionError, match="not valid"):
        verify(keyring, token, NOW)


@pytest.mark.parametrize(
    "token",
    ["", "hkp_", "hkp_abc", "hkp_a.b.c", "hkp_!!!.sig", "hk_" + "a" * 40, "hkp_" + "a" * 2000 + ".x"],
)
def test_garbage_is_refused(keyring: Keyring, token: str) -> None:
    with pytest.raises(InvalidSessionError):
        verify(keyring, token, NOW)


def test_a_token_from_another_deployment_is_refused_and_one_survives_a_key_rotation(keyring: Keyring) -> None:
    token = issue(keyring, "acme", READ_ONLY, NOW + 60)
    with pytest.raises(InvalidSessionError):
        verify(Keyring(["z" * 40]), token, NOW)
    assert verify(Keyring(["n" * 40, KEY]), token, NOW).tenant_id == "acme"


def test_a_cursor_signature_cannot_pass_for_a_session(keyring: Keyring) -> None:
    claims = {"t": "acme", "s": ["endpoints:write"], "e": NOW + 60, "n": "x"}
    cursor = encode_cursor(keyring, "[]", claims)
    with pytest.raises(InvalidSessionError):
        verify(keyring, "hkp_" + cursor, NOW)


def test_a_session_never_holds_portal_create(keyring: Keyring) -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        issue(keyring, "acme", {Scope.PORTAL_CREATE}, NOW + 60)


class NoTenantKeys:
    def find(self, key_digest: str) -> None:
        return None


def _authenticator(keyring: Keyring, now: float) -> Authenticator:
    return Authenticator(
        AdminKey(lambda: "admin-" + "a" * 40),
        NoTenantKeys(),  # type: ignore[arg-type]
        lambda token: verify(keyring, token, now),
    )


def test_the_authenticator_makes_a_session_a_tenant_principal_with_its_scopes(keyring: Keyring) -> None:
    token = issue(keyring, "acme", READ_ONLY, NOW + 60)
    principal = _authenticator(keyring, NOW).authenticate({"Authorization": f"Bearer {token}"})
    assert (principal.admin, principal.tenant_id, principal.scopes) == (False, "acme", READ_ONLY)
    authorize(principal, EVENTS_READ, "acme")
    with pytest.raises(ForbiddenError):
        authorize(principal, EVENTS_WRITE, "acme")
    with pytest.raises(ForbiddenError):
        authorize(principal, PORTAL_CREATE, "acme")
    with pytest.raises(NotFoundError):
        authorize(principal, EVENTS_READ, "globex")
    with pytest.raises(UnauthorizedError, match="expired"):
        _authenticator(keyring, NOW + 60).authenticate({"Authorization": f"Bearer {token}"})


def test_portal_settings_have_defaults_and_refuse_what_could_break_the_headers() -> None:
    default = PortalSettings.from_env({})
    assert (default.title, default.accent_color, default.frame_ancestors) == ("Webhooks", "#2b59c3", "'none'")
    branded = PortalSettings.from_env(
        {
            "PORTAL_TITLE": "Acme webhooks",
            "PORTAL_ACCENT_COLOR": "#AA3300",
            "PORTAL_FRAME_ANCESTORS": "'self' https://app.acme.example https://*.acme.example:8443",
        }
    )
    assert branded.accent_color == "#aa3300"
    assert branded.frame_ancestors == "'self' https://app.acme.example https://*.acme.example:8443"
    for name, value in [
        ("PORTAL_ACCENT_COLOR", "red"),
        ("PORTAL_ACCENT_COLOR", "#abc;x"),
        ("PORTAL_FRAME_ANCESTORS", "https://a.example; script-src *"),
        ("PORTAL_FRAME_ANCESTORS", "*"),
        ("PORTAL_FRAME_ANCESTORS", "'none' https://a.example"),
        ("PORTAL_TITLE", "x" * 81),
        ("PORTAL_TITLE", "a\nb"),
    ]:
        with pytest.raises(ConfigurationError):
            PortalSettings.from_env({name: value})


def test_the_page_is_a_shell_under_a_strict_policy() -> None:
    settings = PortalSettings.from_env(
        {"PORTAL_TITLE": "<b>Acme</b> & co", "PORTAL_FRAME_ANCESTORS": "'self'"}
    )
    page = portal.page(settings)
    assert isinstance(page.body, str)
    assert "<title>&lt;b&gt;Acme&lt;/b&gt; &amp; co</title>" in page.body
    assert "<script>" not in page.body and "style=" not in page.body
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert policy.endswith("frame-ancestors 'self'")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in page.headers
    theme = portal.asset("theme.css", PortalSettings.from_env({"PORTAL_ACCENT_COLOR": "#123456"}))
    assert theme.body == ":root{--accent:#123456}\n"
    with pytest.raises(NotFoundError):
        portal.asset("../portal.py", settings)


@pytest.mark.parametrize(
    ("headers", "url"),
    [
        ({"host": "api.example.com"}, "https://api.example.com/v1/portal"),
        ({"host": "127.0.0.1:8080", "x-forwarded-proto": "http"}, "http://127.0.0.1:8080/v1/portal"),
        ({"host": "evil.example/x?"}, "/v1/portal"),
        ({}, "/v1/portal"),
    ],
)
def test_the_link_points_back_at_the_host_that_was_asked(headers: dict[str, str], url: str) -> None:
    assert portal.portal_base_url(headers) == url
