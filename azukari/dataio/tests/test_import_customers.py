"""A client's customer file in CP932: checked whole, written once, idempotent."""

import io

import pytest
from django.core.management import CommandError, call_command

from azukari.customers.models import Customer, CustomerPhone
from azukari.dataio.models import ImportBatch, ImportStatus
from azukari.dataio.services import column_mapping_save, import_run, import_start
from azukari.testing.factories import CustomerFactory

# Wording is compared in English; Japanese readers are covered where a test overrides it.
pytestmark = pytest.mark.usefixtures("english")

HEADER = ["顧客番号", "姓", "名", "セイ", "メイ", "電話番号", "郵便番号", "住所"]
TAKAHASHI = [
    *("C001", "髙橋", "一郎", "ﾀｶﾊｼ", "ｲﾁﾛｳ"),
    *("０９０-１２３４-５６７８", "１５０－０００１", "東京都渋谷区神宮前１丁目①"),
]
YAMAZAKI = [
    *("C002", "山﨑", "花子", "ﾔﾏｻﾞｷ", "ﾊﾅｺ"),
    *("03-1234-5678", "5300001", "大阪市北区梅田㈱ビル"),
]
BROKEN = ["C003", "", "次郎", "ｼﾞﾛｳ", "", "123", "", ""]
FIXED = ["C003", "佐藤", "次郎", "ｻﾄｳ", "ｼﾞﾛｳ", "011-222-3333", "", ""]


def run(path, client, **kw):
    batch = import_start(actor=None, client=client, kind="customers", path=path, **kw)
    return import_run(batch=batch)


@pytest.mark.django_db
def test_cp932_file_with_a_broken_row_is_refused_whole_then_written_once(cast, client_file):
    path = client_file([HEADER, TAKAHASHI, YAMAZAKI, BROKEN])
    # Plain shift_jis could not have written this file.
    with pytest.raises(UnicodeEncodeError):
        "髙﨑①㈱".encode("shift_jis")

    refused = run(path, cast.coffee)

    assert refused.status == ImportStatus.FAILED
    assert refused.encoding == "cp932"
    where = {(e["row"], e["column"]) for e in refused.errors}
    assert where == {(4, "姓"), (4, "電話番号")}
    for error in refused.errors:
        assert error["message"]["en"] and error["message"]["ja"]
        assert error["value"] in {"", "123"}
    assert not Customer.objects.filter(client=cast.coffee).exists()
    assert not CustomerPhone.objects.exists()

    path = client_file([HEADER, TAKAHASHI, YAMAZAKI, FIXED])
    done = run(path, cast.coffee)

    assert done.status == ImportStatus.DONE, done.errors
    assert (done.created, done.updated, done.unchanged) == (3, 0, 0)
    takahashi = Customer.objects.get(client=cast.coffee, customer_number="C001")
    assert takahashi.family_name == "髙橋"
    assert takahashi.family_name_kana == "タカハシ"
    assert takahashi.given_name_kana == "イチロウ"
    assert takahashi.postcode == "150-0001"
    assert takahashi.address == "東京都渋谷区神宮前1丁目①"
    assert list(takahashi.phones.values_list("number", flat=True)) == ["+819012345678"]
    assert "たかはし" in takahashi.search_text
    yamazaki = Customer.objects.get(client=cast.coffee, customer_number="C002")
    assert (yamazaki.family_name, yamazaki.family_name_kana) == ("山﨑", "ヤマザキ")
    assert yamazaki.address == "大阪市北区梅田㈱ビル"
    assert yamazaki.postcode == "530-0001"
    before = {c.pk: c.updated_at for c in Customer.objects.all()}

    again = run(path, cast.coffee)

    assert again.status == ImportStatus.DONE, again.errors
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert {c.pk: c.updated_at for c in Customer.objects.all()} == before
    assert CustomerPhone.objects.count() == 3


@pytest.mark.django_db
def test_command_reports_rows_and_columns_and_fails(cast, client_file):
    path = client_file([HEADER, BROKEN])
    with pytest.raises(CommandError, match="2 errors"):
        call_command("import", "customers", str(path), "--client", "coffee", "--no-progress")
    assert not Customer.objects.exists()
    bar = io.StringIO()
    call_command(
        "import", "customers", str(client_file([HEADER, FIXED])), "--client", "coffee", stderr=bar
    )
    assert Customer.objects.get(customer_number="C003").family_name == "佐藤"
    assert "100%" in bar.getvalue() and "rows/s" in bar.getvalue()  # the progress bar


@pytest.mark.django_db
def test_utf8_with_bom_updates_by_customer_number_and_keeps_other_clients(cast, client_file):
    mine = CustomerFactory(client=cast.coffee, customer_number="C001", phones=["+819011112222"])
    theirs = CustomerFactory(client=cast.tea, customer_number="C001", family_name="別人")
    path = client_file([HEADER, TAKAHASHI], encoding="utf-8-sig")

    batch = run(path, cast.coffee)

    assert batch.encoding == "utf-8-sig"
    assert (batch.created, batch.updated) == (0, 1)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.family_name == "髙橋"
    assert list(mine.phones.values_list("number", flat=True)) == ["+819012345678"]
    assert theirs.family_name == "別人"


@pytest.mark.django_db
def test_repeated_customer_number_names_both_rows(cast, client_file):
    path = client_file([HEADER, TAKAHASHI, YAMAZAKI, TAKAHASHI])
    batch = run(path, cast.coffee)
    assert batch.status == ImportStatus.FAILED
    assert [(e["row"], e["column"]) for e in batch.errors] == [(4, "顧客番号")]
    assert "2" in batch.errors[0]["message"]["en"]
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_saved_column_mapping_is_used_for_later_files(cast, client_file):
    column_mapping_save(
        actor=cast.desk,
        client=cast.coffee,
        kind="customers",
        columns={"会員ID": "customer_number", "お名前（姓）": "family_name"},
    )
    path = client_file([["会員ID", "お名前（姓）"], ["M-9", "髙木"]])
    batch = run(path, cast.coffee)
    assert batch.status == ImportStatus.DONE, batch.errors
    assert Customer.objects.get(customer_number="M-9").family_name == "髙木"


@pytest.mark.django_db
def test_missing_required_column_is_reported_on_the_header_row(cast, client_file):
    batch = run(client_file([["姓"], ["山田"]]), cast.coffee)
    assert [(e["row"], e["field"]) for e in batch.errors] == [(1, "customer_number")]
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.FAILED


@pytest.mark.django_db
def test_xlsx_file_is_read(cast, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([*TAKAHASHI[:5], "09012345678", 1500001, "東京都"])
    book.save(tmp_path / "c.xlsx")
    batch = run(tmp_path / "c.xlsx", cast.coffee)
    assert batch.status == ImportStatus.DONE, batch.errors
    assert Customer.objects.get(customer_number="C001").postcode == "150-0001"
