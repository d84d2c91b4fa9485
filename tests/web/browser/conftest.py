"""The staff pages in real headless Chromium: Debian's /usr/bin/chromium driven by Playwright,
against pytest-django's live_server (which makes each test transactional, so the server thread
sees the rows a test writes). One browser for the package; a fresh context (cookies, storage)
for each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
# Failures should be quick; local pages answer in milliseconds, cold Chromium in under a second.
TIMEOUT_MS = 10_000
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this package is a browser test, so `-m browser` / `-m "not browser"` work
    without each module remembering a pytestmark."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(as root: scripts/install-test-packages.sh, or apt-get install chromium)",
            pytrace=False,
        )
    # Playwright's sync API marks its event loop as running in this thread for as long as it is
    # started, so Django's ORM calls in the test (fixtures, transactional flushes) would raise
    # SynchronousOnlyOperation. Nothing here is async: the loop only talks to the browser. The
    # package scope keeps both the loop and this switch away from the rest of the suite.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()


def _page(browser: Browser, live_server, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[Page]:
    """A desktop-sized page; relative URLs go to the live server."""
    yield from _page(browser, live_server, DESKTOP)


@pytest.fixture
def tablet_page(browser, live_server) -> Iterator[Page]:
    """A portrait tablet: the calendar on a lectern or a trolley."""
    yield from _page(browser, live_server, TABLET)


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Saves the whole page to test-artifacts/screenshots/<name>.png, for humans to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


# The scene test_calendar.py and test_gestures.py drag in: two rooms, a lecture in the first.


@pytest.fixture
def room_a(make_resource):
    return make_resource("Room A")


@pytest.fixture
def room_b(make_resource):
    return make_resource("Room B")


@pytest.fixture
def physics(make_event, room_a, room_b):
    """Wednesday 2 September 2026, 10:00–11:30 in Berlin, in Room A; Room B exists, free."""
    return make_event("2026-09-02 10:00", 90, zone="Europe/Berlin", resources=[room_a], summary="Physics 101")
