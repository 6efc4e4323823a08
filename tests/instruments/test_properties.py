"""Property tests over every definition: ranges, monotonicity and reversal."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.instruments import all_instruments, get, score
from intake.instruments.definition import InstrumentDefinition

SUMMED = [d.code for d in all_instruments() if d.total_rule != "none" and d.code != "red_flags"]


def complete_answers(definition: InstrumentDefinition) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {item.id: st.sampled_from([option.value for option in item.options]) for item in definition.items}
    )


@st.composite
def instrument_and_answers(draw: st.DrawFn, codes: list[str]) -> tuple[str, dict[str, object]]:
    code = draw(st.sampled_from(codes))
    return code, draw(complete_answers(get(code)))


@given(instrument_and_answers(SUMMED))
def test_complete_answers_score_within_the_published_range(case):
    code, answers = case
    definition = get(code)
    result = score(code, answers)
    assert result.scorable is True
    assert result.total is not None
    assert definition.total_range is not None
    low, high = definition.total_range
    assert low <= result.total <= high
    assert result.missing == []
    if definition.bands:
        assert result.band in {band.code for band in definition.bands}


@given(instrument_and_answers(SUMMED), st.data())
def test_raising_a_non_reversed_item_never_lowers_the_total(case, data):
    code, answers = case
    definition = get(code)
    item = data.draw(st.sampled_from([i for i in definition.scored_items if not i.is_reversed]))
    higher = [option.value for option in item.options if option.value >= answers[item.id]]
    raised = dict(answers) | {item.id: data.draw(st.sampled_from(higher))}
    assert score(code, raised).total >= score(code, answers).total


REVERSING = ["orebro_sf", "tsk17", "pss10"]


@given(instrument_and_answers(REVERSING), st.data())
def test_raising_a_reversed_item_never_raises_the_total(case, data):
    code, answers = case
    item = data.draw(st.sampled_from([i for i in get(code).items if i.is_reversed]))
    higher = [option.value for option in item.options if option.value >= answers[item.id]]
    raised = dict(answers) | {item.id: data.draw(st.sampled_from(higher))}
    assert score(code, raised).total <= score(code, answers).total


@pytest.mark.parametrize(
    ("code", "mirror_of", "unmirrored"),
    [
        # TSK-17: mirroring every mark (5 − x) turns a total T into 17 × 5 − T.
        ("tsk17", 5, ()),
        # PSS-10: mirroring every mark (4 − x) turns T into 10 × 4 − T.
        ("pss10", 4, ()),
        # Örebro: mirroring items 2–10 (10 − x) keeps item 1; T → 2 × q1 + 90 − T.
        ("orebro_sf", 10, ("q1",)),
    ],
)
def test_reversal_works_both_ways(code, mirror_of, unmirrored):
    @given(complete_answers(get(code)))
    def check(answers):
        mirrored = {
            item_id: value if item_id in unmirrored else mirror_of - value
            for item_id, value in answers.items()
        }
        original = score(code, answers).total
        flipped = score(code, mirrored).total
        if code == "tsk17":
            assert original + flipped == 85
        elif code == "pss10":
            assert original + flipped == 40
        else:
            assert original + flipped == 2 * answers["q1"] + 90

    check()


@given(
    st.dictionaries(
        st.sampled_from([f"s{number}" for number in range(1, 11)]),
        st.integers(min_value=0, max_value=5),
        min_size=1,
    )
)
def test_odi_index_is_sum_over_5_times_answered_exactly(answers):
    result = score("odi", answers)
    expected = Fraction(sum(answers.values()) * 100, 5 * len(answers))
    assert result.total is not None
    assert abs(Fraction(result.total) - expected) < Fraction(1, 10**20)
    assert 0 <= result.total <= 100


@given(
    st.dictionaries(
        st.sampled_from([f"q{number}" for number in range(1, 10)]),
        st.integers(min_value=0, max_value=3),
        min_size=7,
    )
)
def test_phq9_prorated_total_stays_within_0_to_27(answers):
    result = score("phq9", answers)
    assert result.scorable is True
    assert 0 <= result.total <= 27
    assert result.prorated is (len(answers) < 9)


@given(st.dictionaries(st.sampled_from([i.id for i in get("red_flags").items]), st.booleans()))
def test_red_flag_total_counts_positives_when_complete_and_flags_never_depend_on_blanks(answers):
    result = score("red_flags", answers)
    positives = sum(answers.values())
    if len(answers) == len(get("red_flags").items):
        assert result.total == positives
    else:
        assert result.total is None
    assert (positives > 0) == bool(result.flags)
