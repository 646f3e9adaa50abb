"""The tenant portal: the page at ``/v1/portal``, its assets, and the signed links that open it.

The page is a static shell; its script (Preact + htm, built from ``portal/`` by ``make portal-assets`` and
vendored in ``portal_assets/``) reads the session from the URL fragment and calls the v1 API with it as a
bearer token. Fragments never reach a server, a log or a ``Referer``. Assets are read from disk on first
request, so API requests that do not serve the portal never load them.

Safe by construction: a Content-Security-Policy with no inline script, no inline style and no eval;
``connect-src 'self'`` (the page talks to this API only); ``frame-ancestors`` from the template parameter
``PortalFrameAncestors``; ``Referrer-Policy: no-referrer`` and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from hookline.api.http import HttpResponse
from hookline.api.models import PortalSessionIn
from hookline.api.views import PortalSessionOut
from hookline.core import clock, portal_session
from hookline.core.config import PortalSettings
from hookline.core.crypto import Keyring
from hookline.core.errors import NotFoundError

PAGE_PATH = "/v1/portal"
_ASSETS = {
    "portal.js": "text/javascript; charset=utf-8",
    "portal.css": "text/css; charset=utf-8",
}
_ASSET_DIR = Path(__file__).parent / "portal_assets"
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>{title}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="portal/assets/portal.css">
  <link rel="stylesheet" href="portal/assets/theme.css">
  <script type="module" src="portal/assets/portal.js"></script>
</head>
<body>
  <div id="app"><noscript>The portal needs JavaScript.</noscript></div>
</body>
</html>
"""


def security_headers(settings: PortalSettings) -> dict[str, str]:
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        f"base-uri 'none'; form-action 'none'; frame-ancestors {settings.frame_ancestors}"
    )
    headers = {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.frame_ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    return headers


def page(settings: PortalSettings) -> HttpResponse:
    body = _PAGE.format(title=html.escape(settings.title))
    headers = security_headers(settings) | {"Cache-Control": "no-store"}
    return HttpResponse(200, body, "text/html; charset=utf-8", headers)


@cache
def _read(name: str) -> str:
    return (_ASSET_DIR / name).read_text(encoding="utf-8")


def asset(name: str, settings: PortalSettings) -> HttpResponse:
    headers = security_headers(settings) | {"Cache-Control": "public, max-age=300"}
    if name == "theme.css":  # the brand colour, as a stylesheet: the CSP allows no inline style
        theme = f":root{{--accent:{settings.accent_color}}}\n"
        return HttpResponse(200, theme, _ASSETS["portal.css"], headers)
    content_type = _ASSETS.get(name)
    if content_type is None:
        raise NotFoundError(f"no portal asset {name!r}")
    return HttpResponse(200, _read(name), content_type, headers)


def portal_base_url(headers: Mapping[str, str]) -> str:
    """The page's absolute URL as this request reached the API (its Host), or a relative one without it."""
    host = headers.get("host", "")
    if not _HOST.fullmatch(host):
        return PAGE_PATH
    proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip().lower()
    return f"{'http' if proto == 'http' else 'https'}://{host}{PAGE_PATH}"


def create_session(
    keyring: Keyring, tenant_id: str, body: PortalSessionIn, headers: Mapping[str, str]
) -> PortalSessionOut:
    expires_at = int(time.time()) + body.expires_in
    token = portal_session.issue(keyring, tenant_id, body.scopes, expires_at)
    return PortalSessionOut(
        url=f"{portal_base_url(headers)}#session={token}", expires_at=clock.iso_from_unix(expires_at)
    )
