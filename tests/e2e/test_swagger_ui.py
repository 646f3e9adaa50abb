"""``/v1/docs`` in a real browser: Debian's headless Chromium, driven by Playwright, renders Swagger UI from
the API's own assets with no network, and the page lists every operation of ``/v1/openapi.json``.

Skipped where Chromium is not installed (``apt-get install chromium``), but not in CI, which installs it
(``tests/e2e/browser.py``). ``make docs-check`` runs this test alone; the screenshot goes to
``.aws-sam/docs-screenshot.png`` (outside git).
"""

from __future__ import annotations

from pathlib import Path

import requests

from local_stack.process import REPO_ROOT
from tests.e2e.browser import browser_context
from tests.e2e.conftest import Target

SCREENSHOT = REPO_ROOT / ".aws-sam" / "docs-screenshot.png"
RENDER_TIMEOUT_MS = 30_000


def documented_operations(api_url: str) -> set[tuple[str, str]]:
    document = requests.get(api_url + "/v1/openapi.json", timeout=30).json()
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_swagger_ui_renders_offline_and_lists_every_route(target: Target, tmp_path: Path) -> None:
    expected = documented_operations(target.api_url)
    page_errors: list[str] = []
    console_errors: list[str] = []

    with browser_context(target.api_url, tmp_path / "profile") as (context, traffic):
        page = context.pages[0] if context.pages else context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.on(
            "console",
            lambda message: console_errors.append(message.text) if message.type == "error" else None,
        )
        response = page.goto(target.api_url + "/v1/docs", wait_until="load")
        assert response is not None and response.status == 200
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        # Swagger UI has fetched the document and drawn one block per operation. (A locator, not a
        # predicate string: the page's CSP forbids eval, for the test's scripts too.)
        page.locator(".opblock").nth(len(expected) - 1).wait_for(state="attached", timeout=RENDER_TIMEOUT_MS)
        shown = page.eval_on_selector_all(
            ".opblock",
            """blocks => blocks.map(block => [
                block.querySelector('.opblock-summary-method').textContent.trim(),
                block.querySelector('.opblock-summary-path').getAttribute('data-path'),
            ])""",
        )
        title = page.locator(".information-container .title").inner_text()
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    assert {(method, path) for method, path in shown} == expected
    assert len(shown) == len(expected)  # each operation once
    assert title.startswith("Hookline API")
    assert not traffic.elsewhere, f"the page asked for something other than the stack: {traffic.elsewhere}"
    assert any(url.endswith("/v1/openapi.json") for url in traffic.requested)
    assert any(url.endswith("/v1/docs/swagger-ui-bundle.js") for url in traffic.requested)
    assert not page_errors
    assert not [text for text in console_errors if "Content Security Policy" in text]  # Swagger UI fits it
    assert SCREENSHOT.stat().st_size > 10_000
