"""A full-name column split into family and given name, and the mapping rules around it."""

import pytest

from azukari.core.errors import DomainError
from azukari.dataio.cleaning import split_name
from azukari.dataio.customer_import import split_cells
from azukari.dataio.services import column_mapping_save, columns_for, header_layout


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("髙橋 一郎", ("髙橋", "一郎")),
        ("髙橋\u3000一郎", ("髙橋", "一郎")),
        (" 山﨑 花子 ", ("山﨑", "花子")),
        ("Smith John Paul", ("Smith", "John Paul")),  # at the first space only
        ("山﨑花子", None),
    ],
)
def test_a_name_splits_at_its_first_full_or_half_width_space(raw, parts):
    assert split_name(raw) == parts


def test_a_name_without_a_space_stays_whole_in_the_family_name_with_a_warning(english):
    cells, warnings = split_cells({"full_name": "山﨑花子", "full_name_kana": "ヤマザキ ハナコ"})
    assert cells == {
        "family_name": "山﨑花子",
        "given_name": "",
        "family_name_kana": "ヤマザキ",
        "given_name_kana": "ハナコ",
    }
    assert [field for field, _message in warnings] == ["full_name"]
    assert "山﨑花子" in warnings[0][1]


def test_a_mapping_is_kept_per_layout_and_refuses_contradictions(cast):
    header = ["会員ID", "お客様氏名"]
    column_mapping_save(
        actor=None,
        client=cast.coffee,
        kind="customers",
        columns={"会員ID": "customer_number", "お客様氏名": "full_name"},
        header=header,
    )
    assert columns_for(client_id=cast.coffee.pk, kind="customers", header=header) == {
        0: "customer_number",
        1: "full_name",
    }
    assert columns_for(client_id=cast.tea.pk, kind="customers", header=header) == {}
    assert header_layout(header) != header_layout(list(reversed(header)))
    for columns in (
        {"a": "customer_number", "b": "customer_number"},
        {"a": "full_name", "b": "family_name"},
        {"a": "nonsense"},
    ):
        with pytest.raises(DomainError):
            column_mapping_save(
                actor=None, client=cast.coffee, kind="customers", columns=columns, header=["a", "b"]
            )
    with pytest.raises(DomainError):
        column_mapping_save(
            actor=cast.operator,
            client=cast.coffee,
            kind="customers",
            columns={"a": "customer_number"},
            header=["a"],
        )
