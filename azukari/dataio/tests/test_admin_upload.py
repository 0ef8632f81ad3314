"""Uploading from the admin page: the worker imports the file, the page shows the outcome."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from azukari.customers.models import Customer
from azukari.dataio.models import ImportBatch, ImportStatus
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
    response = client.post(
        "/admin/dataio/importbatch/upload/",
        {"client": cast.coffee.pk, "kind": "customers", "file": SimpleUploadedFile("c.csv", body)},
    )
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
