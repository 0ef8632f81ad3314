"""The main menu in Japanese on a 1280 px screen: one line, no link broken inside; the records
and set-up pages open under "More". A manager has the longest menu."""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import pytest
from django.urls import reverse

from azukari.org.models import Role
from azukari.testing.factories import UserFactory
from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    log_in,
    shots,
)

pytestmark = pytest.mark.browser

# Each link's text: how many lines it is set on, how tall it is and its line height. A flex item
# is stretched to its row's height, so the text's own boxes are measured, not the link's.
LINKS = """() => [...document.querySelectorAll('header.top nav a')].map(a => {
    const text = document.createRange();
    text.selectNodeContents(a);
    const boxes = [...text.getClientRects()];
    return {
        text: a.innerText,
        lines: new Set(boxes.map(b => Math.round(b.top))).size,
        height: text.getBoundingClientRect().height,
        lineHeight: parseFloat(getComputedStyle(a).lineHeight),
        top: Math.round(a.getBoundingClientRect().top),
        shown: a.checkVisibility(),
    };
})"""


def test_no_menu_link_wraps_in_japanese_at_1280px(browser_page, shots, cast):
    manager = UserFactory(
        username="mgr",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee, cast.tea],
        is_staff=True,
        language="ja",
    )
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, manager.username)
    page.goto(reverse("case-list"))
    assert page.evaluate("document.documentElement.lang") == "ja"
    links = page.evaluate(LINKS)
    assert len(links) >= 10 and "案件" in [link["text"] for link in links]
    wrapped = [
        link["text"]
        for link in links
        if link["lines"] > 1 or link["height"] > 1.5 * link["lineHeight"]
    ]
    assert not wrapped, f"menu links broken over lines: {wrapped}"
    shown = [link for link in links if link["shown"]]
    rows = {link["top"] for link in shown}
    assert len(rows) == 1, f"the menu takes {len(rows)} lines: {[x['text'] for x in shown]}"
    shots.take(page, "nav", 1, "ja-1280")

    page.click("header nav details.more summary")
    more = page.locator("header nav details.more .more-links")
    for name in ("インシデント", "カスハラ基準", "二要素認証", "管理画面"):
        assert more.get_by_role("link", name=name).is_visible()
    shots.take(page, "nav", 2, "ja-1280-more")
