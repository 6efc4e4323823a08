"""Real PHQ-9 / GAD-7 payloads (tests/fixtures/fhir) score to the totals their answers give.

The item values are read with a small local helper using the weights (ordinalValue / itemWeight)
of each file's own Questionnaire; the real FHIR ingestion module is built elsewhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from intake.instruments import score

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir"
WEIGHT_URLS = {
    "http://hl7.org/fhir/StructureDefinition/ordinalValue",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
}


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _weight(element: dict[str, Any]) -> int | None:
    for extension in element.get("extension", []):
        if extension.get("url") in WEIGHT_URLS:
            return int(extension["valueDecimal"])
    return None


def answer_weights(questionnaire: dict[str, Any]) -> dict[str, int]:
    """Answer code → weight, from answerOptions and contained ValueSets of one Questionnaire."""
    weights: dict[str, int] = {}
    for contained in questionnaire.get("contained", []):
        for include in contained.get("compose", {}).get("include", []):
            for concept in include.get("concept", []):
                if (weight := _weight(concept)) is not None:
                    weights[concept["code"]] = weight

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            for option in item.get("answerOption", []):
                if (weight := _weight(option)) is not None:
                    weights[option["valueCoding"]["code"]] = weight
            walk(item.get("item", []))

    walk(questionnaire.get("item", []))
    return weights


def engine_answers(
    response: dict[str, Any], weights: dict[str, int], link_id_number: str
) -> dict[str, object]:
    """linkId → engine item id ("q<n>") by the number the pattern captures; weighted codes only."""
    answers: dict[str, object] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            match = re.search(link_id_number, item["linkId"])
            for answer in item.get("answer", []):
                code = answer.get("valueCoding", {}).get("code")
                if match and code in weights:
                    answers[f"q{int(match.group(1))}"] = weights[code]
            walk(item.get("item", []))

    walk(response.get("item", []))
    return answers


def test_sdc_phq9_response_scores_10_not_the_13_it_states():
    weights = answer_weights(load("sdc-phq9-questionnaire.json"))
    response = load("sdc-phq9-questionnaireresponse.json")
    answers = engine_answers(response, weights, r"/Q(\d+)$")
    assert answers == {f"q{n}": v for n, v in enumerate([0, 0, 0, 1, 2, 1, 3, 2, 1], start=1)}

    result = score("phq9", answers)
    assert result.total == 10
    assert result.total != 13  # the response's own H1/TS item is wrong
    assert result.band == "moderate"
    assert result.flags == ["suicidal_ideation"]  # item 9 = "Several days"


def test_spezi_flat_phq9_response_scores_27():
    # Spezi answered the SDC PHQ-9: its weights are that questionnaire's contained ValueSet.
    weights = answer_weights(load("sdc-phq9-questionnaire.json"))
    answers = engine_answers(load("spezi-phq9-questionnaireresponse-flat.json"), weights, r"/Q(\d+)$")
    result = score("phq9", answers)
    assert result.total == 27
    assert result.band == "severe"
    assert "suicidal_ideation" in result.flags


def test_mii_phq9_response_scores_27():
    # The MII questionnaire binds LOINC answer list LL358-3 by external ValueSet and carries no
    # weights itself; the LOINC-coded LHC-Forms PHQ-9 carries the LL358-3 weights. The response's
    # linkIds (PHQ.n) do not match the questionnaire's (PHQ-9.n): items are matched by number.
    mii_questionnaire = load("mii-phq9-questionnaire.json")
    assert answer_weights(mii_questionnaire) == {}
    assert all(
        item.get("answerValueSet", "").endswith("ll358-3")
        for item in mii_questionnaire["item"]
        if re.fullmatch(r"PHQ-9\.[1-9]", item["linkId"])
    )
    weights = answer_weights(load("lhcforms-phq9-loinc-questionnaire.json"))
    answers = engine_answers(load("mii-phq9-questionnaireresponse.json"), weights, r"\.([1-9])$")
    assert answers == {f"q{n}": 3 for n in range(1, 10)}
    result = score("phq9", answers)
    assert result.total == 27
    assert "suicidal_ideation" in result.flags


def test_mii_gad7_bundle_scores_13():
    bundle = load("mii-gad7-transaction-bundle.json")
    resources = {entry["resource"]["resourceType"]: entry["resource"] for entry in bundle["entry"]}
    weights = answer_weights(resources["Questionnaire"])
    answers = engine_answers(resources["QuestionnaireResponse"], weights, r"-q0?(\d+)$")
    assert answers == {f"q{n}": v for n, v in enumerate([2, 3, 2, 1, 2, 1, 2], start=1)}
    result = score("gad7", answers)
    assert result.total == 13
    assert result.band == "moderate"
    assert result.flags == ["further_evaluation"]
