"""Medicine classes and the medication-safety rules (docs/clinical-reference.md §17 and §23)."""

from __future__ import annotations

import pytest

from intake.stratification import MEDICATION_LIST_VERSION, classify_medications

from .score_builders import fired_rules, flag, flag_kinds, run, startback


def test_medication_list_is_versioned() -> None:
    assert MEDICATION_LIST_VERSION == "2026.1"
    assert run().medication_list_version == "2026.1"


@pytest.mark.parametrize("name", ["tapentadol", "tramadol", "oxycodone", "codeine", "fentanyl"])
def test_opioids_including_tapentadol_and_tramadol_are_opioids(name: str) -> None:
    classified, unknown = classify_medications([name])

    assert classified == {name: ["opioid"]}
    assert unknown == []


@pytest.mark.parametrize(
    ("name", "medicine_class"),
    [
        ("Nucynta", "opioid"),
        ("Valium", "benzodiazepine"),
        ("Soma", "muscle_relaxant"),
        ("Lyrica", "gabapentinoid"),
        ("Neurontin", "gabapentinoid"),
        ("Ambien", "z_drug"),
    ],
)
def test_brand_names_map_to_their_class(name: str, medicine_class: str) -> None:
    classified, _ = classify_medications([name])

    assert classified == {name: [medicine_class]}


def test_carisoprodol_is_a_muscle_relaxant_not_an_opioid() -> None:
    classified, _ = classify_medications(["carisoprodol"])

    assert classified == {"carisoprodol": ["muscle_relaxant"]}


@pytest.mark.parametrize(
    "name", ["  TAPENTADOL ", "tapentadol 50mg", "Tapentadol 50 mg", "tapentadol hydrochloride"]
)
def test_case_whitespace_strength_and_salt_are_normalised(name: str) -> None:
    classified, unknown = classify_medications([name])

    assert classified == {name: ["opioid"]}
    assert unknown == []


@pytest.mark.parametrize("name", ["tapentadl", "tapentadol ER", "co-codamol 30/500", "tapenta"])
def test_misspelt_or_unlisted_forms_are_reported_unknown_never_guessed(name: str) -> None:
    classified, unknown = classify_medications([name])

    assert classified == {}
    assert unknown == [name]


def test_unknown_names_are_reported_once_in_the_order_supplied() -> None:
    _, unknown = classify_medications(["zapain", "ibuprofen", "zapain", "diazepam"])

    assert unknown == ["zapain", "ibuprofen"]


def test_classify_medications_rejects_a_single_string() -> None:
    with pytest.raises(TypeError):
        classify_medications("tramadol")


def test_tapentadol_with_carisoprodol_raises_urgent_medication_review() -> None:
    result = run(medications=["tapentadol", "carisoprodol"])

    review = flag(result, "medication_review")
    assert review.priority == "urgent"
    assert review.rules == ("medication.opioid_plus_other_cns_depressant",)
    assert [(item.item, item.threshold) for item in review.evidence] == [
        ("tapentadol", "class opioid"),
        ("carisoprodol", "class muscle_relaxant"),
    ]


@pytest.mark.parametrize("other", ["cyclobenzaprine", "gabapentin", "pregabalin", "zolpidem"])
def test_opioid_with_other_cns_depressant_raises_medication_review(other: str) -> None:
    result = run(medications=["oxycodone", other])

    assert flag(result, "medication_review").rules == ("medication.opioid_plus_other_cns_depressant",)


def test_tramadol_with_diazepam_raises_review_and_records_consider_naloxone() -> None:
    result = run(medications=["tramadol", "diazepam"])

    assert flag(result, "medication_review").rules == ("medication.opioid_plus_benzodiazepine",)
    decisions = {reason.rule: reason.decision for reason in result.reasons}
    assert decisions["medication.opioid_plus_benzodiazepine"] == "opioid_plus_benzodiazepine"
    assert decisions["medication.consider_naloxone"] == "consider_naloxone"


def test_brand_name_combination_raises_medication_review() -> None:
    result = run(medications=["Nucynta", "Valium"])

    assert flag(result, "medication_review").priority == "urgent"
    assert result.as_dict()["medications"]["classified"] == {
        "Nucynta": ["opioid"],
        "Valium": ["benzodiazepine"],
    }


def test_opioid_with_benzodiazepine_and_muscle_relaxant_raises_one_review_for_both_rules() -> None:
    result = run(medications=["morphine", "lorazepam", "baclofen"])

    assert flag_kinds(result) == ["medication_review"]
    assert flag(result, "medication_review").rules == (
        "medication.opioid_plus_benzodiazepine",
        "medication.opioid_plus_other_cns_depressant",
    )


def test_benzodiazepine_with_muscle_relaxant_but_no_opioid_raises_no_medication_flag() -> None:
    result = run(medications=["diazepam", "carisoprodol", "pregabalin", "zolpidem"])

    assert "medication_review" not in flag_kinds(result)
    assert fired_rules(result) == []


def test_opioid_alone_raises_no_medication_flag() -> None:
    result = run(medications=["tapentadol"])

    assert result.flags == ()


def test_unknown_medicines_are_reported_in_the_result() -> None:
    result = run(medications=["tramadol", "mystery pill"])

    assert result.as_dict()["medications"] == {
        "classified": {"tramadol": ["opioid"]},
        "unknown": ["mystery pill"],
    }


def test_medication_review_raised_when_startback_missing() -> None:
    result = run(scores={}, medications=["fentanyl", "alprazolam"])

    assert result.back_care is None
    assert result.urgent == ("medication_review",)


def test_medication_review_does_not_change_back_care() -> None:
    result = run(scores={"startback": startback("low")}, medications=["codeine", "temazepam"])

    assert result.back_care == "self_management"
