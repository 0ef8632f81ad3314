"""A center manager walks a personal-data incident from discovery to closed in a real browser:
records the discovery, notifies the client company, is refused a preliminary report dated in
the future, files both reports, closes it, and finds it in the register next to an overdue
incident whose reminder reached nobody. Each page is saved under screenshots/."""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.audit.models import (
    AccessAction,
    AccessEvent,
    Incident,
    IncidentKind,
    IncidentStatus,
    IncidentStep,
)
from azukari.audit.reminders import incident_reminders_send
from azukari.audit.services import incident_record
from azukari.org.models import Role
from azukari.testing.factories import UserFactory
from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    log_in,
    shots,
    submit,
)
from azukari.web.tests.test_security import _code as totp_code

pytestmark = pytest.mark.browser


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr_coffee", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )


@pytest.fixture
def overdue(cast, manager) -> Incident:
    """An older incident nobody could be reminded of: the manager had no e-mail address."""
    incident = incident_record(
        by=manager,
        client=cast.coffee,
        title="配送ラベルの誤送付",
        kind=IncidentKind.LEAK,
        discovered_at=timezone.now() - dt.timedelta(days=7),
        affected_count=12,
    )
    incident_reminders_send()
    return incident


def test_a_manager_walks_an_incident_from_discovery_to_closed(
    browser_page, shots, cast, manager, overdue
):
    page = browser_page
    device = TOTPDevice.objects.create(user=manager, name="app", confirmed=True)
    log_in(page, manager.username)
    page.wait_for_url(re.compile(r"/account/2fa/"))
    page.fill("input[name=token]", totp_code(device))
    submit(page, "main button[type=submit]")

    # The register, reached from the navigation: the older incident is overdue, in red, with
    # the reminder that reached nobody.
    page.click("header nav details.more summary")
    page.click(f"header nav a[href='{reverse('incidents')}']")
    page.wait_for_url(re.compile(r"/incidents/$"))
    row = page.locator("tbody tr", has_text="配送ラベルの誤送付")
    assert row.locator(".flag").count() >= 2
    assert "未送信（宛先なし）" in row.inner_text()
    shots.take(page, "incident", 1, "register-before")

    # Discovery.
    page.click(f"a[href='{reverse('incident-new')}']")
    page.select_option("select[name=client]", str(cast.coffee.pk))
    page.fill("input[name=title]", "顧客リストの誤送信")
    page.select_option("select[name=kind]", IncidentKind.LEAK)
    discovered = timezone.now() - dt.timedelta(days=2)
    page.fill("input[name=discovered_at]", _local(discovered))
    page.fill("input[name=affected_count]", "120")
    page.fill("textarea[name=description]", "注文一覧を別の顧客にメールで送信した。")
    shots.take(page, "incident", 2, "discovery-form")
    submit(page, "main form button[type=submit]")
    incident = Incident.objects.get(title="顧客リストの誤送信")
    assert page.url.endswith(reverse("incident", args=[incident.pk]))
    assert "報告期限が進行" in page.inner_text(".messages")
    shots.take(page, "incident", 3, "recorded")

    # The client company first.
    page.fill("input[name=step-notified_at]", _local(discovered + dt.timedelta(hours=3)))
    page.fill("input[name=step-whom]", "珈琲定期便 コンプライアンス部 佐藤様")
    page.select_option("select[name=step-how]", "phone")
    submit(page, "#next-step button[type=submit]")
    assert "委託元企業への通知を記録しました" in page.inner_text(".messages")

    # A report dated in the future is refused with the reason, and nothing changes.
    page.fill("input[name=step-reported_at]", _local(timezone.now() + dt.timedelta(days=1)))
    page.fill("input[name=step-reference]", "PPC-2026-0001")
    submit(page, "#next-step button[type=submit]")
    assert "未来の日時は入力できません" in page.inner_text("#next-step")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLIENT_NOTIFIED
    shots.take(page, "incident", 4, "refused-future-date")

    page.fill("input[name=step-reported_at]", _local(discovered + dt.timedelta(days=1)))
    submit(page, "#next-step button[type=submit]")
    assert "速報を記録しました" in page.inner_text(".messages")
    page.fill("input[name=step-reported_at]", _local(timezone.now() - dt.timedelta(hours=1)))
    page.fill("input[name=step-reference]", "PPC-2026-0001-F")
    submit(page, "#next-step button[type=submit]")
    assert "確報を記録しました" in page.inner_text(".messages")
    shots.take(page, "incident", 5, "final-reported")

    # A correction adds to the history instead of rewriting it.
    page.click("main details summary")
    page.fill("input[name=fix-affected_count]", "134")
    page.fill("textarea[name=fix-reason]", "2通目の誤送信が判明")
    submit(page, "main details form button[type=submit]")
    assert "120 → 134" in page.inner_text("main")

    page.fill("textarea[name=step-note]", "委員会の受領を確認")
    submit(page, "#next-step button[type=submit]")
    assert "インシデントを完了にしました" in page.inner_text(".messages")
    assert page.locator("#next-step").count() == 0
    shots.take(page, "incident", 6, "closed")

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED and incident.affected_count == 134
    assert list(incident.entries.values_list("step", flat=True)) == [
        IncidentStep.RECORDED,
        IncidentStep.CLIENT_NOTIFIED,
        IncidentStep.PRELIMINARY,
        IncidentStep.FINAL,
        IncidentStep.CORRECTED,
        IncidentStep.CLOSED,
    ]
    events = AccessEvent.objects.filter(
        action=AccessAction.INCIDENT, object_ref__startswith=f"{incident.pk}/"
    )
    assert events.count() == 6 and set(events.values_list("actor_id", flat=True)) == {manager.pk}

    page.goto(reverse("incidents"))
    assert "顧客リストの誤送信" in page.inner_text("tbody")
    shots.take(page, "incident", 7, "register-after")


