"""The printable monthly report in a real browser: its static print sheet applies under the
strict Content-Security-Policy, on A4, with the client, the period and page numbers, and the
Print button works. The page is saved under screenshots/."""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import pytest

from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    log_in,
    shots,
)

pytestmark = pytest.mark.browser

A4_POINTS = (595.28, 841.89)  # 210 × 297 mm; Chromium rounds to its pixel grid


@pytest.mark.django_db(transaction=True)
def test_printable_report_prints_on_a4_with_its_styles(cast, browser_page, shots):
    page = browser_page
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    log_in(page, cast.sv.username)
    page.goto("/reports/coffee/monthly/?month=2026-11&format=print")

    # The Print button opens the print dialog through the static script, not an inline one.
    page.evaluate("window.print = () => { window.printed = true; }")
    page.click("button[data-print]")
    assert page.evaluate("window.printed === true")

    page.emulate_media(media="print")
    shots.take(page, "monthly-report", 1, "print")

    def style(selector: str, prop: str) -> str:
        return page.eval_on_selector(
            selector, f"el => getComputedStyle(el).getPropertyValue('{prop}')"
        )

    assert style("p.toolbar", "display") == "none"  # the button is not printed
    assert style("body", "font-size") == "13.3333px"  # 10 pt
    assert style("body", "margin-top") == "0px"
    assert style("table.report", "border-collapse") == "collapse"
    assert style("table.report td.num", "text-align") == "right"
    assert style(".sheet > thead", "display") == "table-header-group"  # the head repeats
    head = page.inner_text("header.running")
    assert cast.coffee.name in head
    assert "2026-11-01 – 2026-11-30" in head
    # The page rules (size, numbers) are in the sheet the browser loaded.
    rules = page.evaluate(
        """() => [...document.styleSheets].flatMap(s => [...s.cssRules])
            .filter(r => r.type === CSSRule.PAGE_RULE).map(r => r.cssText).join(' ')"""
    )
    assert "a4" in rules.lower() and "counter(page)" in rules and "counter(pages)" in rules
    assert not blocked, blocked

    # Printed with the page's own size: every page is A4.
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    boxes = {
        tuple(round(float(n), 2) for n in box.split()[2:4])
        for box in pdf.decode("latin-1").split("/MediaBox [")[1:]
        for box in [box.split("]")[0]]
    }
    assert boxes, "no page in the PDF"
    for width, height in boxes:  # not Letter (612 × 792), the browser's default
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, boxes
