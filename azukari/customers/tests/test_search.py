"""Finding a customer however the name or number was typed, only among one's own clients."""

import pytest

from azukari.customers.selectors import customer_search, customers_by_phone
from azukari.customers.services import customer_create


@pytest.fixture
def yamada(cast):
    return customer_create(
        client=cast.coffee,
        customer_number="CF-000123",
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        phones=["090-1234-5678", ("03(1234)5678", "home")],
    )


@pytest.fixture
def tea_yamada(cast):
    """Same name and number at the other client: never shown to coffee's operators."""
    return customer_create(
        client=cast.tea,
        customer_number="T-1",
        family_name="山田",
        family_name_kana="ヤマダ",
        phones=["090-1234-5678"],
    )


def found(cast, query: str, viewer=None) -> list[int]:
    viewer = viewer or cast.operator
    return list(customer_search(viewer=viewer, query=query).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "query",
    ["やまだ", "ヤマダ", "ﾔﾏﾀﾞ", "ﾔﾏﾀﾞ ﾀﾛｳ", "やまだたろう", "ヤマダ　タロウ", "山田", "山田太郎"],
)
def test_names_are_found_in_any_kana_or_width(cast, yamada, tea_yamada, query):
    assert found(cast, query) == [yamada.pk]


@pytest.mark.parametrize(
    "query",
    [
        "090-1234-5678",
        "09012345678",
        "０９０－１２３４－５６７８",
        "+81 90 1234 5678",
        "0081 90 1234 5678",
        "03(1234)5678",
        "03-1234-5678",
        "5678",  # the last digits the caller reads out
    ],
)
def test_phone_numbers_are_found_however_written(cast, yamada, tea_yamada, query):
    assert found(cast, query) == [yamada.pk]


@pytest.mark.parametrize("query", ["cf-000123", "ＣＦ－０００１２３", "000123"])
def test_customer_numbers_are_found_in_any_width_or_case(cast, yamada, query):
    assert found(cast, query) == [yamada.pk]


def test_other_clients_customers_are_not_found(cast, yamada, tea_yamada):
    assert found(cast, "やまだ", viewer=cast.outsider) == [tea_yamada.pk]
    assert found(cast, "090-1234-5678", viewer=cast.outsider) == [tea_yamada.pk]
    assert found(cast, "やまだ", viewer=cast.tea_approver) == [tea_yamada.pk]


def test_empty_and_unmatched_queries_find_nobody(cast, yamada):
    assert found(cast, "") == []
    assert found(cast, "　") == []
    assert found(cast, "さとう") == []
    assert found(cast, "090-9999-0000") == []


def test_search_can_be_narrowed_to_one_client(cast, yamada, tea_yamada):
    manager = type(cast.operator).objects.create(
        username="manager", role="manager", agreement_signed_on=cast.operator.agreement_signed_on
    )
    manager.clients.add(cast.coffee, cast.tea)
    assert set(found(cast, "ヤマダ", viewer=manager)) == {yamada.pk, tea_yamada.pk}
    narrowed = customer_search(viewer=manager, query="ヤマダ", client_id=cast.tea.pk)
    assert list(narrowed.values_list("pk", flat=True)) == [tea_yamada.pk]


def test_screen_pop_finds_the_caller_by_number(cast, yamada, tea_yamada):
    popped = customers_by_phone(
        viewer=cast.operator, client_id=cast.coffee.pk, raw_number="０９０－１２３４－５６７８"
    )
    assert list(popped) == [yamada]
    # Asked for the tea line, coffee's operator sees nobody.
    none = customers_by_phone(viewer=cast.operator, client_id=cast.tea.pk, raw_number="09012345678")
    assert list(none) == []
    assert (
        list(
            customers_by_phone(viewer=cast.operator, client_id=cast.coffee.pk, raw_number="非通知")
        )
        == []
    )


def test_phones_are_stored_once_in_e164(cast, yamada):
    stored = sorted(yamada.phones.values_list("number", "kind"))
    assert stored == [("+81312345678", "home"), ("+819012345678", "mobile")]
