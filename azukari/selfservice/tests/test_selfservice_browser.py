"""The customer's side of the story on a phone, in Japanese, in a real browser.

The operator sends the options by SMS from the pop; the customer opens the link, confirms
the last four digits of his phone, sees the desk's options, records his request, and says
"no calls on Sunday, 10:00–12:00". The desk's workspace shows the request dated that day and
the callback inside his new windows. The pages are checked for the WCAG 2.2 AA basics on the
way (labels, contrast, visible focus, 44 px targets); screenshots under screenshots/
(selfservice-NN-*.png).
"""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from azukari.cases.models import Callback, Case
from azukari.org.models import SiteHours
from azukari.selfservice.tests.conftest import run_queued
from azukari.subscriptions.models import CancellationRequest
from azukari.subscriptions.selectors import subscription_options
from azukari.subscriptions.tests.factories import coffee_policy, story_subscription
from azukari.testing.factories import CustomerFactory
from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    log_in,
    shots,
    submit,
)

pytestmark = pytest.mark.browser
WALK = "selfservice"
PHONE = {"width": 390, "height": 844}
SENT: list[tuple[str, str]] = []


class RecordingSms:
    """The SMS backend of this test: keeps what would go to the phone."""

    def send(self, *, to: str, text: str) -> None:
        SENT.append((to, text))


@pytest.fixture
def story(cast, settings):
    """After two of three deliveries; the sites take calls every day, 9:00–20:00, so that
    only the customer's own wishes keep a callback off a Sunday."""
    settings.AZUKARI_SMS_BACKEND = f"{__name__}.RecordingSms"
    SENT.clear()
    for site in (cast.sapporo, cast.osaka):
        for day in range(7):
            SiteHours.objects.update_or_create(
                site=site, weekday=day, defaults={"opens_at": dt.time(9), "closes_at": dt.time(20)}
            )
    coffee_policy(cast.coffee)
    customer = CustomerFactory(
        client=cast.coffee,
        customer_number="C-2001",
        family_name="山田",
        given_name="太郎",
        phones=["+819012345678"],
    )
    return story_subscription(
        cast.coffee, started_on=timezone.localdate() - dt.timedelta(days=45), customer=customer
    )


# ---------------------------------------------------------------- WCAG 2.2 AA basics

A11Y = """
() => {
  const problems = [];
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (bg && !bg.startsWith("rgba(0, 0, 0, 0)") && bg !== "transparent") return bg;
    }
    return "rgb(255, 255, 255)";
  };
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`))
      || el.closest("label") || el.getAttribute("aria-label");
    if (!labelled) problems.push(`no label: ${el.name}`);
  }
  for (const el of document.querySelectorAll("button, a.ss-button, summary, input, select")) {
    if (el.type === "hidden" || el.type === "checkbox") continue;
    const box = el.getBoundingClientRect();
    if (box.width && (box.height < 44 || box.width < 44)) {
      problems.push(`small target: ${el.textContent.trim() || el.name} ${box.width}x${box.height}`);
    }
  }
  const texts = "h1, h2, h3, p, dt, dd, li, label, button, a, summary, blockquote";
  for (const el of document.querySelectorAll(texts)) {
    if (!el.textContent.trim() || !el.getBoundingClientRect().width) continue;
    const style = getComputedStyle(el);
    const [a, b] = [lum(style.color), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = parseFloat(style.fontSize) >= 24
      || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      problems.push(`contrast ${ratio.toFixed(2)}: ${el.textContent.trim().slice(0, 30)}`);
    }
  }
  return problems;
}
"""


def assert_accessible(page) -> None:
    problems = page.evaluate(A11Y)
    assert problems == [], "\n".join(problems)
    # Focus is visible: the first control reached by the keyboard draws an outline.
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline


# ---------------------------------------------------------------- the walk


def test_the_customer_acts_online_and_the_desk_sees_it(
    chromium, live_server, browser_page, shots, cast, story
):
    # 1. The operator sends the options by SMS from the screen pop.
    desk = browser_page
    log_in(desk, cast.operator.username)
    desk.goto(reverse("desk-pop", kwargs={"customer_id": story.customer_id}))
    submit(desk, "#selfservice-send-sms")
    assert "SMS" in desk.inner_text(".messages")
    run_queued()  # the worker sends it
    ((to, text),) = SENT
    assert to == "+819012345678"
    url = re.search(r"https?://\S+", text).group(0)
    path = url.split("://", 1)[1].split("/", 1)[1]

    # 2. The customer opens it on his phone, in Japanese.
    context = chromium.new_context(
        viewport=PHONE, base_url=live_server.url, locale="ja-JP", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(60_000)
    phone = context.new_page()
    phone.goto("/" + path)
    shots.take(phone, WALK, 1, "link-opened")
    assert_accessible(phone)
    submit(phone, "main button[type=submit]")
    assert phone.url.endswith(reverse("selfservice-identity"))
    assert "山田" not in phone.content()  # nothing personal before the identity fact
    shots.take(phone, WALK, 2, "identity")
    assert_accessible(phone)
    phone.fill("#id_answer", "5678")
    submit(phone, "main button[type=submit]")
    assert phone.url.endswith(reverse("selfservice-home"))

    # 3. He sees the same options as the desk, with the terms he signed up to.
    shots.take(phone, WALK, 3, "options")
    assert_accessible(phone)
    body = phone.inner_text("main")
    grounds = phone.eval_on_selector_all("select[name=ground] option", "os => os.map(o => o.text)")
    for option in subscription_options(subscription=story, language="ja"):
        if option.is_exception:  # folded under "ask for an exception", as a listed ground
            assert any(g.startswith(option.label) for g in grounds)
        else:
            assert option.label in body and option.explanation in body
    assert story.terms_snapshot["text"] in body

    # 4. He records his request: dated today.
    submit(phone, "text=解約を申し出る（本日付け）")
    assert "受け付けました" in phone.inner_text("[role=status]")
    shots.take(phone, WALK, 4, "request-recorded")
    request = CancellationRequest.objects.get(subscription=story)
    assert request.requested_on == timezone.localdate()

    # 5. No calls on Sunday, and only 10:00–12:00.
    phone.click("text=曜日と時間を設定する")
    phone.wait_for_url(re.compile(r"/self/preferences/"))
    assert_accessible(phone)
    phone.check("label:has-text('日曜日') input")
    phone.select_option("#id_window_start", "10:00")
    phone.select_option("#id_window_end", "12:00")
    shots.take(phone, WALK, 5, "preferences")
    submit(phone, "main button[type=submit]")
    status = phone.inner_text("main")
    assert "お電話します" in status
    shots.take(phone, WALK, 6, "status")
    context.close()

    # 6. The desk's workspace: the request dated that day, the callback in his windows.
    case = Case.objects.get(pk=request.case_id)
    callback = Callback.objects.get(case=case)
    at = timezone.localtime(callback.scheduled_for or callback.promised_for)
    assert at.weekday() != 6
    assert dt.time(10) <= at.time() and (at + dt.timedelta(minutes=15)).time() <= dt.time(12)
    # His page said so in plain words, inside his own window.
    assert f"{at.month}/{at.day} の {at:%H:%M}〜12:00 にお電話します" in status
    desk.goto(reverse("desk-case", kwargs={"case_id": case.pk}))
    workspace = desk.inner_text("main")
    assert timezone.localdate().strftime("%Y-%m-%d") in workspace
    assert at.strftime("%Y-%m-%d %H:%M") in desk.inner_text("#case-promises")
    shots.take(desk, WALK, 7, "desk-workspace")
