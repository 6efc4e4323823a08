"""Stratification ruleset `lbp-2026.1` for persistent low back pain: project policy built on
docs/clinical-reference.md §15–§17 and written down in §23.

Read top to bottom: rules run in this order, and a rule may use the decisions of the rules
above it (combined care reads back care and psychological need). Every threshold sits next
to its source. Changing any rule means a new ruleset id, never an edit to this one.
"""

from __future__ import annotations

from .conditions import (
    back_care_is,
    back_care_is_with_any_of,
    band_is,
    medicines_taken_together,
    pain_duration_at_least,
    phq9_item9_at_least,
    phq9_item9_unanswered,
    score_flag_raised,
    total_at_least,
)
from .decisions import EMERGENCY, ROUTINE, URGENT, FlagSpec
from .medications import BENZODIAZEPINE, OPIOID, OTHER_CNS_DEPRESSANT_CLASSES
from .rules import (
    BACK_CARE,
    CHRONICITY,
    COMBINED_CARE,
    MEDICATION,
    PSYCHOLOGICAL_THERAPY,
    Rule,
    Ruleset,
)
from .rules import URGENT as URGENT_TOPIC

RULESET_ID = "lbp-2026.1"

# Referral flags this ruleset raises (docs/clinical-reference.md §23).
SUSPECTED_CAUDA_EQUINA = FlagSpec("suspected_cauda_equina", EMERGENCY)
URGENT_MEDICAL_REVIEW = FlagSpec("urgent_medical_review", URGENT)
MENTAL_HEALTH_SAFETY = FlagSpec("mental_health_safety", URGENT)
MENTAL_HEALTH_SAFETY_EMERGENCY = FlagSpec("mental_health_safety", EMERGENCY)
MENTAL_HEALTH_SAFETY_UNANSWERED = FlagSpec("mental_health_safety_unanswered", URGENT)
MEDICATION_REVIEW = FlagSpec("medication_review", URGENT)
PHYSIOTHERAPY = FlagSpec("physiotherapy", ROUTINE)
PSYCHOLOGICALLY_INFORMED_PHYSIOTHERAPY = FlagSpec("psychologically_informed_physiotherapy", ROUTINE)
PSYCHOLOGICAL_THERAPY_REFERRAL = FlagSpec("psychological_therapy", ROUTINE)
COMBINED_CARE_REFERRAL = FlagSpec("combined_care", ROUTINE)

_RED_FLAGS_SOURCE = (
    "Red-flag categories and urgency tiers: NHS Gloucestershire g-care LBP pathway, RCGP acute "
    "LBP guideline, AHCPR table, NICE NG59 1.1.1 (docs/clinical-reference.md §16); tiers are "
    "project policy lbp-2026.1 (section 23)"
)
_ITEM9_SOURCE = (
    "PHQ-9 item 9 predicts suicide attempt independent of the total (Simon et al. 2013 "
    "Psychiatr Serv; VHA, Psychiatr Serv 2016); item 9 >= 1 same-day review, >= 2 highest "
    "urgency, blank never read as 0: project policy (docs/clinical-reference.md §2 and §23)"
)
_MEDICATION_SOURCE = (
    "CDC 2022 opioid guideline Recommendation 11 (caution with opioids plus benzodiazepines "
    "or other CNS depressants; docs/clinical-reference.md §17); flag is project policy (§23)"
)
_BACK_CARE_SOURCE = (
    "Keele SBST risk groups (keele.ac.uk/sbst; docs/clinical-reference.md §1) matched to treatment "
    "as in Hill et al. Lancet 2011 and protocol BMC Musculoskelet Disord 2008;9:58 table 1 "
    "(section 15); NICE NG59 1.1.2-1.1.3"
)
_PSYCHOLOGICAL_POLICY = (
    "psychological component (CBT / MBSR) alongside, never changing, the STarT Back group is "
    "project policy (docs/clinical-reference.md §15 and §23)"
)
_COMBINED_CARE_SOURCE = (
    "Combined physical + psychological pathway: project policy lbp-2026.1 "
    "(docs/clinical-reference.md §23); NICE NG59 combined programme wording not verified (§15)"
)

