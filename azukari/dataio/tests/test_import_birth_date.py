"""A date of birth column: western and Japanese-era dates, a clear error for anything else."""

import datetime as dt

import pytest

from azukari.customers.models import Customer
from azukari.dataio.models import ImportStatus
from azukari.dataio.services import import_run, import_start
from azukari.testing.factories import CustomerFactory

pytestmark = pytest.mark.usefixtures("english")


def run(path, client):
    batch = import_start(actor=None, client=client, kind="customers", path=path)
    return import_run(batch=batch)


@pytest.mark.django_db
def test_dates_of_birth_are_read_in_the_usual_ways_and_update_existing_customers(cast, client_file):
    CustomerFactory(client=cast.coffee, customer_number="C004", family_name="木村")
    path = client_file(
        [
            ["顧客番号", "姓", "生年月日"],
            ["C001", "髙橋", "1980/4/5"],
            ["C002", "山﨑", "1975-12-01"],
            ["C003", "佐藤", "昭和55年4月5日"],
            ["C004", "木村", "平成元年1月8日"],
            ["C005", "鈴木", ""],
        ]
    )

    done = run(path, cast.coffee)

    assert done.status == ImportStatus.DONE, done.errors
    born = dict(
        Customer.objects.filter(client=cast.coffee).values_list("customer_number", "birth_date")
    )
    assert born == {
        "C001": dt.date(1980, 4, 5),
        "C002": dt.date(1975, 12, 1),
        "C003": dt.date(1980, 4, 5),
        "C004": dt.date(1989, 1, 8),
        "C005": None,
    }


@pytest.mark.django_db
def test_an_english_header_and_a_bad_date_name_the_row(cast, client_file):
    path = client_file(
        [
            ["customer_number", "family_name", "Date of Birth"],
            ["C001", "Takahashi", "1980/4/5"],
            ["C002", "Yamazaki", "5 April"],
            ["C003", "Sato", "2999-01-01"],
        ]
    )

    refused = run(path, cast.coffee)

    assert refused.status == ImportStatus.FAILED
    assert {(e["row"], e["column"]) for e in refused.errors} == {
        (3, "Date of Birth"),
        (4, "Date of Birth"),
    }
    assert "A date of birth, like 1980/4/5" in refused.errors[0]["message"]["en"]
    assert not Customer.objects.filter(client=cast.coffee).exists()
