"""Debian's headless Chromium, driven by Playwright, for the e2e tests of pages the API serves (Swagger UI at
``/v1/docs``, the tenant portal at ``/v1/portal``).

Never ``playwright install``: the browser is Debian's (``apt-get install chromium``). Where it is missing the
tests are skipped, except in CI (``CI=true``), where ``.ci/run`` installs it and a missing browser is a
failure. axe-core (accessibility) comes from ``tests/browser/`` (``make browser-deps``: ``npm ci`` from its
lockfile), with the same rule.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from local_stack.process import REPO_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# What machines/python.md says Chromium needs here: no sandbox as root, no GPU, and none of its own
# background traffic (updates, sync, QUIC probes), which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = REPO_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(path: Path, why: str) -> None:
    """Skip without ``path`` here; fail in CI, where a skip would hide that the test never ran."""
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{why} is missing in CI: {path}")
        pytest.skip(f"needs {why} ({path})")


@dataclass
class Traffic:
    """Every URL the browser asked for, and those it asked of any host but the API's (aborted)."""

    origin: str
    requested: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)

    def route(self, route: Any, request: Any) -> None:
        self.requested.append(request.url)
        url = urlsplit(request.url)
        if request.url.startswith("data:") or f"{url.scheme}://{url.netloc}" == self.origin:
            route.continue_()
        else:
            self.elsewhere.append(request.url)
            route.abort()


@contextmanager
def browser_context(api_url: str, profile: Path, **options: Any) -> Iterator[tuple[Any, Traffic]]:
    """A fresh persistent Chromium context that may reach ``api_url``'s origin only."""
    require(Path(CHROMIUM), "Debian's chromium (apt-get install chromium)")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(api_url))
    traffic = Traffic(origin)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            **options,
        )
        try:
            context.route("**/*", traffic.route)
            yield context, traffic
        finally:
            context.close()


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of these impacts on the page as it is now, one line each."""
    require(AXE, "axe-core (make browser-deps)")
    # evaluate runs in the page without being an inline script, so the page's CSP stays as it is.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found if v["impact"] in impacts
    ]
