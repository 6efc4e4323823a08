"""The Stratification result, the ruleset registry and the engine's guarantees."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from intake.instruments.result import ScoreResult
from intake.stratification import (
    CURRENT_RULESET,
    RULESETS,
    InvalidStratificationInput,
    UnknownRuleset,
    get_ruleset,
    stratify,
)

from .score_builders import phq9, red_flags, run, startback, total_score


def _busy_intake() -> dict[str, object]:
    score, answers = phq9(16, q9=1, prorated=True)
    return {
        "scores": {
            "startback": startback("medium"),
            "phq9": score,
            "pcs": total_score("pcs", 33),
            "red_flags": red_flags("suspected_infection"),
        },
        "answers": {"phq9": answers},
        "pain_duration_weeks": 30,
        "medications": ["Nucynta 50 mg", "Soma", "unknown tablet"],
    }


def test_current_ruleset_is_lbp_2026_1() -> None:
    assert CURRENT_RULESET == "lbp-2026.1"
    assert get_ruleset(CURRENT_RULESET) is RULESETS["lbp-2026.1"]
    assert run().ruleset == "lbp-2026.1"


def test_unknown_ruleset_raises_value_error_subclass() -> None:
    with pytest.raises(UnknownRuleset):
        stratify(ruleset="lbp-1999.1", scores={}, answers={})
    assert issubclass(UnknownRuleset, ValueError)


def test_every_rule_has_a_unique_id_a_description_and_a_source() -> None:
    rules = get_ruleset(CURRENT_RULESET).rules
    ids = [rule.id for rule in rules]

    assert len(ids) == len(set(ids))
    assert all(rule.description and rule.source for rule in rules)


def test_ruleset_contains_the_rule_ids_the_service_relies_on() -> None:
    ids = {rule.id for rule in get_ruleset(CURRENT_RULESET).rules}

    assert {
        "back_care.startback_low",
        "back_care.startback_medium",
        "back_care.startback_high",
        "psych.phq9_ge_10",
        "psych.gad7_ge_10",
        "psych.pcs_ge_30",
        "psych.isi_ge_15",
        "urgent.cauda_equina",
        "urgent.phq9_q9_ge_1",
        "urgent.phq9_q9_ge_2",
        "urgent.phq9_q9_unanswered",
        "medication.opioid_plus_benzodiazepine",
        "medication.opioid_plus_other_cns_depressant",
        "medication.consider_naloxone",
        "chronicity.persistent",
    } <= ids


def test_as_dict_is_json_serialisable() -> None:
    result = stratify(**_busy_intake())  # type: ignore[arg-type]

    decoded = json.loads(json.dumps(result.as_dict()))

    assert decoded["ruleset"] == "lbp-2026.1"
    assert decoded["medication_list_version"] == "2026.1"
    assert decoded["back_care"] == "physiotherapy"
    assert decoded["psychological_therapy"] == {
        "recommended": True,
        "rules": ["psych.phq9_ge_10", "psych.pcs_ge_30"],
    }
    assert decoded["combined_care"] is True
    assert decoded["pathway_on_hold"] is False
    assert decoded["persistent"] is True
    assert decoded["urgent"] == ["urgent_medical_review", "mental_health_safety", "medication_review"]
    assert decoded["medications"] == {
        "classified": {"Nucynta 50 mg": ["opioid"], "Soma": ["muscle_relaxant"]},
        "unknown": ["unknown tablet"],
    }
    assert set(decoded["reasons"][0]) == {"rule", "decision", "evidence"}
    assert set(decoded["flags"][0]) == {"kind", "priority", "rules", "evidence"}
    assert set(decoded["flags"][0]["evidence"][0]) == {
        "instrument",
        "item",
        "value",
        "threshold",
        "source",
        "prorated",
    }


def test_decimal_evidence_is_serialised_as_an_exact_string() -> None:
    pcs = ScoreResult(instrument="pcs", version="1", total=Decimal("30.005"))

    result = run(scores={"pcs": pcs})

    evidence = result.as_dict()["flags"][0]["evidence"][0]
    assert evidence["value"] == "30.01"
    json.dumps(result.as_dict())


def test_flags_are_ordered_emergency_then_urgent_then_routine() -> None:
    score, answers = phq9(12, q9=0)

    result = run(
        scores={
            "startback": startback("high"),
            "phq9": score,
            "red_flags": red_flags("suspected_fracture", "suspected_cauda_equina"),
        },
        answers={"phq9": answers},
        medications=["tramadol", "diazepam"],
    )

    assert [(flag.kind, flag.priority) for flag in result.flags] == [
        ("suspected_cauda_equina", "emergency"),
        ("urgent_medical_review", "urgent"),
        ("medication_review", "urgent"),
        ("psychologically_informed_physiotherapy", "routine"),
        ("psychological_therapy", "routine"),
        ("combined_care", "routine"),
    ]


def test_each_flag_kind_is_raised_at_most_once() -> None:
    result = stratify(**_busy_intake())  # type: ignore[arg-type]

    kinds = [flag.kind for flag in result.flags]
    assert len(kinds) == len(set(kinds))


def test_stratify_is_deterministic() -> None:
    first = stratify(**_busy_intake())  # type: ignore[arg-type]
    second = stratify(**_busy_intake())  # type: ignore[arg-type]

    assert first == second
    assert json.dumps(first.as_dict()) == json.dumps(second.as_dict())


def test_empty_intake_decides_nothing() -> None:
    result = run()

    assert result.as_dict() == {
        "ruleset": "lbp-2026.1",
        "medication_list_version": "2026.1",
        "back_care": None,
        "psychological_therapy": {"recommended": False, "rules": []},
        "combined_care": False,
        "pathway_on_hold": False,
        "persistent": None,
        "urgent": [],
        "reasons": [],
        "flags": [],
        "medications": {"classified": {}, "unknown": []},
    }


def test_unknown_startback_band_is_rejected() -> None:
    odd = ScoreResult(instrument="startback", version="1", total=5, band="moderate")

    with pytest.raises(InvalidStratificationInput):
        run(scores={"startback": odd})


def test_stratification_package_imports_no_django() -> None:
    code = (
        "import sys, intake.stratification; "
        "sys.exit(any(name.split('.')[0] == 'django' for name in sys.modules))"
    )

    completed = subprocess.run([sys.executable, "-c", code], check=False)

    assert completed.returncode == 0
