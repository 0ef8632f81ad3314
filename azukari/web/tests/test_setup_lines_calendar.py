"""The checklist's pages for a client's phone lines and closed days, for a manager without any
admin permission. Each turns its checklist item done, stores what the screen pop and the clocks
read, refuses at the field with nothing changed, removes only what the services allow, and is
only for the managers of the client. The walk in a real browser saves its pages under
screenshots/ (git-ignored)."""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import datetime as dt

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from azukari.core.errors import DomainError, NotVisible, PermissionRefused
from azukari.org.models import Client, ClientClosedDay, ClientLine, Role, User
from azukari.org.setup import client_line_remove
from azukari.org.tests.test_calendars import login_verified
from azukari.testing.factories import UserFactory
from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    shots,
    submit,
)
from azukari.web.tests.setup_clients import (  # noqa: F401 (fixtures)
    admin_browser,
    bread,
    browser,
    item_state,
    manager,
    said,
)
from azukari.web.tests.test_setup_browser import _log_in_verified


def _field_errors(page, field: str) -> str:
    assert page.status_code == 200
    return " ".join(page.context["form"].errors.get(field, []))


def test_the_checklist_links_to_the_lines_and_calendar_pages(bread, browser):
    html = browser.get(reverse("setup-checklist", args=["bread"])).content.decode()
    for name in ("setup-lines", "setup-calendar"):
        assert reverse(name, args=["bread"]) in html, name
        assert browser.get(reverse(name, args=["bread"])).status_code == 200, name
    assert reverse("admin:org_client_change", args=[bread.pk]) not in html


def test_a_line_is_added_from_the_page_as_the_screen_pop_reads_it(cast, bread, browser):
    url = reverse("setup-lines", args=["bread"])
    assert item_state(browser, "lines") == "missing"
    ClientLine.objects.create(client=cast.coffee, number="+81120111222")
    ClientLine.objects.create(client=cast.tea, number="+81120333444")
    for number, problem in (
        ("", "This field is required."),
        ("123", "not a valid phone number"),
        ("電話", "is not a phone number"),
        ("0120-111-222", "0120-111-222 is already a line of 珈琲定期便株式会社."),
        # A client the manager does not serve is not named to them.
        ("0120-333-444", "0120-333-444 is already the line of another client."),
    ):
        page = browser.post(url, {"number": number, "label": "解約窓口"})
        assert problem in _field_errors(page, "number"), number
    assert "お茶の友株式会社" not in page.content.decode()
    assert not ClientLine.objects.filter(client=bread).exists()

    done = browser.post(url, {"number": "０１２０ー５５５ー６６６", "label": "解約窓口"})
    assert done["Location"] == url
    assert said(done) == [
        "0120-555-666 is now a line of パン工房株式会社: its calls pop this client."
    ]
    assert list(bread.lines.values_list("number", "label")) == [("+81120555666", "解約窓口")]
    assert item_state(browser, "lines") == "done"
    # The checklist writes the line as it is dialled, not as it is stored.
    checklist = browser.get(reverse("setup-checklist", args=["bread"])).content.decode()
    row = checklist.split('id="item-lines"')[1].split("</tr>")[0]
    assert "0120-555-666" in row and "+81" not in row
    html = browser.get(url).content.decode()
    assert "+81120555666" in html and "0120-555-666" in html and "解約窓口" in html
    again = browser.post(url, {"number": "0120555666", "label": ""})
    assert "already a line of パン工房株式会社" in _field_errors(again, "number")
    assert bread.lines.count() == 1


def test_a_line_is_removed_but_a_live_client_keeps_one(cast, bread, browser):
    url = reverse("setup-lines", args=["bread"])
    remove = reverse("setup-line-remove", args=["bread"])
    browser.post(url, {"number": "0120-555-666", "label": ""}, follow=True)
    first = bread.lines.get()
    Client.objects.filter(pk=bread.pk).update(went_live_on=timezone.localdate())

    refused = browser.post(remove, {"line": first.pk}, follow=True)
    assert refused.redirect_chain == [(url, 302)]
    assert (
        "パン工房株式会社 is live and this is its only line: add the new number first, "
        "or its calls would no longer be recognised." in refused.content.decode()
    )
    assert bread.lines.count() == 1

    browser.post(url, {"number": "0120-777-888", "label": "新窓口"}, follow=True)
    done = browser.post(remove, {"line": first.pk})
    assert said(done) == ["0120-555-666 is no longer a line of パン工房株式会社."]
    assert list(bread.lines.values_list("number", flat=True)) == ["+81120777888"]
    # Another client's line through this client's page: not found, and kept.
    coffee_line = ClientLine.objects.create(client=cast.coffee, number="+81120111222")
    assert browser.post(remove, {"line": coffee_line.pk}).status_code == 404
    for line in ("nosuch", ""):
        assert browser.post(remove, {"line": line}).status_code == 400, line
    assert ClientLine.objects.filter(pk=coffee_line.pk).exists()


