"""The public interface, the registry and the section 21 identifiers."""

from __future__ import annotations

import re

import pytest

from intake.instruments import (
    InstrumentError,
    ScoreResult,
    all_instruments,
    change,
    get,
    score,
)

SECTION_21_CODES = [
    "startback",
    "phq9",
    "gad7",
    "phq2",
    "gad2",
    "phq4",
    "odi",
    "rmdq",
    "peg",
    "nrs",
    "orebro_sf",
    "pcs",
    "fabq",
    "tsk17",
    "tsk11",
    "isi",
    "pss10",
    "red_flags",
]


def _q(count: int) -> list[str]:
    return [f"q{number}" for number in range(1, count + 1)]


# Item ids exactly as docs/clinical-reference.md §21 fixes them.
SECTION_21_ITEMS = {
    "startback": _q(9),
    "phq9": _q(10),
    "gad7": _q(7),
    "phq2": _q(2),
    "gad2": _q(2),
    "phq4": _q(4),
    "odi": [f"s{number}" for number in range(1, 11)],
    "rmdq": _q(24),
    "peg": ["p", "e", "g"],
    "nrs": ["pain"],
    "orebro_sf": _q(10),
    "pcs": _q(13),
    "fabq": _q(16),
    "tsk17": _q(17),
    "tsk11": _q(11),
    "isi": _q(7),
    "pss10": _q(10),
}

PUBLIC_DOMAIN_WITH_WORDING = {"phq9", "gad7", "phq2", "gad2", "phq4", "nrs", "peg"}


def test_all_instruments_lists_every_section_21_code_in_a_stable_order():
    assert [definition.code for definition in all_instruments()] == SECTION_21_CODES
    assert [definition.code for definition in all_instruments()] == SECTION_21_CODES


@pytest.mark.parametrize("code", SECTION_21_CODES)
def test_get_returns_the_definition_for_its_code(code):
    assert get(code).code == code


@pytest.mark.parametrize(("code", "item_ids"), SECTION_21_ITEMS.items())
def test_item_ids_are_the_section_21_ids(code, item_ids):
    assert [item.id for item in get(code).items] == item_ids


@pytest.mark.parametrize("code", SECTION_21_CODES)
def test_every_definition_is_versioned_sourced_and_licensed(code):
    definition = get(code)
    assert re.fullmatch(r"\d+\.\d+\.\d+", definition.version)
    assert definition.title
    assert definition.licence
    assert definition.sources
    assert definition.missing_rule.source
    for band in definition.bands:
        assert band.source
    for flag in definition.flags:
        assert flag.source
    for subscale in definition.subscales:
        assert subscale.source
    if definition.mcid is not None:
        assert definition.mcid.source
        assert definition.mcid.points is not None or definition.mcid.percent is not None


@pytest.mark.parametrize("code", SECTION_21_CODES)
def test_full_item_wording_only_for_public_domain_instruments(code):
    has_wording = any(item.text for item in get(code).items)
    assert has_wording == (code in PUBLIC_DOMAIN_WITH_WORDING)


def test_every_item_has_a_label_and_labelled_options():
    for definition in all_instruments():
        for item in definition.items:
            assert item.label
            assert item.options
            assert all(option.label for option in item.options)


def test_score_returns_a_score_result_with_instrument_and_version():
    result = score("nrs", {"pain": 3})
    assert isinstance(result, ScoreResult)
    assert result.instrument == "nrs"
    assert result.version == get("nrs").version


def test_unknown_instrument_raises_instrument_error():
    with pytest.raises(InstrumentError) as raised:
        score("phq10", {})
    assert isinstance(raised.value, ValueError)
    assert raised.value.instrument == "phq10"
    assert raised.value.item is None
    assert "phq10" in str(raised.value)


def test_get_unknown_instrument_raises_instrument_error():
    with pytest.raises(InstrumentError):
        get("oswestry")


def test_unknown_item_raises_instrument_error_naming_the_item():
    with pytest.raises(InstrumentError) as raised:
        score("phq9", {"q11": 1})
    assert raised.value.instrument == "phq9"
    assert raised.value.item == "q11"
    assert raised.value.path == "phq9.q11"
    assert "q11" in str(raised.value)


def test_out_of_range_value_names_item_and_allowed_values():
    with pytest.raises(InstrumentError) as raised:
        score("phq9", {"q9": 4})
    error = raised.value
    assert error.instrument == "phq9"
    assert error.item == "q9"
    assert error.allowed == (0, 1, 2, 3)
    assert "q9" in str(error)
    assert "0, 1, 2, 3" in str(error)


@pytest.mark.parametrize("value", [True, False, 2.0, "2", -1, 1.5])
def test_numeric_items_refuse_bools_floats_strings_and_negatives(value):
    with pytest.raises(InstrumentError) as raised:
        score("gad7", {"q1": value})
    assert raised.value.item == "q1"


def test_answers_must_be_a_mapping():
    with pytest.raises(InstrumentError):
        score("nrs", [("pain", 3)])  # type: ignore[arg-type]


def test_none_value_is_treated_as_missing():
    result = score("nrs", {"pain": None})
    assert result.scorable is False
    assert result.total is None
    assert result.missing == ["pain"]


def test_change_is_exported():
    assert callable(change)
