"""Exports: what Excel opens, what CP932 cannot hold, who exported, and bounded memory."""

import codecs
import csv
import io
import os
import subprocess
import sys
import textwrap

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from azukari.audit.models import AccessAction, AccessEvent
from azukari.customers.models import Customer
from azukari.dataio.exports import SPECS, csv_stream, export_header, export_rows, xlsx_write
from azukari.dataio.tests.test_import_killed import database_url
from azukari.demo.rows import Ids, insert
from azukari.testing.factories import CustomerFactory


@pytest.mark.django_db
def test_customer_csv_opens_in_excel_and_is_audited_per_customer(cast, tmp_path):
    a = CustomerFactory(client=cast.coffee, family_name="髙橋", customer_number="C1")
    CustomerFactory(client=cast.coffee, family_name="𠮷田", customer_number="C2")
    CustomerFactory(client=cast.tea, family_name="別人", customer_number="T1")
    out = tmp_path / "c.csv"

    call_command(
        "export", "customers", "--client", "coffee", "--user", "desk_sapporo", "--output", out
    )

    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == export_header("customers")
    assert [r[0] for r in rows[1:]] == ["C1", "C2"]
    assert rows[1][1] == "髙橋" and rows[2][1] == "𠮷田"
    events = AccessEvent.objects.filter(action=AccessAction.EXPORT, actor=cast.desk)
    assert events.count() == 2
    assert a.pk in set(events.values_list("customer_ref", flat=True))


@pytest.mark.django_db
def test_cp932_keeps_its_own_characters_and_marks_what_it_lacks(cast):
    header = ["姓"]
    data = b"".join(csv_stream(header, [["髙橋①㈱﨑"], ["𠮷田"]], encoding="cp932"))
    assert not data.startswith(codecs.BOM_UTF8)
    assert data.decode("cp932").splitlines() == ["姓", "髙橋①㈱﨑", "〓田"]


@pytest.mark.django_db
def test_outsider_cannot_export_another_clients_customers(cast):
    from azukari.core.errors import NotVisible

    CustomerFactory(client=cast.coffee)
    with pytest.raises(NotVisible):
        list(export_rows(viewer=cast.outsider, client=cast.coffee, what="customers"))
    assert not AccessEvent.objects.filter(action=AccessAction.EXPORT).exists()


@pytest.mark.django_db
def test_xlsx_past_the_sheet_limit_continues_on_a_second_sheet(cast, tmp_path):
    path = tmp_path / "x.xlsx"
    sheets = xlsx_write(["n"], ([i] for i in range(5)), path, sheet_title="customers", max_rows=4)
    assert sheets == 2
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["customers", "customers (2)"]
    assert [r[0] for r in book["customers"].iter_rows(values_only=True)] == ["n", 0, 1, 2]
    assert [r[0] for r in book["customers (2)"].iter_rows(values_only=True)] == ["n", 3, 4]


def test_xlsx_keeps_text_that_looks_like_a_formula_as_text(tmp_path):
    path = tmp_path / "f.xlsx"
    xlsx_write(["summary"], [['=HYPERLINK("http://example.com")'], ["ok"]], path, sheet_title="c")
    cells = [row[0] for row in openpyxl.load_workbook(path)["c"].iter_rows(min_row=2)]
    assert [(c.value, c.data_type) for c in cells] == [
        ('=HYPERLINK("http://example.com")', "s"),
        ("ok", "s"),
    ]


@pytest.mark.django_db(transaction=True)
def test_export_of_200000_rows_keeps_memory_bounded(cast, tmp_path):
    n = 200_000
    now = timezone.now()
    ids = Ids().take(Customer, n)
    insert(
        Customer,
        [
            {
                "id": pk,
                "client_id": cast.coffee.pk,
                "customer_number": f"M{pk:08d}",
                "family_name": "髙橋",
                "given_name": "一郎",
                "family_name_kana": "タカハシ",
                "address": "東京都渋谷区神宮前1丁目①" * 3,
                "created_at": now,
                "updated_at": now,
            }
            for pk in ids
        ],
    )
    out = tmp_path / "big.csv"
    script = textwrap.dedent(
        f"""
        import django
        django.setup()
        from django.core.management import call_command
        call_command("export", "customers", "--client", "coffee", "--user", "desk_sapporo",
                     "--output", {str(out)!r})
        # This process's own peak (ru_maxrss would carry the forking test process's over exec).
        with open("/proc/self/status") as status:
            print("RSS", next(l.split()[1] for l in status if l.startswith("VmHWM:")))
        """
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    [peak_kb] = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("RSS ")]
    peak_mb = int(peak_kb) / 1024
    lines = sum(1 for _ in out.open(encoding="utf-8-sig"))
    assert lines == n + 1
    # The process at rest takes about 60 MB and its export's peak measured under 70 MB on
    # SQLite: a generous bound that holding the 200,000 rows would still break.
    assert peak_mb < 250, f"peak RSS {peak_mb:.0f} MB"
    assert AccessEvent.objects.filter(action=AccessAction.EXPORT).count() == n


