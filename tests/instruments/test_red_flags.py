"""Red-flag screen: docs/clinical-reference.md §16 and §21."""

from __future__ import annotations

import pytest

from intake.instruments import InstrumentError, get, score

CATEGORY_FLAGS = [
    "suspected_cauda_equina",
    "progressive_neurological_deficit",
    "suspected_infection",
    "suspected_malignancy",
    "suspected_fracture",
    "suspected_inflammatory",
]

# Section 21's examples plus features named in the section 16 table, with their category.
EXPECTED_CATEGORY = {
    "saddle_anaesthesia": "suspected_cauda_equina",
    "bladder_dysfunction": "suspected_cauda_equina",
    "bowel_incontinence": "suspected_cauda_equina",
    "sexual_dysfunction": "suspected_cauda_equina",
    "bilateral_leg_pain": "suspected_cauda_equina",
    "progressive_weakness": "progressive_neurological_deficit",
    "fever": "suspected_infection",
    "iv_drug_use": "suspected_infection",
    "immunosuppression": "suspected_infection",
    "recent_bacterial_infection": "suspected_infection",
    "history_of_cancer": "suspected_malignancy",
    "unexplained_weight_loss": "suspected_malignancy",
    "night_pain": "suspected_malignancy",
    "major_trauma": "suspected_fracture",
    "minor_trauma_with_osteoporosis": "suspected_fracture",
    "long_term_corticosteroids": "suspected_fracture",
    "structural_deformity": "suspected_fracture",
    "morning_stiffness": "suspected_inflammatory",
}

ITEM_IDS = [item.id for item in get("red_flags").items]


def all_no() -> dict[str, object]:
    return dict.fromkeys(ITEM_IDS, False)


def test_red_flags_flag_codes_are_the_section_21_categories():
    assert [flag.code for flag in get("red_flags").flags] == CATEGORY_FLAGS


def test_red_flags_items_are_yes_no():
    assert all(item.kind == "yes_no" for item in get("red_flags").items)


def test_red_flags_all_no_is_zero_without_flags():
    result = score("red_flags", all_no())
    assert result.total == 0
    assert result.flags == []
    assert result.scorable is True
    assert result.missing == []


@pytest.mark.parametrize(("item_id", "flag"), EXPECTED_CATEGORY.items())
def test_red_flags_feature_raises_its_category(item_id, flag):
    result = score("red_flags", all_no() | {item_id: True})
    assert result.total == 1
    assert result.flags == [flag]


@pytest.mark.parametrize("item_id", ITEM_IDS)
def test_red_flags_every_feature_raises_exactly_one_category(item_id):
    result = score("red_flags", all_no() | {item_id: True})
    assert len(result.flags) == 1
    assert result.flags[0] in CATEGORY_FLAGS


def test_red_flags_every_category_has_features():
    raised = {score("red_flags", all_no() | {item_id: True}).flags[0] for item_id in ITEM_IDS}
    assert raised == set(CATEGORY_FLAGS)


def test_red_flags_total_counts_positives_and_flags_each_category_once():
    answers = all_no() | {"saddle_anaesthesia": True, "bladder_dysfunction": True, "fever": True}
    result = score("red_flags", answers)
    assert result.total == 3
    assert result.flags == ["suspected_cauda_equina", "suspected_infection"]


def test_red_flags_are_raised_from_a_partial_screen():
    result = score("red_flags", {"saddle_anaesthesia": True, "fever": False})
    assert result.flags == ["suspected_cauda_equina"]
    # Project policy: an incomplete screen has no count (it must not read as "0 red flags").
    assert result.scorable is False
    assert result.total is None
    assert "saddle_anaesthesia" not in result.missing
    assert "fever" not in result.missing
    assert len(result.missing) == len(ITEM_IDS) - 2


def test_red_flags_empty_screen_raises_nothing_and_lists_everything():
    result = score("red_flags", {})
    assert result.flags == []
    assert result.missing == ITEM_IDS


def test_red_flags_accept_1_and_0_as_yes_and_no():
    assert score("red_flags", all_no() | {"fever": 1}).flags == ["suspected_infection"]
    assert score("red_flags", all_no() | {"fever": 0}).flags == []


@pytest.mark.parametrize("value", [2, "yes", "true", 1.0])
def test_red_flags_refuse_non_boolean_answers(value):
    with pytest.raises(InstrumentError) as raised:
        score("red_flags", {"fever": value})
    assert raised.value.item == "fever"
    assert raised.value.instrument == "red_flags"


def test_red_flags_unknown_feature_is_refused():
    with pytest.raises(InstrumentError) as raised:
        score("red_flags", {"headache": True})
    assert raised.value.item == "headache"