def test_a_manager_edits_a_clients_harassment_criteria(browser_page, shots, cast, manager):
    from azukari.floor.models import HarassmentCriterion
    from azukari.floor.tests.factories import criterion

    abuse = criterion(cast.coffee)
    page = browser_page
    device = TOTPDevice.objects.create(user=manager, name="app", confirmed=True)
    log_in(page, manager.username)
    page.wait_for_url(re.compile(r"/account/2fa/"))
    page.fill("input[name=token]", totp_code(device))
    submit(page, "main button[type=submit]")

    page.click("header nav details.more summary")
    page.click(f"header nav a[href='{reverse('criteria')}']")
    page.wait_for_url(re.compile(r"/floor/criteria/$"))
    shots.take(page, "criteria", 1, "clients")
    page.click(f"a[href='{reverse('criteria-edit', args=['coffee'])}']")
    page.wait_for_url(re.compile(r"/floor/criteria/coffee/$"))

    page.click("#add-criterion summary")
    page.fill("input[name=new-code]", "threat")
    page.fill("input[name=new-label]", "危害を加える旨の発言")
    page.fill("textarea[name=new-description]", "身体や家族への危害をほのめかす発言があった場合。")
    submit(page, "#add-criterion form button[type=submit]")
    assert "基準を追加しました" in page.inner_text(".messages")

    card = page.locator(f"#criterion-{abuse.code}")
    card.locator(f"input[name=c{abuse.pk}-label]").fill("一度注意した後も続く暴言")
    card.locator(f"input[name=c{abuse.pk}-is_active]").uncheck()
    submit(page, f"#criterion-{abuse.code} button[type=submit]")
    assert "基準を保存しました" in page.inner_text(".messages")
    page.click(f"#criterion-{abuse.code} details summary")
    assert "一度注意した後も続く暴言" in page.inner_text(f"#criterion-{abuse.code} details")
    shots.take(page, "criteria", 2, "edited")

    abuse.refresh_from_db()
    assert abuse.label == "一度注意した後も続く暴言" and not abuse.is_active
    threat = HarassmentCriterion.objects.get(client=cast.coffee, code="threat")
    assert threat.is_active and threat.label == "危害を加える旨の発言"
    # Both changes are events of the client's audit chain, by the manager, from the browser.
    changes = AccessEvent.objects.filter(client=cast.coffee, action=AccessAction.CRITERION)
    assert sorted(e.purpose.split()[0] for e in changes) == ["abuse", "threat"]
    assert {(e.actor_id, e.ip) for e in changes} == {(manager.pk, "127.0.0.1")}
