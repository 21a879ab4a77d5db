"""Debian's Chromium, driven by Playwright for Python, for the browser tests; or one line saying why not.

Tests take the ``chromium`` fixture (a launched, headless browser). When the browser cannot be had, every browser
test is skipped with the same one-line reason (pytest folds them into one line), except under CI (``CI=true``),
where a missing browser is a failure: CI always runs the browser tests. Every test that takes a browser fixture is
marked ``browser`` and ``slow`` here, at collection, so that ``-m "not browser"`` (no Chromium) and ``-m "not slow"``
(the fast set) leave it out without each test saying so.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import ROOT

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and quiet on a closed network (no background connections, no component updates).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL = "apt-get install -y chromium (as root; ./scripts/test does it), and pip install playwright"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, in one line, or None when they can."""
    if not CHROMIUM.exists():
        return f"browser tests need Debian's Chromium at {CHROMIUM}: {INSTALL}"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return f"browser tests need Playwright for Python (it drives {CHROMIUM}; no `playwright install`): {INSTALL}"
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


#: The fixtures that launch the browser.
BROWSER_FIXTURES = frozenset({"chromium", "rebinding_chromium"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test that needs the browser (directly or through another fixture) ``browser`` and ``slow``, before
    ``-m`` selects: tryfirst puts this ahead of pytest's own deselection."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Report every browser skip at this one place, so that pytest folds them into a single line."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = missing_browser()
        if reason is not None and report.longrepr[2].endswith(reason):
            report.longrepr = (_HERE, 1, report.longrepr[2])
    return report


_HERE = str(Path(__file__).resolve().relative_to(ROOT))


#: Host names that Chromium resolves to 127.0.0.1 in ``rebinding_chromium``, as a DNS-rebinding attacker's would.
ATTACKER_DOMAIN = "attacker.example"


async def _launch(*extra_args: str) -> AsyncIterator[Any]:
    reason = missing_browser()
    if reason is not None:
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args],
                                                   headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium (Playwright's ``Browser``), closed after the test."""
    async for browser in _launch():
        yield browser


@pytest.fixture
async def rebinding_chromium() -> AsyncIterator[Any]:
    """Chromium for which every name under attacker.example resolves to 127.0.0.1: a DNS rebinding, done."""
    async for browser in _launch(f"--host-resolver-rules=MAP *.{ATTACKER_DOMAIN} 127.0.0.1"):
        yield browser