def test_a_client_not_live_may_remove_its_last_line(bread, browser):
    browser.post(reverse("setup-lines", args=["bread"]), {"number": "0120-555-666"})
    assert item_state(browser, "lines") == "done"
    line = bread.lines.get()
    browser.post(reverse("setup-line-remove", args=["bread"]), {"line": line.pk})
    assert not bread.lines.exists()
    assert item_state(browser, "lines") == "missing"


def test_closed_days_are_added_from_the_page_by_the_calendar_rule(bread, browser):
    url = reverse("setup-calendar", args=["bread"])
    today = timezone.localdate()
    assert item_state(browser, "calendar") == "missing"
    for day, problem in (
        ("", "This field is required."),
        ("not a date", "Enter a valid date."),
        ((today - dt.timedelta(days=1)).isoformat(), "cannot be in the past"),
        ((today + dt.timedelta(days=4 * 365)).isoformat(), "At most three years ahead."),
    ):
        page = browser.post(url, {"date": day, "note": "棚卸"})
        assert problem in _field_errors(page, "date"), day
    long_note = browser.post(url, {"date": today.isoformat(), "note": "x" * 201})
    assert "at most 200 characters" in _field_errors(long_note, "note")
    assert not bread.closed_days.exists()

    stock_taking = today + dt.timedelta(days=40)
    done = browser.post(url, {"date": stock_taking.isoformat(), "note": "棚卸"})
    assert done["Location"] == url
    assert said(done) == [
        f"{stock_taking.isoformat()} is now a closed day of パン工房株式会社: "
        "its clocks stop that day."
    ]
    assert list(bread.closed_days.values_list("date", "note")) == [(stock_taking, "棚卸")]
    assert item_state(browser, "calendar") == "done"
    assert (
        "1 closed days ahead"
        in browser.get(reverse("setup-checklist", args=["bread"])).content.decode()
    )
    again = browser.post(url, {"date": stock_taking.isoformat(), "note": ""})
    assert "already a closed day" in _field_errors(again, "date")
    assert bread.closed_days.count() == 1
    html = browser.get(url).content.decode()
    assert stock_taking.isoformat() in html and "棚卸" in html


def test_a_closed_day_ahead_is_removed_and_a_past_one_stays(cast, bread, browser):
    url = reverse("setup-calendar", args=["bread"])
    remove = reverse("setup-closed-day-remove", args=["bread"])
    today = timezone.localdate()
    ahead = today + dt.timedelta(days=10)
    browser.post(url, {"date": ahead.isoformat(), "note": ""}, follow=True)
    # A day that was closed before (the service never adds a past one).
    past = ClientClosedDay.objects.create(
        client=bread, date=today - dt.timedelta(days=3), note="年末"
    )
    html = browser.get(url).content.decode()
    assert f'name="closed_day" value="{past.pk}"' not in html  # no button to remove it
    assert "Past closed days stay as they were" in html

    refused = browser.post(remove, {"closed_day": past.pk}, follow=True)
    assert refused.redirect_chain == [(url, 302)]
    assert "A closed day in the past stays: clocks already ran on it." in refused.content.decode()
    assert ClientClosedDay.objects.filter(pk=past.pk).exists()

    day = bread.closed_days.get(date=ahead)
    done = browser.post(remove, {"closed_day": day.pk})
    assert done["Location"] == url
    assert said(done) == [f"{ahead.isoformat()} is no longer a closed day of パン工房株式会社."]
    assert list(bread.closed_days.values_list("date", flat=True)) == [past.date]
    assert item_state(browser, "calendar") == "missing"
    coffee_day = ClientClosedDay.objects.create(client=cast.coffee, date=ahead)
    assert browser.post(remove, {"closed_day": coffee_day.pk}).status_code == 404
    for value in ("nosuch", ""):
        assert browser.post(remove, {"closed_day": value}).status_code == 400, value
    assert ClientClosedDay.objects.filter(pk=coffee_day.pk).exists()


