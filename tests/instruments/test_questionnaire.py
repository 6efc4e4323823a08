"""Every definition renders to a FHIR R4 Questionnaire that validates (fhir.resources R4B)."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from intake.fhir.questionnaire import ITEM_WEIGHT, questionnaire_for
from intake.instruments import all_instruments, get

CODES = [definition.code for definition in all_instruments()]


@pytest.mark.parametrize("code", CODES)
def test_questionnaire_validates_against_r4b(code):
    rendered = questionnaire_for(get(code))
    json.dumps(rendered)  # plain JSON, no Decimals or objects
    Questionnaire.model_validate(rendered)


@pytest.mark.parametrize("code", CODES)
def test_questionnaire_identity(code):
    definition = get(code)
    rendered = questionnaire_for(definition)
    assert rendered["resourceType"] == "Questionnaire"
    assert rendered["url"] == f"https://clinic-intake.example/fhir/Questionnaire/{code}"
    assert rendered["version"] == definition.version
    assert rendered["title"] == definition.title
    assert rendered["status"] == "active"
    assert rendered["name"][0].isupper()
    assert rendered["copyright"] == definition.licence
    assert [item["linkId"] for item in rendered["item"]] == [item.id for item in definition.items]


def test_base_url_is_configurable():
    rendered = questionnaire_for(get("phq9"), base_url="https://fhir.example.org/r4")
    assert rendered["url"] == "https://fhir.example.org/r4/Questionnaire/phq9"


def test_phq9_carries_loinc_panel_item_and_answer_codes():
    rendered = questionnaire_for(get("phq9"))
    assert rendered["code"] == [{"system": "http://loinc.org", "code": "44249-1"}]
    item9 = rendered["item"][8]
    assert item9["code"] == [{"system": "http://loinc.org", "code": "44260-8"}]
    options = item9["answerOption"]
    assert [option["valueCoding"]["code"] for option in options] == [
        "LA6568-5",
        "LA6569-3",
        "LA6570-1",
        "LA6571-9",
    ]
    assert [option["extension"][0] for option in options] == [
        {"url": ITEM_WEIGHT, "valueDecimal": value} for value in range(4)
    ]


def test_weights_are_raw_values_even_for_reversed_items():
    # Reversal stays in the engine: TSK-17 item 4 weights are the marks 1–4.
    item4 = questionnaire_for(get("tsk17"))["item"][3]
    assert [option["extension"][0]["valueDecimal"] for option in item4["answerOption"]] == [1, 2, 3, 4]


def test_red_flags_render_as_boolean_items():
    rendered = questionnaire_for(get("red_flags"))
    assert {item["type"] for item in rendered["item"]} == {"boolean"}
    assert "code" not in rendered


@pytest.mark.parametrize("code", ["nrs", "peg"])
def test_zero_to_ten_scales_are_bounded_integers(code):
    for item in questionnaire_for(get(code))["item"]:
        assert item["type"] == "integer"
        bounds = {
            extension["url"].rsplit("/", 1)[1]: extension["valueInteger"] for extension in item["extension"]
        }
        assert bounds == {"minValue": 0, "maxValue": 10}


def test_optional_items_are_not_required():
    phq9 = {item["linkId"]: item for item in questionnaire_for(get("phq9"))["item"]}
    assert phq9["q10"]["required"] is False
    gad7 = questionnaire_for(get("gad7"))["item"]
    assert all(item["required"] for item in gad7)
