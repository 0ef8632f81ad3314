"""A task delivered twice leaves its effect once, and the second delivery is counted."""

import pytest
from django.db import IntegrityError

from azukari.org.models import Site, TaskReceipt
from azukari.org.receipts import duplicate_runs, run_once


def test_second_run_changes_nothing_and_is_counted(db):
    def effect():
        Site.objects.create(code=f"site{Site.objects.count()}", name="Pop-up site")
        return {"sites": Site.objects.count()}

    assert run_once("open-popup-site", effect) == (True, {"sites": 1})
    assert run_once("open-popup-site", effect) == (False, {"sites": 1})
    assert Site.objects.count() == 1
    assert duplicate_runs("open-popup") == 1


def test_a_conflict_inside_the_effect_is_raised_and_leaves_no_receipt(db):
    Site.objects.create(code="sapporo", name="Sapporo")

    def effect():
        Site.objects.create(code="sapporo", name="Sapporo again")

    with pytest.raises(IntegrityError):
        run_once("duplicate-site", effect)
    assert not TaskReceipt.objects.filter(key="duplicate-site").exists()