def test_the_pages_read_in_japanese(bread, browser, manager):
    User.objects.filter(pk=manager.pk).update(language="ja")
    html = browser.get(reverse("setup-lines", args=["bread"])).content.decode()
    assert "電話回線を追加" in html  # Add a line
    html = browser.get(reverse("setup-calendar", args=["bread"])).content.decode()
    assert "休業日を追加" in html  # Add a closed day


PAGES = ("setup-lines", "setup-calendar")
REMOVALS = ("setup-line-remove", "setup-closed-day-remove")


def test_the_pages_are_for_the_managers_of_the_client(cast, bread):
    coffee_line = ClientLine.objects.create(client=cast.coffee, number="+81120111222")
    coffee_day = ClientClosedDay.objects.create(
        client=cast.coffee, date=timezone.localdate() + dt.timedelta(days=5)
    )
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    posts = {
        "setup-lines": {"number": "0120-999-000"},
        "setup-calendar": {"date": tomorrow},
        "setup-line-remove": {"line": coffee_line.pk},
        "setup-closed-day-remove": {"closed_day": coffee_day.pk},
    }
    operator = Browser()
    login_verified(operator, cast.operator)
    for name in PAGES:
        assert operator.get(reverse(name, args=["coffee"])).status_code == 403, name
    for name, data in posts.items():
        assert operator.post(reverse(name, args=["coffee"]), data).status_code == 403, name
    other = UserFactory(
        username="mgr_tea", role=Role.MANAGER, home_site=cast.osaka, clients=[cast.tea]
    )
    outsider = Browser()
    login_verified(outsider, other)
    for name in PAGES:
        assert outsider.get(reverse(name, args=["bread"])).status_code == 404, name
        assert outsider.get(reverse(name, args=["nosuch"])).status_code == 404, name
    for name, data in posts.items():
        for code in ("bread", "coffee"):
            assert outsider.post(reverse(name, args=[code]), data).status_code == 404, name
    approver = Browser()
    login_verified(approver, cast.approver)
    for name in PAGES:
        assert approver.get(reverse(name, args=["coffee"])).status_code == 404, name
    for name, data in posts.items():
        assert approver.post(reverse(name, args=["coffee"]), data).status_code == 404, name
    anonymous = Browser()
    assert anonymous.get(reverse("setup-lines", args=["bread"])).status_code == 302
    assert ClientLine.objects.filter(number="+81120999000").exists() is False
    assert list(ClientLine.objects.values_list("pk", flat=True)) == [coffee_line.pk]
    assert list(ClientClosedDay.objects.values_list("pk", flat=True)) == [coffee_day.pk]


def test_the_wrong_method_is_refused(bread, browser):
    for name in PAGES:
        assert browser.put(reverse(name, args=["bread"])).status_code == 405, name
        assert browser.delete(reverse(name, args=["bread"])).status_code == 405, name
    for name in REMOVALS:
        assert browser.get(reverse(name, args=["bread"])).status_code == 405, name


def test_client_line_remove_is_for_the_managers_of_the_client(cast, manager):
    tea_line = ClientLine.objects.create(client=cast.tea, number="+81120333444")
    with pytest.raises(PermissionRefused):
        client_line_remove(actor=cast.operator, line=tea_line)
    with pytest.raises(NotVisible):
        client_line_remove(actor=manager, line=tea_line)
    assert ClientLine.objects.filter(pk=tea_line.pk).exists()
    Client.objects.filter(pk=cast.tea.pk).update(went_live_on=timezone.localdate())
    with pytest.raises(DomainError) as only:
        client_line_remove(actor=None, line=tea_line)  # the command line: the same rule
    assert only.value.field == "lines"
    ClientLine.objects.create(client=cast.tea, number="+81120333555")
    client_line_remove(actor=None, line=tea_line)
    assert list(cast.tea.lines.values_list("number", flat=True)) == ["+81120333555"]


