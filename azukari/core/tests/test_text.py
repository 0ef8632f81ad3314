"""Search folding: hiragana and katakana, full and half width, all read the same."""

import pytest

from azukari.core.text import fold, search_text


@pytest.mark.parametrize(
    "written",
    ["やまだ", "ヤマダ", "ﾔﾏﾀﾞ", "ヤマだ", "やま　だ", "ﾔﾏ ﾀﾞ"],
)
def test_kana_in_any_script_or_width_folds_alike(written):
    assert fold(written) == fold("やまだ") == "やまだ"


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("ＹＡＭＡＤＡ", "yamada"),
        ("Yamada Taro", "yamadataro"),
        ("Ｃ０００１２３", "c000123"),
        ("ｶﾞｯｺｳ", "がっこう"),
        ("ヴァイオリン", "ゔぁいおりん"),
        ("コーヒー", "こーひー"),
        ("山田　太郎", "山田太郎"),
        ("", ""),
    ],
)
def test_fold_examples(written, folded):
    assert fold(written) == folded


def test_search_text_holds_one_folded_line_per_value():
    assert (
        search_text("山田太郎", "ヤマダタロウ", "", "C0000001")
        == "山田太郎\nやまだたろう\nc0000001"
    )
