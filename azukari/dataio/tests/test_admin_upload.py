"""Uploading from the admin page: the first rows previewed, a list per column, the mapping
remembered per file layout; the worker imports the file, the page shows the outcome."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from azukari.customers.models import Customer
from azukari.dataio.models import ColumnMapping, ImportBatch, ImportStatus
from azukari.org.models import Role
from azukari.org.tests.test_calendars import login_verified
from azukari.testing.factories import UserFactory


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="manager",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        is_staff=True,
    )


@pytest.mark.django_db(transaction=True)
def test_upload_runs_in_the_worker_and_shows_errors_by_row(
    cast, manager, client, settings, monkeypatch, tmp_path
):
    settings.DATA_DIR = tmp_path
    # The worker runs the queued task inline, as the other apps' tests do.
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)
    login_verified(client, manager)
    body = "顧客番号,姓,電話番号\r\nC1,髙橋,090-1234-5678\r\nC2,,123\r\n".encode("cp932")
    response = _map(_upload(client, cast.coffee, body), client)
    assert response.status_code == 302, response.content[:500]
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED
    assert batch.created_by == manager
    assert not Customer.objects.exists()
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "123" in page.content.decode()
    assert {(e["row"], e["column"]) for e in batch.errors} == {(3, "姓"), (3, "電話番号")}
    client.force_login(cast.outsider)
    assert client.get(response["Location"]).status_code in (302, 403)


UPLOAD = "/admin/dataio/importbatch/upload/"


def _upload(browser, client, body: bytes, name: str = "c.csv"):
    page = browser.post(
        UPLOAD, {"client": client.pk, "kind": "customers", "file": SimpleUploadedFile(name, body)}
    )
    assert page.status_code == 200, page.content[:500]
    return page


def _chosen(page) -> dict[str, str]:
    """The field each column's list starts on."""
    html = page.content.decode()
    chosen = {}
    for select in re.findall(r'<select name="(col_\d+)".*?</select>', html, flags=re.S):
        block = html.split(f'<select name="{select}"')[1].split("</select>")[0]
        picked = re.search(r'<option value="([^"]*)" selected', block)
        chosen[select] = picked.group(1) if picked else ""
    return chosen


def _map(page, browser, **columns):
    html = page.content.decode()
    state = re.search(r'name="state" value="([^"]+)"', html).group(1)
    data = {"step": "mapping", "state": state, **_chosen(page), **columns}
    return browser.post(UPLOAD, data)


@pytest.mark.django_db(transaction=True)
def test_columns_are_mapped_from_lists_a_full_name_split_and_the_layout_remembered(
    cast, manager, client, settings, monkeypatch, tmp_path
):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)
    login_verified(client, manager)
    rows = [
        "会員ID,お客様氏名,フリガナ,TEL",
        "K1,髙橋 一郎,タカハシ　イチロウ,090-1111-2222",
        "K2,山﨑花子,ヤマザキ ハナコ,090-3333-4444",
    ]
    body = "\r\n".join(rows).encode("cp932")
    page = _upload(client, cast.coffee, body)
    html = page.content.decode()
    assert "髙橋 一郎" in html and "CP932" in html.upper()  # the first rows, decoded
    assert _chosen(page)["col_3"] == ""  # "TEL" is none of the usual names
    # A required field left out: refused, nothing imported, the lists kept.
    refused = _map(page, client, col_1="full_name")
    assert refused.status_code == 200 and not ImportBatch.objects.exists()
    done = _map(
        page,
        client,
        col_0="customer_number",
        col_1="full_name",
        col_2="full_name_kana",
        col_3="phone",
    )
    assert done.status_code == 302, done.content[:800]
    first = Customer.objects.get(customer_number="K1")
    assert (first.family_name, first.given_name) == ("髙橋", "一郎")
    assert (first.family_name_kana, first.given_name_kana) == ("タカハシ", "イチロウ")
    second = Customer.objects.get(customer_number="K2")
    assert (second.family_name, second.given_name) == ("山﨑花子", "")
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.DONE and batch.warning_count == 1
    assert batch.warnings[0]["row"] == 3 and batch.warnings[0]["column"] == "お客様氏名"
    detail = client.get(done["Location"]).content.decode()
    assert 'id="import-warnings"' in detail and "山﨑花子" in detail
    # The next file of the same layout starts on the saved columns; another layout does not.
    again = _upload(client, cast.coffee, body)
    assert _chosen(again) == {
        "col_0": "customer_number",
        "col_1": "full_name",
        "col_2": "full_name_kana",
        "col_3": "phone",
    }
    other = _upload(client, cast.coffee, "会員ID,TEL\r\nK3,090-5555-6666\r\n".encode())
    assert _chosen(other) == {"col_0": "", "col_1": ""}
    # Another client's managers do not see this client's saved columns.
    assert ColumnMapping.objects.get().client == cast.coffee


@pytest.mark.django_db(transaction=True)
def test_a_tampered_or_foreign_mapping_step_is_refused(
    cast, manager, client, settings, monkeypatch, tmp_path
):
    settings.DATA_DIR = tmp_path
    login_verified(client, manager)
    page = _upload(client, cast.coffee, "顧客番号,姓\r\nC1,山田\r\n".encode())
    state = re.search(r'name="state" value="([^"]+)"', page.content.decode()).group(1)
    forged = client.post(UPLOAD, {"step": "mapping", "state": state[:-2] + "xx"})
    assert forged.status_code == 403
    assert not ImportBatch.objects.exists()