RULES: tuple[Rule, ...] = (
    # --- Urgent flags: independent of every total, raised whatever else is missing. ---------
    Rule(
        id="urgent.cauda_equina",
        topic=URGENT_TOPIC,
        description=(
            "Any cauda equina feature: emergency same-day referral; the routine pathway is put "
            "on hold until medical review."
        ),
        source=_RED_FLAGS_SOURCE,
        decision="suspected_cauda_equina",
        condition=score_flag_raised("red_flags", "suspected_cauda_equina"),
        flag=SUSPECTED_CAUDA_EQUINA,
        puts_pathway_on_hold=True,
    ),
    Rule(
        id="urgent.progressive_neurological_deficit",
        topic=URGENT_TOPIC,
        description="Progressive or widespread neurological deficit: urgent medical review, same day.",
        source=_RED_FLAGS_SOURCE,
        decision="progressive_neurological_deficit",
        condition=score_flag_raised("red_flags", "progressive_neurological_deficit"),
        flag=URGENT_MEDICAL_REVIEW,
    ),
    Rule(
        id="urgent.suspected_infection",
        topic=URGENT_TOPIC,
        description="Suspected spinal infection: urgent medical review, same day.",
        source=_RED_FLAGS_SOURCE,
        decision="suspected_infection",
        condition=score_flag_raised("red_flags", "suspected_infection"),
        flag=URGENT_MEDICAL_REVIEW,
    ),
    Rule(
        id="urgent.suspected_malignancy",
        topic=URGENT_TOPIC,
        description="Suspected malignancy: urgent medical review (suspected-cancer pathway, NG12).",
        source=_RED_FLAGS_SOURCE,
        decision="suspected_malignancy",
        condition=score_flag_raised("red_flags", "suspected_malignancy"),
        flag=URGENT_MEDICAL_REVIEW,
    ),
    Rule(
        id="urgent.suspected_fracture",
        topic=URGENT_TOPIC,
        description="Suspected fracture: urgent medical review (imaging / primary care review).",
        source=_RED_FLAGS_SOURCE,
        decision="suspected_fracture",
        condition=score_flag_raised("red_flags", "suspected_fracture"),
        flag=URGENT_MEDICAL_REVIEW,
    ),
    Rule(
        id="urgent.suspected_inflammatory",
        topic=URGENT_TOPIC,
        description="Suspected inflammatory back pain (axial SpA): urgent medical review (rheumatology).",
        source=_RED_FLAGS_SOURCE,
        decision="suspected_inflammatory",
        condition=score_flag_raised("red_flags", "suspected_inflammatory"),
        flag=URGENT_MEDICAL_REVIEW,
    ),
    Rule(
        id="urgent.phq9_q9_ge_1",
        topic=URGENT_TOPIC,
        description="PHQ-9 item 9 answered 1 or more: mental-health safety review, same day.",
        source=_ITEM9_SOURCE,
        decision="mental_health_safety",
        condition=phq9_item9_at_least(1),
        flag=MENTAL_HEALTH_SAFETY,
    ),
    Rule(
        id="urgent.phq9_q9_ge_2",
        topic=URGENT_TOPIC,
        description="PHQ-9 item 9 answered 2 or more: mental-health safety review at emergency priority.",
        source=_ITEM9_SOURCE,
        decision="mental_health_safety",
        condition=phq9_item9_at_least(2),
        flag=MENTAL_HEALTH_SAFETY_EMERGENCY,
    ),
    Rule(
        id="urgent.phq9_q9_unanswered",
        topic=URGENT_TOPIC,
        description="PHQ-9 given but item 9 left blank: ask item 9 (a blank is never read as 0).",
        source=_ITEM9_SOURCE,
        decision="mental_health_safety_unanswered",
        condition=phq9_item9_unanswered(),
        flag=MENTAL_HEALTH_SAFETY_UNANSWERED,
    ),
    # --- Medication safety (tapentadol and tramadol are opioids). -----------------------------
    Rule(
        id="medication.opioid_plus_benzodiazepine",
        topic=MEDICATION,
        description="An opioid with a benzodiazepine: urgent medication review.",
        source=_MEDICATION_SOURCE,
        decision="opioid_plus_benzodiazepine",
        condition=medicines_taken_together(OPIOID, frozenset({BENZODIAZEPINE})),
        flag=MEDICATION_REVIEW,
    ),
    Rule(
        id="medication.consider_naloxone",
        topic=MEDICATION,
        description="An opioid with a benzodiazepine: consider offering naloxone.",
        source=(
            "CDC 2022 opioid guideline Recommendation 8: offer naloxone to patients taking "
            "benzodiazepines with opioids (docs/clinical-reference.md §17)"
        ),
        decision="consider_naloxone",
        condition=medicines_taken_together(OPIOID, frozenset({BENZODIAZEPINE})),
    ),
    Rule(
        id="medication.opioid_plus_other_cns_depressant",
        topic=MEDICATION,
        description=(
            "An opioid with another CNS depressant (muscle relaxant, gabapentinoid, z-drug): "
            "urgent medication review."
        ),
        source=_MEDICATION_SOURCE,
        decision="opioid_plus_other_cns_depressant",
        condition=medicines_taken_together(OPIOID, OTHER_CNS_DEPRESSANT_CLASSES),
        flag=MEDICATION_REVIEW,
    ),
    # --- Back care from the STarT Back group (at most one fires). ---------------------------
    Rule(
        id="back_care.startback_low",
        topic=BACK_CARE,
        description="STarT Back low risk: advice, reassurance and self-management.",
        source=_BACK_CARE_SOURCE,
        decision="self_management",
        condition=band_is("startback", "low", threshold="band == low (total <= 3)"),
    ),
    Rule(
        id="back_care.startback_medium",
        topic=BACK_CARE,
        description="STarT Back medium risk: physiotherapy.",
        source=_BACK_CARE_SOURCE,
        decision="physiotherapy",
        condition=band_is(
            "startback",
            "medium",
            threshold="band == medium (total >= 4, psychosocial <= 3)",
        ),
        flag=PHYSIOTHERAPY,
    ),
    Rule(
        id="back_care.startback_high",
        topic=BACK_CARE,
        description="STarT Back high risk: psychologically informed physiotherapy.",
        source=_BACK_CARE_SOURCE,
        decision="psychologically_informed_physiotherapy",
        condition=band_is("startback", "high", threshold="band == high (psychosocial >= 4)"),
        flag=PSYCHOLOGICALLY_INFORMED_PHYSIOTHERAPY,
    ),
    # --- Psychological need: each firing rule is listed; never changes the STarT Back group. -
    Rule(
        id="psych.phq9_ge_10",
        topic=PSYCHOLOGICAL_THERAPY,
        description="PHQ-9 total 10 or more (moderate depression or worse): psychological therapy.",
        source=(
            "PHQ-9 >= 10 moderate, identifies major depression (Kroenke 2001; "
            "docs/clinical-reference.md §2); " + _PSYCHOLOGICAL_POLICY
        ),
        decision="psychological_therapy",
        condition=total_at_least("phq9", 10),
        flag=PSYCHOLOGICAL_THERAPY_REFERRAL,
    ),
    Rule(
        id="psych.gad7_ge_10",
        topic=PSYCHOLOGICAL_THERAPY,
        description="GAD-7 total 10 or more (moderate anxiety or worse): psychological therapy.",
        source=(
            "GAD-7 >= 10 further evaluation (Spitzer 2006; docs/clinical-reference.md §3); "
            + _PSYCHOLOGICAL_POLICY
        ),
        decision="psychological_therapy",
        condition=total_at_least("gad7", 10),
        flag=PSYCHOLOGICAL_THERAPY_REFERRAL,
    ),
    Rule(
        id="psych.pcs_ge_30",
        topic=PSYCHOLOGICAL_THERAPY,
        description="PCS total 30 or more (clinically relevant catastrophising): psychological therapy.",
        source=(
            "PCS >= 30 ~75th percentile, clinically relevant (Sullivan 2009 PCS manual; >= vs > "
            "at 30 not confirmed, project policy >= 30; docs/clinical-reference.md §10); "
            + _PSYCHOLOGICAL_POLICY
        ),
        decision="psychological_therapy",
        condition=total_at_least("pcs", 30),
        flag=PSYCHOLOGICAL_THERAPY_REFERRAL,
    ),
    Rule(
        id="psych.isi_ge_15",
        topic=PSYCHOLOGICAL_THERAPY,
        description="ISI total 15 or more (clinical insomnia): psychological therapy.",
        source=(
            "ISI 15-21 clinical insomnia (moderate), 22-28 severe (VA ISI page; Morin 2011; "
            "docs/clinical-reference.md §13); " + _PSYCHOLOGICAL_POLICY
        ),
        decision="psychological_therapy",
        condition=total_at_least("isi", 15),
        flag=PSYCHOLOGICAL_THERAPY_REFERRAL,
    ),
    # --- Combined physical + psychological care. --------------------------------------------
    Rule(
        id="combined_care.startback_high",
        topic=COMBINED_CARE,
        description="Psychologically informed physiotherapy is itself combined care.",
        source=_COMBINED_CARE_SOURCE,
        decision="combined_care",
        condition=back_care_is("psychologically_informed_physiotherapy"),
        flag=COMBINED_CARE_REFERRAL,
    ),
    Rule(
        id="combined_care.physiotherapy_with_psychological_therapy",
        topic=COMBINED_CARE,
        description="Physiotherapy together with a psychological therapy referral is combined care.",
        source=_COMBINED_CARE_SOURCE,
        decision="combined_care",
        condition=back_care_is_with_any_of("physiotherapy", PSYCHOLOGICAL_THERAPY),
        flag=COMBINED_CARE_REFERRAL,
    ),
    # --- Chronicity: reported only; never lowers any flag. ----------------------------------
    Rule(
        id="chronicity.persistent",
        topic=CHRONICITY,
        description="Pain for 12 weeks or more: the episode is persistent.",
        source="Persistent = pain duration >= 12 weeks: project policy (docs/clinical-reference.md §23)",
        decision="persistent",
        condition=pain_duration_at_least(12),
    ),
)

LBP_2026_1 = Ruleset(
    id=RULESET_ID,
    description=(
        "Persistent low back pain v1: STarT Back matched care, psychological need, combined "
        "care, red flags, PHQ-9 item 9 safety, opioid co-prescribing (docs/clinical-reference.md §23)."
    ),
    rules=RULES,
)
