"""``/v1/docs`` is where people paste an API key: a CSP that admits only this origin's scripts and the one
inline initialiser, no framing, and no key kept in localStorage."""

from __future__ import annotations

import base64
import hashlib
import re

from hookline.api import docs


def test_the_docs_page_has_a_strict_csp_matching_its_one_inline_script() -> None:
    response = docs.page()
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    [inline] = re.findall(r"<script>(.*?)</script>", str(response.body), re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"
    assert "unsafe" not in policy["script-src"]
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_pasted_key_is_not_kept_in_the_browser() -> None:
    assert "persistAuthorization" not in str(docs.page().body)
