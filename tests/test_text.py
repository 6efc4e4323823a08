"""intake.text: which characters short and free text refuse, and NFC (no database)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.text import forbidden_character, nfc, refusal

NONCHARACTERS = [chr(c) for c in range(0xFDD0, 0xFDF0)] + [
    chr(plane * 0x10000 + low) for plane in range(17) for low in (0xFFFE, 0xFFFF)
]


@pytest.mark.parametrize(
    "char", ["\u200b", "\u202e", "\u2028", "\u2029", "\ufeff", "\uffff", "\x00", "\ud800"]
)
def test_reproducer_characters_are_refused_in_short_text(char):
    assert forbidden_character(f"ab{char}c") == (2, char)


@settings(max_examples=200, deadline=None)
@given(
    char=st.one_of(st.characters(categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), st.sampled_from(NONCHARACTERS)),
    before=st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), max_size=5),
)
def test_any_control_format_separator_or_noncharacter_is_refused_in_short_text(char, before):
    assert forbidden_character(before + char) == (len(before), char)


@settings(max_examples=200, deadline=None)
@given(char=st.characters(categories=["Cc"], exclude_characters="\t\n\r"))
def test_free_text_refuses_every_control_character_but_tab_and_line_ends(char):
    assert forbidden_character(f"note{char}", free_text=True) == (4, char)


def test_free_text_keeps_tab_line_ends_and_joiners():
    assert forbidden_character("a\tb\r\nc \u200d\u200c\u2028", free_text=True) is None


def test_refusal_names_the_code_point_without_echoing_it():
    message = refusal("ab\ud800")
    assert message is not None and "U+D800 at position 2" in message and "\ud800" not in message


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_nfc_is_idempotent_and_canonically_equivalent(text):
    assert nfc(nfc(text)) == nfc(text) == unicodedata.normalize("NFC", unicodedata.normalize("NFD", text))


def test_compatibility_forms_stay_distinct():
    assert nfc("\ufb01") != nfc("fi")  # LATIN SMALL LIGATURE FI: NFKC would merge them
