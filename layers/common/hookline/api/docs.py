"""Swagger UI at ``/v1/docs``, with its assets served by the API itself (the ``swagger-ui-bundle-v2`` package,
Swagger UI 5, which renders OpenAPI 3.1), so the page works with no internet and no CDN."""

from __future__ import annotations

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
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      persistAuthorization: true
    });
  </script>
</body>
</html>
"""


def page() -> HttpResponse:
    return HttpResponse(200, PAGE, "text/html; charset=utf-8", {"Cache-Control": _CACHE})


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
    return HttpResponse(200, body, content_type, {"Cache-Control": _CACHE})
