"""QuestionnaireResponse → engine answers, against real public payloads and our own Questionnaires."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from intake.fhir.inbound import (
    FhirMappingError,
    Issue,
    MappedResponse,
    bundle_questionnaire_responses,
    bundle_questionnaires,
    check_stated_total,
    instrument_error_issue,
    map_questionnaire_response,
    operation_outcome,
    score_mapped,
)
from intake.fhir.questionnaire import questionnaire_for
from intake.instruments import InstrumentError, get, score
from tests.fhir.fixtures import BASE_URL, load

LOINC = "http://loinc.org"
PHQ9_ITEM_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
FREQUENCY = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def refused(resource: dict[str, Any], **kwargs: Any) -> list[Issue]:
    with pytest.raises(FhirMappingError) as caught:
        map_questionnaire_response(resource, base_url=BASE_URL, **kwargs)
    return [issue for issue in caught.value.issues if issue.is_error]


def errors_text(issues: list[Issue]) -> str:
    return "\n".join(issue.diagnostics for issue in issues)


# --- HL7 SDC PHQ-9 example (local codes weighted in a contained ValueSet) -----------------------


def test_sdc_phq9_with_its_questionnaire_scores_10_and_reports_the_stated_13():
    questionnaire = load("sdc-phq9-questionnaire.json")
    mapped = map_questionnaire_response(
        load("sdc-phq9-questionnaireresponse.json"),
        base_url=BASE_URL,
        questionnaires={questionnaire["url"]: questionnaire},
    )
    assert mapped.instrument == "phq9"
    assert [mapped.answers[f"q{n}"] for n in range(1, 10)] == [0, 0, 0, 1, 2, 1, 3, 2, 1]
    result = score_mapped(mapped)
    assert result.total == 10
    assert "suicidal_ideation" in result.flags  # item 9 = 1
    assert mapped.stated_total == 13
    warning = check_stated_total(mapped, result)
    assert warning is not None and warning.severity == "warning"
    assert "13" in warning.diagnostics and "10" in warning.diagnostics
    assert warning.expression == ("QuestionnaireResponse.item[0].item[9]",)


def test_sdc_phq9_questionnaire_contained_in_the_response_is_used():
    response = load("sdc-phq9-questionnaireresponse.json")
    response["contained"] = [load("sdc-phq9-questionnaire.json")]
    mapped = map_questionnaire_response(response, base_url=BASE_URL)
    assert score(mapped.instrument, mapped.answers).total == 10


def test_sdc_phq9_metadata_is_read():
    questionnaire = load("sdc-phq9-questionnaire.json")
    mapped = map_questionnaire_response(
        load("sdc-phq9-questionnaireresponse.json"), base_url=BASE_URL, questionnaires={"q": questionnaire}
    )
    assert mapped.subject == {"reference": "http://hl7.org/fhir/Patient/proband"}
    assert mapped.authored == datetime(2019, 8, 21, 20, 36, 57, 544000, tzinfo=UTC)
    assert mapped.questionnaire == questionnaire["url"]
    assert mapped.locations["q9"].link_id == "H1/T1/Q9"


def test_sdc_phq9_without_its_questionnaire_is_refused_naming_each_unmappable_item():
    issues = refused(load("sdc-phq9-questionnaireresponse.json"))
    assert issues[0].code == "not-found"
    assert issues[0].expression == ("QuestionnaireResponse.questionnaire",)
    item_issues = issues[1:]
    named = [issue.diagnostics for issue in item_issues]
    for n in range(1, 10):
        assert any(f"'H1/T1/Q{n}'" in text for text in named)
    assert "local code" in named[0] and "Not-at-all" in named[0]
    assert item_issues[0].expression == ("QuestionnaireResponse.item[0].item[0]",)


def test_questionnaire_supplied_with_a_different_version_than_pinned_is_refused():
    questionnaire = load("sdc-phq9-questionnaire.json")
    response = load("sdc-phq9-questionnaireresponse.json")
    response["questionnaire"] += "|9.9.9"
    issues = refused(response, questionnaires={questionnaire["url"]: questionnaire})
    assert "9.9.9" in errors_text(issues) and "0.0.1" in errors_text(issues)


def test_uncoded_items_are_not_mapped_by_position_when_the_wording_disagrees():
    questionnaire = load("sdc-phq9-questionnaire.json")
    group = questionnaire["item"][0]["item"]
    group[0]["text"], group[1]["text"] = group[1]["text"], group[0]["text"]  # items 1 and 2 swapped
    issues = refused(load("sdc-phq9-questionnaireresponse.json"), questionnaires={"q": questionnaire})
    assert len(issues) == 9
    assert "do not confirm which phq9 item" in issues[0].diagnostics


# --- Spezi: flat items against the nested SDC Questionnaire -------------------------------------


def test_spezi_flat_response_scores_27_with_a_nesting_warning():
    questionnaire = load("sdc-phq9-questionnaire.json")
    mapped = map_questionnaire_response(
        load("spezi-phq9-questionnaireresponse-flat.json"),
        base_url=BASE_URL,
        questionnaires={questionnaire["url"]: questionnaire},
    )
    result = score_mapped(mapped)
    assert result.total == 27
    assert "suicidal_ideation" in result.flags
    assert mapped.subject is None
    assert mapped.stated_total is None
    assert any(issue.code == "structure" for issue in mapped.issues)
    assert mapped.authored is not None and mapped.authored.utcoffset() is not None


# --- MII PHQ-9: linkIds that match nothing --------------------------------------------------------


def test_mii_phq9_response_alone_is_refused_naming_its_link_ids():
    issues = refused(load("mii-phq9-questionnaireresponse.json"))
    text = errors_text(issues)
    for link_id in ["PHQ.1", "PHQ.9", "PHQ.10", "PHQ.Score"]:
        assert f"'{link_id}'" in text
    assert "answer codes alone do not identify the item" in text


def test_mii_phq9_response_with_its_questionnaire_is_refused_because_link_ids_do_not_match():
    questionnaire = load("mii-phq9-questionnaire.json")
    issues = refused(
        load("mii-phq9-questionnaireresponse.json"), questionnaires={questionnaire["url"]: questionnaire}
    )
    assert len(issues) == 11
    assert "linkId 'PHQ.1' is not an item of Questionnaire" in issues[0].diagnostics
    assert "does not match that Questionnaire" in issues[0].diagnostics
    assert "PHQ-9.1" in issues[0].diagnostics
    assert issues[0].expression == ("QuestionnaireResponse.item[0]",)


def test_mii_phq9_response_with_link_ids_fixed_scores_27():
    questionnaire = load("mii-phq9-questionnaire.json")
    response = load("mii-phq9-questionnaireresponse.json")
    for item in response["item"]:
        item["linkId"] = item["linkId"].replace("PHQ.", "PHQ-9.")
    mapped = map_questionnaire_response(response, base_url=BASE_URL, questionnaires={"q": questionnaire})
    assert score_mapped(mapped).total == 27
    assert mapped.answers["q10"] == 3  # LA6574-3 "Extremely difficult", unscored
    assert mapped.stated_total == 27


# --- MII GAD-7 transaction Bundle -----------------------------------------------------------------


def test_mii_gad7_bundle_scores_13_matching_its_stated_total():
    bundle = load("mii-gad7-transaction-bundle.json")
    (response,) = bundle_questionnaire_responses(bundle)
    mapped = map_questionnaire_response(
        response, base_url=BASE_URL, questionnaires=bundle_questionnaires(bundle)
    )
    assert mapped.instrument == "gad7"
    assert [mapped.answers[f"q{n}"] for n in range(1, 8)] == [2, 3, 2, 1, 2, 1, 2]
    result = score_mapped(mapped)
    assert result.total == 13
    assert mapped.stated_total == 13
    assert check_stated_total(mapped, result) is None
    # The PROMIS T-score item is not part of GAD-7: ignored with a warning, not an error.
    assert any("77862-1" in issue.diagnostics for issue in mapped.issues)


# --- LHC-Forms: linkIds that are LOINC item codes --------------------------------------------------


def lhc_response(values: dict[int, int], *, total: int | None = None) -> dict[str, Any]:
    """A response to the LHC-Forms PHQ-9 (linkIds /<LOINC>) with LOINC answer codes, 1-based items."""
    items: list[dict[str, Any]] = [
        {
            "linkId": f"/{PHQ9_ITEM_LOINC[n - 1]}",
            "answer": [{"valueCoding": {"system": LOINC, "code": FREQUENCY[value]}}],
        }
        for n, value in sorted(values.items())
    ]
    if total is not None:
        items.append({"linkId": "/44261-6", "answer": [{"valueDecimal": total}]})
    items.append({"linkId": "/69722-7", "answer": [{"valueCoding": {"code": "LA6573-5"}}]})
    return {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items}


def test_lhc_forms_link_ids_score_without_the_questionnaire():
    mapped = map_questionnaire_response(
        lhc_response({n: n % 4 for n in range(1, 10)}, total=13), base_url=BASE_URL
    )
    assert mapped.instrument == "phq9"
    assert mapped.answers["q10"] == 1
    result = score_mapped(mapped)
    assert result.total == sum(n % 4 for n in range(1, 10)) == 13
    assert mapped.stated_total == 13
    assert check_stated_total(mapped, result) is None


def test_lhc_forms_missing_item_is_reported_missing_not_counted_as_zero():
    # LHC-Forms' calculatedExpression would give 8 (blank = 0); the published rule prorates.
    mapped = map_questionnaire_response(
        lhc_response({n: 1 for n in range(1, 10) if n != 3}, total=8), base_url=BASE_URL
    )
    assert "q3" not in mapped.answers
    result = score_mapped(mapped)
    assert result.missing == ["q3"]
    assert result.prorated and result.total == 9
    warning = check_stated_total(mapped, result)
    assert warning is not None and "8" in warning.diagnostics and "9" in warning.diagnostics


def test_lhc_forms_three_missing_items_make_phq9_unscorable():
    mapped = map_questionnaire_response(lhc_response({n: 1 for n in range(1, 7)}), base_url=BASE_URL)
    result = score_mapped(mapped)
    assert not result.scorable and result.total is None
    assert result.missing == ["q7", "q8", "q9"]


def test_lhc_forms_questionnaire_weights_resolve_codes_by_item_code():
    questionnaire = load("lhcforms-phq9-loinc-questionnaire.json")
    questionnaire["url"] = "http://lhcforms.example/Questionnaire/phq9"
    response = lhc_response({n: 2 for n in range(1, 10)})
    response["questionnaire"] = questionnaire["url"]
    mapped = map_questionnaire_response(response, base_url=BASE_URL, questionnaires={"q": questionnaire})
    assert score_mapped(mapped).total == 18


def test_unknown_answer_code_on_a_loinc_item_is_refused():
    response = lhc_response({n: 0 for n in range(1, 10)})
    response["item"][4]["answer"] = [{"valueCoding": {"system": "http://example.org/x", "code": "often"}}]
    issues = refused(response)
    assert issues[0].expression == ("QuestionnaireResponse.item[4].answer[0]",)
    assert "'/44251-7'" in issues[0].diagnostics and "no Questionnaire was supplied" in issues[0].diagnostics


def test_link_ids_of_two_instruments_are_refused():
    response = lhc_response({1: 0})
    response["item"].append({"linkId": "/69725-0", "answer": [{"valueInteger": 1}]})
    issues = refused(response)
    assert "more than one instrument" in issues[0].diagnostics


# --- Stanford GAD-7: no LOINC at all -------------------------------------------------------------


def stanford_response(questionnaire: dict[str, Any]) -> dict[str, Any]:
    group = questionnaire["item"][0]
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": questionnaire["url"],
        "item": [
            {
                "linkId": group["linkId"],
                "item": [
                    {"linkId": item["linkId"], "answer": [{"valueCoding": {"code": "0"}}]}
                    for item in group["item"]
                ],
            }
        ],
    }


def test_stanford_gad7_response_without_its_questionnaire_is_refused():
    questionnaire = load("stanford-gad7-questionnaire.json")
    issues = refused(stanford_response(questionnaire))
    assert (
        "http://biodesign.stanford.edu/fhir/questionnaire/GAD-7 is not one of ours" in issues[0].diagnostics
    )
    assert len(issues) == 1 + 7


def test_stanford_gad7_questionnaire_without_loinc_cannot_be_identified():
    questionnaire = load("stanford-gad7-questionnaire.json")
    issues = refused(stanford_response(questionnaire), questionnaires={questionnaire["url"]: questionnaire})
    assert len(issues) == 1
    assert "carries no LOINC code of a supported instrument" in issues[0].diagnostics
    assert "cannot be identified" in issues[0].diagnostics


# --- our own Questionnaires ------------------------------------------------------------------------


def our_response(
    code: str, answers: dict[str, dict[str, Any]], *, version: str | None = "current"
) -> dict[str, Any]:
    questionnaire = questionnaire_for(get(code), base_url=BASE_URL)
    canonical = questionnaire["url"]
    if version == "current":
        canonical += "|" + questionnaire["version"]
    elif version is not None:
        canonical += "|" + version
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": canonical,
        "subject": {"reference": "Patient/123"},
        "authored": "2026-03-01T09:30:00+01:00",
        "item": [{"linkId": link_id, "answer": [answer]} for link_id, answer in answers.items()],
    }


def test_our_phq9_round_trip_from_rendered_questionnaire_options():
    questionnaire = questionnaire_for(get("phq9"), base_url=BASE_URL)
    # Answer each item with the option the rendered Questionnaire offers for value 2 (LOINC coding).
    answers = {
        item["linkId"]: {"valueCoding": item["answerOption"][2]["valueCoding"]}
        for item in questionnaire["item"]
    }
    mapped = map_questionnaire_response(our_response("phq9", answers), base_url=BASE_URL)
    assert mapped.instrument == "phq9" and mapped.instrument_version == get("phq9").version
    assert mapped.answers == {f"q{n}": 2 for n in range(1, 11)}
    assert mapped.issues == ()
    assert score_mapped(mapped).total == 18


def test_our_questionnaire_accepts_integers_local_codes_and_booleans_in_nested_groups():
    response = our_response("red_flags", {})
    response["item"] = [
        {
            "linkId": "cauda-equina-group",
            "item": [
                {"linkId": "saddle_anaesthesia", "answer": [{"valueBoolean": True}]},
                {"linkId": "bladder_dysfunction", "answer": [{"valueBoolean": False}]},
            ],
        }
    ]
    mapped = map_questionnaire_response(response, base_url=BASE_URL)
    assert mapped.answers == {"saddle_anaesthesia": True, "bladder_dysfunction": False}
    assert mapped.locations["saddle_anaesthesia"].expression == "QuestionnaireResponse.item[0].item[0]"

    nrs = map_questionnaire_response(our_response("nrs", {"pain": {"valueInteger": 7}}), base_url=BASE_URL)
    assert score_mapped(nrs).total == 7
    startback = our_response(
        "startback",
        {
            "q9": {"valueCoding": {"system": f"{BASE_URL}/CodeSystem/startback", "code": "4"}},
            "q1": {"valueCoding": {"code": "1"}},
        },
    )
    assert map_questionnaire_response(startback, base_url=BASE_URL).answers == {"q9": 4, "q1": 1}


def test_our_questionnaire_without_a_pinned_version_warns():
    mapped = map_questionnaire_response(
        our_response("gad7", {"q1": {"valueInteger": 1}}, version=None), base_url=BASE_URL
    )
    assert mapped.answers == {"q1": 1}
    (warning,) = mapped.issues
    assert warning.severity == "warning" and "not pinned" in warning.diagnostics


def test_our_questionnaire_with_another_version_is_refused():
    issues = refused(our_response("phq9", {"q1": {"valueInteger": 1}}, version="0.9.0"))
    assert issues[0].code == "not-supported"
    assert "0.9.0" in issues[0].diagnostics and get("phq9").version in issues[0].diagnostics


def test_unknown_instrument_under_our_base_url_is_refused():
    response = our_response("phq9", {})
    response["questionnaire"] = f"{BASE_URL}/Questionnaire/phq99|1.0.0"
    assert refused(response)[0].code == "not-found"


def test_out_of_range_value_becomes_an_error_issue_with_the_item_expression():
    response = our_response("phq9", {"q1": {"valueInteger": 1}, "q9": {"valueInteger": 7}})
    mapped = map_questionnaire_response(response, base_url=BASE_URL)
    with pytest.raises(FhirMappingError) as caught:
        score_mapped(mapped)
    (issue,) = caught.value.issues
    assert issue.severity == "error" and issue.code == "value"
    assert issue.expression == ("QuestionnaireResponse.item[1]",)
    assert "'q9'" in issue.diagnostics and "7" in issue.diagnostics


def test_instrument_error_issue_helper_points_at_the_item():
    mapped = MappedResponse(
        instrument="gad7",
        instrument_version="1.0.0",
        answers={"q2": 9},
        questionnaire=None,
        subject=None,
        authored=None,
    )
    with pytest.raises(InstrumentError) as caught:
        score("gad7", mapped.answers)
    issue = instrument_error_issue(caught.value, mapped)
    assert issue.expression == ("QuestionnaireResponse",)


def test_our_questionnaire_refuses_unknown_link_ids_wrong_types_and_foreign_codes():
    response = our_response(
        "phq9",
        {
            "q99": {"valueInteger": 1},
            "q1": {"valueBoolean": True},
            "q2": {"valueCoding": {"system": "http://example.org", "code": "1"}},
            "q3": {"valueString": "often"},
        },
    )
    issues = refused(response)
    assert [issue.expression[0] for issue in issues] == [
        "QuestionnaireResponse.item[0]",
        "QuestionnaireResponse.item[1].answer[0]",
        "QuestionnaireResponse.item[2].answer[0]",
        "QuestionnaireResponse.item[3].answer[0]",
    ]


def test_partial_authored_date_is_ignored_with_a_warning():
    response = our_response("gad7", {"q1": {"valueInteger": 1}})
    response["authored"] = "2026-03"
    mapped = map_questionnaire_response(response, base_url=BASE_URL)
    assert mapped.authored is None
    assert any("authored" in issue.diagnostics for issue in mapped.issues)


@pytest.mark.parametrize("offset", ["+14:01", "+17:58", "-15:00"])
def test_authored_offset_beyond_fhirs_plus_minus_14_hours_is_ignored_with_a_warning(offset):
    response = our_response("gad7", {"q1": {"valueInteger": 1}})
    response["authored"] = f"2026-03-01T09:30:00{offset}"
    mapped = map_questionnaire_response(response, base_url=BASE_URL)
    assert mapped.authored is None
    assert any("authored" in issue.diagnostics for issue in mapped.issues)


def test_authored_offset_of_14_hours_is_kept():
    response = our_response("gad7", {"q1": {"valueInteger": 1}})
    response["authored"] = "2026-03-01T09:30:00+14:00"
    assert map_questionnaire_response(response, base_url=BASE_URL).authored == datetime(
        2026, 2, 28, 19, 30, tzinfo=UTC
    )


def test_a_resource_that_is_not_a_questionnaire_response_is_refused():
    assert refused({"resourceType": "Observation"})[0].code == "invalid"


# --- OperationOutcome --------------------------------------------------------------------------


def test_operation_outcome_validates_and_has_the_r4_example_shape():
    example = load("r4-operationoutcome-example.json")
    OperationOutcome.model_validate(example)
    issues = refused(load("mii-phq9-questionnaireresponse.json"))
    outcome = operation_outcome(issues)
    OperationOutcome.model_validate(outcome)
    ours = outcome["issue"][0]
    assert set(ours) <= set(example["issue"][0])
    assert {"severity", "code", "details", "diagnostics", "expression"} <= set(ours)
    assert ours["severity"] == "error"


def test_empty_operation_outcome_is_still_valid():
    outcome = operation_outcome([])
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["severity"] == "information"


def test_mapping_error_lists_errors_before_warnings():
    error = FhirMappingError(
        [Issue("warning", "value", "w"), Issue("error", "invalid", "e", ("QuestionnaireResponse",))]
    )
    assert [issue.severity for issue in error.issues] == ["error", "warning"]
    assert str(error) == "e"


def test_decimal_stated_total_is_kept_exact():
    response = lhc_response({n: 1 for n in range(1, 10)})
    response["item"].append({"linkId": "/44261-6", "answer": [{"valueQuantity": {"value": 9.5}}]})
    mapped = map_questionnaire_response(response, base_url=BASE_URL)
    assert mapped.stated_total == Decimal("9.5")
