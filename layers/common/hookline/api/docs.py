"""Swagger UI at ``/v1/docs``, with its assets served by the API itself (the ``swagger-ui-bundle-v2`` package,
Swagger UI 5, which renders OpenAPI 3.1), so the page works with no internet and no CDN.

The page is where people paste an API key, so it is locked down: a Content-Security-Policy allows scripts
from this origin plus the one inline initialiser (by its hash), requests to this origin only, and no
framing; and the key is not kept in the browser's localStorage (no ``persistAuthorization``): it is gone
when the tab closes.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from swagger_ui_bundle import swagger_ui_path

from hookline.api.http import HttpResponse
from hookline.core.errors import NotFoundError

_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
_CACHE = "public, max-age=86400"

_INIT_SCRIPT = """
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null
    });
  """
_INIT_HASH = base64.b64encode(hashlib.sha256(_INIT_SCRIPT.encode()).digest()).decode()
# Swagger UI 5 sets inline styles and draws icons from data: URIs; everything else comes from this origin.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src 'self' 'sha256-{_INIT_HASH}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Cache-Control": _CACHE,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# Relative links: the page is /v1/docs, so "docs/x" is /v1/docs/x and "openapi.json" is /v1/openapi.json.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Hookline API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>{init}</script>
</body>
</html>
""".replace("{init}", _INIT_SCRIPT)


def page() -> HttpResponse:
    return HttpResponse(200, PAGE, "text/html; charset=utf-8", _PAGE_HEADERS)


@cache
def _read(name: str) -> bytes:
    data: bytes = (swagger_ui_path / name).read_bytes()
    return data


def asset(name: str) -> HttpResponse:
    content_type = _ASSETS.get(name)
    if content_type is None:
        raise NotFoundError(f"no documentation asset {name!r}")
    data = _read(name)
    body: str | bytes = data.decode() if content_type.endswith("utf-8") else data
    return HttpResponse(
        200, body, content_type, {"Cache-Control": _CACHE, "X-Content-Type-Options": "nosniff"}
    )
