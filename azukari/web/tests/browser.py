"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Import the fixtures from a test module (`from azukari.web.tests.browser import page, ...`).
Tests using them are marked `browser` and skipped, with the reason, where Chromium or
Playwright is missing.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A 1366×768 screen: what the floor has on every desk.
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[3] / "screenshots"
PASSWORD = "pass-word-123"  # the factories' password


# Module scope, not session: each test module imports the fixture as its own, and two live
# sync Playwright instances cannot share a thread; one per module closes before the next.
@pytest.fixture(scope="module")
def chromium() -> Iterator:
    required = os.environ.get("AZUKARI_REQUIRE_BROWSER") == "1"  # set by CI: never skip there
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        pytest.fail(message) if required else pytest.skip(message)
    try:
        from playwright import sync_api
    except ImportError:
        message = "Playwright is not installed (pip install playwright)"
        pytest.fail(message) if required else pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the test's own database
    # calls are still synchronous, so Django's async guard does not apply to them.
    # Set for the module's tests only: a later test that starts the product in a subprocess
    # (check --deploy) must not inherit it.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def browser_page(chromium, live_server) -> Iterator:
    """A fresh browser context (no cookies) on the live server, at desk size."""
    context = chromium.new_context(viewport=VIEWPORT, base_url=live_server.url, locale="ja-JP")
    # Generous: a loaded CI machine serves the first page slowly, and nothing here sleeps.
    context.set_default_timeout(60_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shots() -> "Screenshots":
    SCREENSHOTS.mkdir(exist_ok=True)
    return Screenshots(SCREENSHOTS)


class Screenshots:
    """Saves each page of a walk as screenshots/<walk>-<nn>-<name>.png."""

    def __init__(self, folder: Path):
        self.folder = folder

    def take(self, page, walk: str, step: int, name: str) -> Path:
        """Saves the page, and checks on the way that it does not scroll sideways: every
        page must be usable on the floor's screens without it."""
        path = self.folder / f"{walk}-{step:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert_fits_the_width(page)
        return path


def assert_fits_the_width(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width}px wide on a {viewport}px screen"


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Through the real log-in form, as a person would."""
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def log_out(page) -> None:
    page.context.clear_cookies()


def submit(page, selector: str) -> None:
    """Clicks a submit button and waits for the page the server answers with."""
    with page.expect_navigation():
        page.click(selector)


def ring(cast, customer, call_id: str) -> None:
    """The PBX tells Azukari that the operator's phone rings, with the customer's number
    (what the API stores)."""
    from django.utils import timezone

    from azukari.api.services import contact_event_record

    contact_event_record(
        viewer=cast.operator,
        client=customer.client,
        call_id=call_id,
        event="started",
        at=timezone.now(),
        caller_number=customer.phones.first().number,
        agent_id=cast.operator.agent_id,
    )
