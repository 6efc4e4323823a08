"""Render an instrument definition as a FHIR R4 Questionnaire (the form a client fills in).

The Questionnaire carries the raw answer values only: each answerOption's `itemWeight` is the raw
value the patient marks, the same number the engine receives. Reversal (Örebro, TSK, PSS) and
recoding (STarT Back item 9) stay in the engine, so a client must not compute scores from
these weights; the server scores.
"""

from __future__ import annotations

from typing import Any

from intake.instruments.definition import LOINC, AllItemsRequired, InstrumentDefinition, Item, Option

ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
DEFAULT_BASE_URL = "https://clinic-intake.example/fhir"


def questionnaire_for(
    definition: InstrumentDefinition, *, base_url: str = DEFAULT_BASE_URL
) -> dict[str, Any]:
    """A JSON-ready FHIR R4 Questionnaire for `definition`, canonical `{base_url}/Questionnaire/{code}`.

    Choice items list every option with a `valueCoding` (the LOINC answer code where one exists,
    else a local code equal to the raw value) and an `itemWeight` equal to the raw value; 0-10
    scales are integer items bounded by minValue/maxValue; red-flag items are booleans.
    """
    base_url = base_url.rstrip("/")
    questionnaire: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "url": f"{base_url}/Questionnaire/{definition.code}",
        "version": definition.version,
        "name": _computable_name(definition.code),
        "title": definition.title,
        "status": "active",
        "subjectType": ["Patient"],
        "copyright": definition.licence,
    }
    if definition.recall_period:
        questionnaire["description"] = f"Recall period: {definition.recall_period}."
    if definition.loinc.panel:
        # No `display`: it would have to be LOINC's own display string, which we do not store.
        questionnaire["code"] = [{"system": LOINC, "code": definition.loinc.panel}]
    # Items the scoring needs are required only where every item must be answered; PHQ-9
    # (proration), ODI (answered sections) and RMDQ (checklist) accept blanks by their rules.
    requires_all = isinstance(definition.missing_rule, AllItemsRequired)
    answer_system = f"{base_url}/CodeSystem/{definition.code}"
    questionnaire["item"] = [
        _item(item, answer_system, required=requires_all and item.scored) for item in definition.items
    ]
    return questionnaire


def _item(item: Item, answer_system: str, *, required: bool) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "linkId": item.id,
        "text": item.text or item.label,
        "required": required,
    }
    if item.loinc:
        rendered["code"] = [{"system": LOINC, "code": item.loinc}]
    if item.kind == "yes_no":
        rendered["type"] = "boolean"
    elif item.kind == "scale":
        rendered["type"] = "integer"
        rendered["extension"] = [
            {"url": MIN_VALUE, "valueInteger": min(item.values)},
            {"url": MAX_VALUE, "valueInteger": max(item.values)},
        ]
    else:
        rendered["type"] = "choice"
        rendered["answerOption"] = [_answer_option(option, answer_system) for option in item.options]
    return rendered


def _answer_option(option: Option, answer_system: str) -> dict[str, Any]:
    if option.loinc:
        coding = {"system": LOINC, "code": option.loinc, "display": option.label}
    else:
        coding = {"system": answer_system, "code": str(option.value), "display": option.label}
    return {
        "extension": [{"url": ITEM_WEIGHT, "valueDecimal": option.value}],
        "valueCoding": coding,
    }


def _computable_name(code: str) -> str:
    """FHIR `name` must start with a capital letter: "orebro_sf" → "OrebroSf"."""
    return "".join(part[:1].upper() + part[1:] for part in code.split("_"))
