"""Every page read in English has no Japanese in it but the customers' data and proper names.

Routes come from the URL conf (as the isolation matrix finds them), filled with real objects of
the coffee client, and each role opens the pages it may. A Japanese person's product is Japanese;
an English reader's page is English, apart from what people typed in and what things are called.
"""

import re

import pytest
import time_machine
from django.utils import translation

from azukari.audit.masking import mask_address
from azukari.audit.tests.test_isolation_matrix import (
    AT_WORK,
    _all_page_routes,
    _capability,
    _fill,
    _objects,
    _verified_browser,
)
from azukari.customers.models import Customer
from azukari.org.models import Client, Role, Site, Team, User
from azukari.org.permissions import user_can
from azukari.reports.models import ReasonCode
from azukari.testing.factories import UserFactory

# Hiragana, katakana (with the half-width forms and the long-vowel mark) and CJK ideographs.
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]+")
# The language selector names each language in itself.
OWN_NAMES = ["日本語"]


@pytest.fixture(autouse=True)
def _at_work():
    # The pages activate each reader's language on this thread; the next test gets it back.
    with time_machine.travel(AT_WORK, tick=True), translation.override(None):
        yield


def _proper_names() -> list[str]:
    """Customer data and names of things: what a reader's language does not change."""
    names = list(OWN_NAMES)
    for customer in Customer.all_rows.all():
        names += [
            customer.family_name,
            customer.given_name,
            customer.family_name_kana,
            customer.given_name_kana,
            customer.address,
            mask_address(customer.address),
        ]
    for model in (Client, Site, Team):
        names += model.objects.values_list("name", flat=True)
    names += User.objects.values_list("display_name", flat=True)
    # A client's own Japanese label of a reason code, shown beside its English one where the
    # list is kept (the set-up page).
    names += ReasonCode.objects.values_list("label", flat=True)
    # The longest first, so that a name inside a longer one does not leave a remainder.
    return sorted({n for n in names if n}, key=len, reverse=True)


def _japanese_left(html: str, names: list[str]) -> list[str]:
    for name in names:
        html = html.replace(name, "")
    found = []
    for match in JAPANESE.finditer(html):
        start, end = max(match.start() - 40, 0), match.end() + 40
        found.append(f"{match.group()!r} in …{html[start:end].strip()!r}…")
    return found


@pytest.fixture
def readers(cast) -> list[User]:
    manager = UserFactory(
        username="mgr_coffee", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )
    admin = UserFactory(
        username="adm_coffee", role=Role.ADMIN, home_site=cast.sapporo, clients=[cast.coffee]
    )
    people = [cast.operator, cast.sv, cast.desk, manager, admin, cast.approver]
    for person in people:
        person.language = "en"
        person.save(update_fields=["language"])
    return people


def test_japanese_characters_are_found():
    """Guards the check itself."""
    assert _japanese_left("<h1>Backlog board 預かり管理</h1>", []) != []
    assert _japanese_left("<p>ｱｽﾞｶﾘ</p>", []) != []
    assert _japanese_left("<p>山田 太郎 — 日本語</p>", ["山田", "太郎", "日本語"]) == []


# Pages whose content depends on their query: the monthly report of the month the objects are in.
WITH_QUERIES = {
    "reports/<slug:client_code>/monthly/": ["?month=2026-11", "?month=2026-11&format=print"],
}


def _coded(cast, world: dict[str, int]) -> None:
    """The contact is coded with a reason whose client gave an English label."""
    from azukari.cases.models import Contact
    from azukari.reports.services import contact_code, reason_code_create

    reason = reason_code_create(
        actor=None, client=cast.coffee, code="cancel", label="解約", label_en="Cancellation"
    )
    contact = Contact.objects.get(pk=world["contact_id"])
    contact_code(actor=cast.operator, contact=contact, reason_code=reason)


def test_every_page_in_english_has_no_japanese_but_names(cast, readers):
    world = _objects(cast, cast.coffee, cast.operator, cast.sapporo_desk)
    _coded(cast, world)
    names = _proper_names()
    leftovers, read = [], 0
    for person in readers:
        browser = _verified_browser(person)
        for route in _all_page_routes():
            cap = _capability(route)
            if cap is not None and not user_can(person, cap):
                continue
            for query in WITH_QUERIES.get(route, [""]):
                response = browser.get(_fill(route, world) + query)
                if response.status_code != 200 or "html" not in response["Content-Type"]:
                    continue
                read += 1
                for found in _japanese_left(response.content.decode(), names):
                    leftovers.append(f"{person.username} /{route}{query}: {found}")
    assert read > 30, read
    assert leftovers == [], "\n".join(sorted(set(leftovers)))