@pytest.mark.django_db
def test_cases_contacts_and_audit_export_with_codes_and_their_own_audit(cast, tmp_path):
    from azukari.cases.models import Direction
    from azukari.cases.services import case_open, contact_log
    from azukari.reports.services import acw_code_create, contact_code, reason_code_create

    customer = CustomerFactory(client=cast.coffee, customer_number="C1", family_name="𠮷田")
    contact = contact_log(
        actor=cast.operator,
        client=cast.coffee,
        customer=customer,
        direction=Direction.INBOUND,
        caller_number="+819012345678",
        summary="解約希望 𠮷田様",
    )
    case = case_open(
        contact=contact, actor=cast.operator, kind="cancellation", subject="解約の申出"
    )
    contact_code(
        actor=cast.operator,
        contact=contact,
        reason_code=reason_code_create(actor=None, client=cast.coffee, code="cancel", label="解約"),
        acw_code=acw_code_create(actor=cast.sv, client=cast.coffee, code="done", label="完了"),
    )
    other = CustomerFactory(client=cast.tea, customer_number="T1")
    contact_log(actor=cast.outsider, client=cast.tea, customer=other, summary="別の会社")

    def export(what, *extra):
        out = tmp_path / f"{what}.{'xlsx' if 'xlsx' in extra else 'csv'}"
        call_command(
            "export", what, "--client", "coffee", "--user", "desk_sapporo", "--output", out, *extra
        )
        return out

    contacts = export("contacts", "--encoding", "cp932").read_bytes().decode("cp932")
    rows = list(csv.reader(io.StringIO(contacts)))
    assert rows[0] == export_header("contacts")
    assert len(rows) == 2
    by_field = dict(zip([f for f, _label in SPECS["contacts"].columns], rows[1], strict=True))
    assert by_field["customer__customer_number"] == "C1"
    assert by_field["case_id"] == str(case.pk)
    assert by_field["coding__reason_code__code"] == "cancel"
    assert by_field["coding__acw_code__code"] == "done"
    assert by_field["summary"] == "解約希望 〓田様"  # 𠮷 is not in CP932: the stated rule

    book = openpyxl.load_workbook(export("cases", "--format", "xlsx"), read_only=True)
    sheet = list(book["cases"].iter_rows(values_only=True))
    assert list(sheet[0]) == export_header("cases")
    assert [r[0] for r in sheet[1:]] == [case.pk]
    assert sheet[1][3] == "解約の申出"

    exports = AccessEvent.objects.filter(action=AccessAction.EXPORT, actor=cast.desk)
    assert set(exports.values_list("object_ref", flat=True)) == {"contacts", "cases"}
    assert set(exports.values_list("customer_ref", flat=True)) == {customer.pk}

    audit = export("audit").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(audit)))
    assert rows[0] == export_header("audit")
    assert len(rows) - 1 == AccessEvent.objects.filter(client=cast.coffee).count() >= 2
    assert {r[2] for r in rows[1:]} >= {"desk_sapporo"}
    assert not AccessEvent.objects.filter(client=cast.tea, action=AccessAction.EXPORT).exists()


@pytest.mark.django_db
def test_desk_downloads_an_export_and_others_cannot(cast, client):
    CustomerFactory(client=cast.coffee, family_name="髙橋", customer_number="C1")
    client.force_login(cast.desk)

    response = client.get("/exports/coffee/?what=customers")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert data.startswith(codecs.BOM_UTF8) and [r[0] for r in rows[1:]] == ["C1"]
    assert AccessEvent.objects.filter(action=AccessAction.EXPORT, actor=cast.desk).count() == 1
    cp932 = client.get("/exports/coffee/?what=customers&encoding=cp932")
    assert "髙橋" in b"".join(cp932.streaming_content).decode("cp932")
    workbook = client.get("/exports/coffee/?what=cases&format=xlsx")
    assert b"".join(workbook.streaming_content).startswith(b"PK")
    assert client.get("/exports/coffee/?what=secrets").status_code == 404
    assert client.post("/exports/coffee/?what=customers").status_code == 405

    client.force_login(cast.operator)
    assert client.get("/exports/coffee/?what=customers").status_code == 403
    client.force_login(cast.outsider)  # an operator: refused by role, whatever the code
    assert client.get("/exports/coffee/?what=customers").status_code == 403
    assert client.get("/exports/nosuch/?what=customers").status_code == 403
    assert AccessEvent.objects.filter(action=AccessAction.EXPORT).count() == 2
