"""What customers do on the self-service pages is counted apart from calls: on the board, in
the monthly report, and never in the call-based KPIs (docs/kpis.md)."""

import datetime as dt
import html

import pytest
import time_machine

from azukari.cases.models import Case, Contact, Direction, Inquiry
from azukari.cases.services import case_open, case_park, case_resolve, contact_log
from azukari.core.businesstime import TOKYO
from azukari.reports import kpis
from azukari.reports.selectors import monthly_report
from azukari.selfservice.services import selfservice_settings_ensure
from azukari.testing.factories import CustomerFactory

pytestmark = pytest.mark.usefixtures("english")

MONDAY = dt.datetime(2026, 11, 9, 10, 0, tzinfo=TOKYO)
NOW = dt.datetime(2026, 11, 11, 10, 0, tzinfo=TOKYO)
SINCE = dt.datetime(2026, 11, 1, tzinfo=TOKYO)
UNTIL = dt.datetime(2026, 12, 1, tzinfo=TOKYO)


@pytest.fixture
def mixed(cast):
    """Coffee's week: two calls (one resolved on the call, one parked), three requests the
    customers recorded online (each handed to the desk) and one online preference change."""
    customer = CustomerFactory(client=cast.coffee)
    online_user = selfservice_settings_ensure(client=cast.coffee).service_user

    def opened(who, direction):
        contact = contact_log(actor=who, client=cast.coffee, customer=customer, direction=direction)
        return case_open(contact=contact, actor=who, kind="billing", subject=direction)

    def park(case, who):
        case_park(
            case=case,
            version=case.version,
            actor=who,
            reason="sv_callback",
            team=cast.sapporo_desk,
            due_at=MONDAY + dt.timedelta(days=5),
        )

    with time_machine.travel(MONDAY, tick=False):
        on_call = opened(cast.operator, Direction.INBOUND)
        case_resolve(case=on_call, version=on_call.version, actor=cast.operator, outcome="done")
        park(opened(cast.operator, Direction.INBOUND), cast.operator)
        for _ in range(3):
            park(opened(online_user, Direction.ONLINE), online_user)
        contact_log(
            actor=online_user, client=cast.coffee, customer=customer, direction=Direction.ONLINE
        )


def _first_direction(case: Case) -> str:
    return Contact.objects.filter(case=case).order_by("started_at", "pk")[0].direction


@pytest.mark.django_db
def test_call_kpis_leave_out_requests_recorded_online(cast, mixed):
    cases = Case.objects.visible_to(cast.sv).filter(client=cast.coffee)
    inquiries = Inquiry.objects.visible_to(cast.sv).filter(client=cast.coffee)
    figures = kpis.case_kpis(cases=cases, inquiries=inquiries, since=SINCE, until=UNTIL, now=NOW)

    rows = list(cases.filter(opened_at__gte=SINCE, opened_at__lt=UNTIL))
    calls = [c for c in rows if _first_direction(c) != Direction.ONLINE]
    fcr = [c for c in calls if c.parked_at is None and c.resolved_at and not c.reopen_count]
    parked = [c for c in calls if c.parked_at is not None]
    assert (figures.first_contact.part, figures.first_contact.whole) == (len(fcr), len(calls))
    assert (figures.azukari.part, figures.azukari.whole) == (len(parked), len(calls))
    # 1 of 2 calls; counting the online requests would read 1 of 5 and 4 of 5.
    assert (figures.first_contact.percent, figures.azukari.percent) == (50.0, 50.0)
    assert (figures.opened, figures.opened_online) == (len(rows), len(rows) - len(calls)) == (5, 3)
    # The online azukari still wait for the center: they count in ages and due times.
    assert figures.ages.cases == 4


@pytest.mark.django_db
def test_monthly_report_and_board_count_self_service_apart_from_calls(cast, mixed, client):
    report = monthly_report(
        viewer=cast.sv,
        client=cast.coffee,
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 12, 1),
        now=NOW,
    )
    figures = {str(label): value for label, value, _unit in report.figures}
    assert figures["Calls offered"] == 2
    assert figures["Self-service requests and questions (not calls)"] == 4
    assert figures["Cases opened online (self-service)"] == 3
    assert figures["First-contact resolution"] == 50.0

    cast.desk.language = "en"
    cast.desk.save(update_fields=["language"])
    client.force_login(cast.desk)
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/backlog/?client={cast.coffee.pk}")
    text = html.unescape(page.content.decode())
    card = text[text.index('id="kpi-channels"') :]
    card = card[: card.index("</div>")]
    assert "Self-service in the last 30 days" in card
    assert "<strong>4</strong> self-service requests (not calls)" in card
    assert "calls" not in card.replace("(not calls)", "")
