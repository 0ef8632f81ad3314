"""Folding Japanese text so that search ignores hiragana/katakana and full/half width."""

import unicodedata

import jaconv


def fold(text: str) -> str:
    """NFKC (half-width kana → full, full-width ASCII → half), katakana → hiragana, lower case."""
    if not text:
        return ""
    normalized = unicodedata.normalize("NFKC", text)
    return jaconv.kata2hira(normalized).lower().replace(" ", "").replace("\u3000", "")


def search_text(*parts: str) -> str:
    """One line per searchable value, folded."""
    return "\n".join(fold(p) for p in parts if p)