def _admin_client_form(client: Client, inlines: dict) -> dict:
    """The admin's client page posted back as it is, with `inlines` for its lines and closed
    days (none unless given)."""
    return {
        "code": client.code,
        "name": client.name,
        "reopen_window_days": client.reopen_window_days,
        "inquiry_due_hours": client.inquiry_due_hours,
        "callback_max_attempts": client.callback_max_attempts,
        "callback_retry_minutes": client.callback_retry_minutes,
        "unreachable_next_step": client.unreachable_next_step,
        "inquiry_remind_hours": client.inquiry_remind_hours,
        "is_active": "on",
        "lines-TOTAL_FORMS": 0,
        "lines-INITIAL_FORMS": 0,
        "closed_days-TOTAL_FORMS": 0,
        "closed_days-INITIAL_FORMS": 0,
        **inlines,
    }


def test_the_admin_keeps_a_live_clients_last_line_too(cast, bread, admin_browser):
    line = ClientLine.objects.create(client=bread, number="+81120555666")
    Client.objects.filter(pk=bread.pk).update(went_live_on=timezone.localdate())
    form = _admin_client_form(
        bread,
        {
            "lines-TOTAL_FORMS": 1,
            "lines-INITIAL_FORMS": 1,
            "lines-0-id": line.pk,
            "lines-0-client": bread.pk,
            "lines-0-number": "+81120555666",
            "lines-0-label": "",
            "lines-0-DELETE": "on",
        },
    )
    url = reverse("admin:org_client_change", args=[bread.pk])
    refused = admin_browser.post(url, form)
    assert refused.status_code == 200
    assert "this is its only line" in refused.content.decode()
    assert ClientLine.objects.filter(pk=line.pk).exists()
    del form["lines-0-DELETE"]
    assert admin_browser.post(url, form).status_code == 302  # an edit that keeps it is saved


def test_the_admin_keeps_a_past_closed_day_too(cast, bread, admin_browser):
    today = timezone.localdate()
    past = ClientClosedDay.objects.create(client=bread, date=today - dt.timedelta(days=3))
    form = _admin_client_form(
        bread,
        {
            "closed_days-TOTAL_FORMS": 1,
            "closed_days-INITIAL_FORMS": 1,
            "closed_days-0-id": past.pk,
            "closed_days-0-client": bread.pk,
            "closed_days-0-date": past.date.isoformat(),
            "closed_days-0-note": "",
        },
    )
    url = reverse("admin:org_client_change", args=[bread.pk])
    for change in (
        {"closed_days-0-DELETE": "on"},
        {"closed_days-0-date": (today + dt.timedelta(days=3)).isoformat()},
    ):
        refused = admin_browser.post(url, {**form, **change})
        assert refused.status_code == 200, change
        assert "A closed day in the past stays" in refused.content.decode(), change
    assert list(bread.closed_days.values_list("date", flat=True)) == [past.date]
    assert admin_browser.post(url, {**form, "closed_days-0-note": "年末"}).status_code == 302
    assert bread.closed_days.get().note == "年末"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_gives_the_client_a_line_and_a_closed_day_in_the_browser(
    cast, manager, bread, browser_page, shots
):
    page = browser_page
    User.objects.filter(pk=manager.pk).update(language="ja")
    _log_in_verified(page, User.objects.get(pk=manager.pk))
    page.goto(reverse("setup-checklist", args=["bread"]))
    submit(page, "#item-lines a")
    page.fill("input[name=number]", "0120-555-666")
    page.fill("input[name=label]", "解約窓口")
    submit(page, "#line-form button[type=submit]")
    assert "0120-555-666 を" in page.inner_text("body")
    assert page.inner_text("#client-lines").count("0120-555-666") == 1
    shots.take(page, "setup-lines", 1, "line-added")
    page.fill("input[name=number]", "123")
    submit(page, "#line-form button[type=submit]")
    assert "有効な電話番号ではありません" in page.inner_text("#line-form")
    shots.take(page, "setup-lines", 2, "refused")

    page.goto(reverse("setup-checklist", args=["bread"]))
    submit(page, "#item-calendar a")
    day = timezone.localdate() + dt.timedelta(days=30)
    page.fill("input[name=date]", day.isoformat())
    page.fill("input[name=note]", "棚卸")
    submit(page, "#closed-day-form button[type=submit]")
    assert "棚卸" in page.inner_text("#closed-days")
    shots.take(page, "setup-calendar", 1, "closed-day-added")
    page.goto(reverse("setup-checklist", args=["bread"]))
    assert page.get_attribute("#item-lines", "class") == "done"
    assert page.get_attribute("#item-calendar", "class") == "done"
