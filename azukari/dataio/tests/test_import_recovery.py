"""An import never stays stuck: the upload's task commits with its batch, a batch left queued
is queued again, a killed import is cleared by the next one or by `azukari import abandon`,
and a refusal names the row and the real cause."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation
from django_q.models import OrmQ

from azukari.customers.models import Customer, HiddenImport
from azukari.dataio.models import ImportBatch, ImportStatus
from azukari.dataio.services import import_journal_sweep, import_run, import_start
from azukari.dataio.tests.test_admin_upload import _map, _upload
from azukari.dataio.tests.test_import_killed import ROWS, big_file, import_killed_when
from azukari.org.models import Role
from azukari.org.tests.test_calendars import login_verified
from azukari.testing.factories import CustomerFactory, UserFactory

RUN_TASK = "azukari.dataio.tasks.import_run_task"


def queued_imports() -> list[int]:
    return [q.task["args"][0] for q in OrmQ.objects.all() if q.task["func"] == RUN_TASK]


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="manager",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        is_staff=True,
    )


def test_the_upload_queues_its_task_with_the_batch(cast, manager, client, settings, tmp_path):
    """The test runs in one transaction that never commits: a task queued "after commit"
    would never be queued; one queued with the batch is there."""
    settings.DATA_DIR = tmp_path
    login_verified(client, manager)
    body = "顧客番号,姓\r\nC1,髙橋\r\n".encode("cp932")
    response = _map(_upload(client, cast.coffee, body), client)
    assert response.status_code == 302, response.content[:500]
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.QUEUED
    assert queued_imports() == [batch.pk]


def test_a_batch_left_queued_without_its_task_is_queued_again_and_runs_once(
    cast, client_file, monkeypatch
):
    path = client_file([["顧客番号", "姓"], ["C1", "髙橋"]])
    batch = import_start(actor=None, client=cast.coffee, kind="customers", path=path)
    assert import_journal_sweep() == 0  # just recorded: its task may still be on its way
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert import_journal_sweep() == 1
        assert import_journal_sweep() == 1  # queued twice: the second run finds it claimed
    assert queued_imports() == [batch.pk, batch.pk]
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)
    from azukari.dataio.tasks import import_run_task

    assert [import_run_task(batch.pk), import_run_task(batch.pk)] == ["done", "skipped"]
    assert Customer.objects.get().customer_number == "C1"


def some_written_hidden() -> bool:
    return Customer.all_rows.filter(import_batch_id__isnull=False).count() >= 5_000


def rerun(cast, path) -> ImportBatch:
    batch = import_start(actor=None, client=cast.coffee, kind="customers", path=path)
    return import_run(batch=batch)


@pytest.mark.django_db(transaction=True)
def test_a_rerun_clears_an_import_killed_while_writing_and_lands(cast, tmp_path):
    CustomerFactory(client=cast.coffee, customer_number="K0000001", phones=["+819011112222"])
    path = big_file(tmp_path)
    import_killed_when(path, some_written_hidden)
    killed = ImportBatch.objects.get()
    assert killed.status == ImportStatus.SWITCHING

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3)):  # no heartbeat since
        again = rerun(cast, path)
    assert again.status == ImportStatus.DONE, again.errors[:3]
    assert again.created == ROWS - 2
    killed.refresh_from_db()
    assert killed.status == ImportStatus.ABANDONED
    assert Customer.objects.filter(client=cast.coffee).count() == ROWS - 1
    assert not Customer.all_rows.filter(import_batch_id=killed.pk).exists()
    assert not HiddenImport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rerun_beside_a_live_import_names_it_on_the_row_and_abandon_clears_it(cast, tmp_path):
    path = big_file(tmp_path)
    import_killed_when(path, some_written_hidden)
    killed = ImportBatch.objects.get()

    refused = rerun(cast, path)  # at once: the killed import still looks alive
    assert refused.status == ImportStatus.FAILED
    [error] = refused.errors
    assert error["row"] == 2 and error["column"] == "顧客番号" and error["value"] == "K0000001"
    assert f"import #{killed.pk}" in error["message"]["en"]
    assert f"azukari import abandon {killed.pk}" in error["message"]["en"]
    assert f"#{killed.pk}" in error["message"]["ja"]

    call_command("import", "abandon", str(killed.pk))
    killed.refresh_from_db()
    assert killed.status == ImportStatus.ABANDONED
    assert not Customer.all_rows.exists()
    with translation.override("en"):
        with pytest.raises(CommandError, match="only a queued or running import"):
            call_command("import", "abandon", str(refused.pk))
        with pytest.raises(CommandError, match="No import has this number"):
            call_command("import", "abandon", "999999")
    assert rerun(cast, path).status == ImportStatus.DONE


def test_the_admin_abandons_a_stuck_import_and_says_so(cast, manager, client, client_file):
    path = client_file([["顧客番号", "姓"], ["C1", "髙橋"]])
    stuck = import_start(actor=manager, client=cast.coffee, kind="customers", path=path)
    login_verified(client, manager)
    response = client.post(
        "/admin/dataio/importbatch/",
        {"action": "abandon", "_selected_action": [stuck.pk]},
        follow=True,
    )
    assert response.status_code == 200
    stuck.refresh_from_db()
    assert stuck.status == ImportStatus.ABANDONED
    assert "1件の取り込みを中止し" in response.content.decode()  # the manager reads Japanese
    refused = import_run(
        batch=import_start(
            actor=manager,
            client=cast.coffee,
            kind="customers",
            path=client_file([["顧客番号", "姓"], ["C2", ""]], name="bad.csv"),
        )
    )
    assert refused.status == ImportStatus.FAILED
    again = client.post(
        "/admin/dataio/importbatch/",
        {"action": "abandon", "_selected_action": [refused.pk]},
        follow=True,
    )
    assert "中止できるのは待機中または実行中の取り込みだけです" in again.content.decode()
    assert ImportBatch.objects.get(pk=refused.pk).status == ImportStatus.FAILED
