"""A file's new customers are written before the last step, hidden: nobody sees one of them
until all of them appear, and a refusal at the last step takes them all away."""

import pytest
from django.db import connection
from django.utils import translation

from azukari.api.selectors import screen_pop
from azukari.core.errors import DomainError
from azukari.customers.models import Customer, CustomerPhone, HiddenImport
from azukari.customers.search import customer_search
from azukari.customers.services import customer_create
from azukari.dataio import customer_import
from azukari.dataio.models import ImportStatus
from azukari.dataio.services import import_run, import_start
from azukari.dataio.tests.test_import_search_index import search_index_matches_rows
from azukari.org.models import ClientLine
from azukari.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = ["顧客番号", "姓", "名", "セイ", "メイ", "電話番号"]
NEW = ["N001", "髙橋", "一郎", "ﾀｶﾊｼ", "ｲﾁﾛｳ", "090-1111-2222"]


def run(path, client):
    return import_run(batch=import_start(actor=None, client=client, kind="customers", path=path))


@pytest.fixture
def before_the_last_step(monkeypatch):
    """Runs `look` just before the import's last transaction, then lets it run."""
    seen: list = []

    def install(look):
        real = customer_import.customers_switch_in

        def switch_in(batch):
            seen.append(look(batch))
            return real(batch)

        monkeypatch.setattr(customer_import, "customers_switch_in", switch_in)
        return seen

    return install


def test_new_customers_stay_hidden_until_the_last_step(cast, client_file, before_the_last_step):
    line = ClientLine.objects.create(client=cast.coffee, number="+81120000111")
    old = CustomerFactory(client=cast.coffee, customer_number="OLD1", phones=["+819033334444"])
    phones_before = CustomerPhone.objects.count()

    def look(batch):
        pop = screen_pop(
            viewer=cast.operator, dialled_number=line.number, caller_number="090-1111-2222"
        )
        with pytest.raises(DomainError) as refused:
            customer_create(client=cast.coffee, customer_number="N001", family_name="別人")
        with translation.override("en"):
            refusal = (refused.value.field, str(refused.value.message))
        return {
            "written": Customer.all_rows.filter(import_batch_id=batch.pk).count(),
            "shown": list(Customer.objects.filter(customer_number="N001")),
            "door": list(Customer.objects.visible_to(cast.operator)),
            "search": list(customer_search(viewer=cast.operator, query="たかはし")),
            "pop": pop.matches,
            "phones": CustomerPhone.objects.count(),
            "refusal": refusal,
        }

    seen = before_the_last_step(look)
    batch = run(client_file([HEADER, NEW]), cast.coffee)

    assert batch.status == ImportStatus.DONE, batch.errors
    hidden = seen[0]
    assert hidden["written"] == 1
    assert hidden["shown"] == hidden["search"] == hidden["pop"] == []
    assert hidden["door"] == [old]
    assert hidden["phones"] == phones_before
    assert hidden["refusal"][0] == "customer_number"
    assert "being imported" in hidden["refusal"][1]
    new = Customer.objects.get(customer_number="N001")
    assert list(customer_search(viewer=cast.operator, query="たかはし")) == [new]
    assert list(new.phones.values_list("number", flat=True)) == ["+819011112222"]
    assert not HiddenImport.objects.exists()


def test_a_refusal_at_the_last_step_takes_the_hidden_rows_away(
    cast, client_file, before_the_last_step
):
    old = CustomerFactory(client=cast.coffee, customer_number="OLD1", family_name="古川")
    rows = [HEADER, NEW, ["OLD1", "古川", "改", "ﾌﾙｶﾜ", "ｶｲ", "090-5555-6666"]]

    def edit_meanwhile(_batch):  # the customer the file changes is saved by someone else
        edited = Customer.objects.get(pk=old.pk)
        edited.given_name = "電話で変更"
        edited.save()

    before_the_last_step(edit_meanwhile)
    batch = run(client_file(rows), cast.coffee)

    assert batch.status == ImportStatus.FAILED
    assert batch.errors[0]["message"]["ja"] and batch.errors[0]["message"]["en"]
    assert not Customer.all_rows.filter(customer_number="N001").exists()
    assert not CustomerPhone.all_rows.filter(number="+819011112222").exists()
    assert not HiddenImport.objects.exists()
    assert Customer.objects.get(pk=old.pk).given_name != "改"  # the file's change is not in
    if connection.vendor == "sqlite":
        assert search_index_matches_rows()
    again = run(client_file([HEADER, NEW], name="again.csv"), cast.coffee)
    assert (again.status, again.created) == (ImportStatus.DONE, 1)
