"""`azukari generate` builds the mix of contacts and cases asked for, each case with its call."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from azukari.cases.models import Case, Contact
from azukari.customers.models import Customer

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.django_db
def test_contacts_and_cases_per_customer_are_as_asked():
    call_command(
        "generate", customers=400, contacts_per_customer=5, cases_per_customer=1, verbosity=0
    )
    customers = Customer.objects.count()
    assert customers == 400
    assert 0.85 * 5 * customers <= Contact.objects.count() <= 1.15 * 5 * customers
    assert 0.85 * customers <= Case.objects.count() <= 1.15 * customers
    opened_by_call = Case.objects.annotate(calls=Count("contacts")).filter(calls__gte=1).count()
    assert opened_by_call == Case.objects.count()


@pytest.mark.django_db
def test_more_cases_than_contacts_is_refused():
    with pytest.raises(CommandError, match="no more cases than contacts"):
        call_command("generate", customers=10, contacts_per_customer=1, cases_per_customer=2)
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_deferred_indexes_are_all_built_again():
    from azukari.demo.indexes import _secondary_indexes

    tables = ["customers_customer", "cases_contact", "cases_case", "cases_caseevent"]
    before = _secondary_indexes(tables)
    assert any(name == "contact_by_customer" for name, _sql in before)
    call_command("generate", customers=50, defer_indexes=True, verbosity=0)
    assert _secondary_indexes(tables) == before
    assert Customer.objects.count() == 50
