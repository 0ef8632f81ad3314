"""Customer search (the fallback for withheld numbers) and the customer card."""

import pytest

from azukari.testing.factories import CustomerFactory

SEARCH = "/api/v1/customers"


@pytest.fixture
def customers(cast):
    return {
        "yamada": CustomerFactory(
            client=cast.coffee,
            customer_number="C-1001",
            family_name="山田",
            given_name="太郎",
            family_name_kana="ヤマダ",
            given_name_kana="タロウ",
            phones=["+819012345678"],
        ),
        "tea_yamada": CustomerFactory(
            client=cast.tea,
            customer_number="T-1",
            family_name="山田",
            family_name_kana="ヤマダ",
            phones=["+819012345678"],
        ),
    }


@pytest.mark.parametrize("query", ["やまだ", "ﾔﾏﾀﾞ", "ヤマダ", "山田", "C-1001", "090-1234-5678"])
def test_search_ignores_kana_and_width_and_finds_numbers(api, coffee_token, customers, query):
    body = api.get(SEARCH, coffee_token, q=query).json()
    assert [c["customer_number"] for c in body["items"]] == ["C-1001"]


def test_center_token_searches_the_named_client_or_all_it_serves(api, pbx_token, customers):
    both = api.get(SEARCH, pbx_token, q="やまだ").json()["items"]
    assert {c["client"] for c in both} == {"coffee", "tea"}
    tea = api.get(SEARCH, pbx_token, q="やまだ", client="tea").json()["items"]
    assert [c["customer_number"] for c in tea] == ["T-1"]


def test_token_of_another_client_cannot_name_or_read_coffee(api, tea_token, customers):
    assert api.get(SEARCH, tea_token, q="やまだ", client="coffee").status_code == 404
    yamada = customers["yamada"]
    assert api.get(f"{SEARCH}/{yamada.pk}", tea_token).status_code == 404


def test_customer_card(api, coffee_token, customers):
    yamada = customers["yamada"]
    body = api.get(f"{SEARCH}/{yamada.pk}", coffee_token).json()
    assert body["customer_number"] == "C-1001"
    assert body["phones"] == [
        {"number": "+819012345678", "display": "090-1234-5678", "kind": "mobile"}
    ]
