"""Red-flag screen for serious spinal pathology: docs/clinical-reference.md §16.

One yes/no item per feature; one flag per category, raised by any positive feature of that
category. The categories and features are the section 16 table; urgency belongs to the
stratification ruleset, not here.
"""

from __future__ import annotations

from intake.instruments.definition import (
    YES_NO,
    AllItemsRequired,
    Flag,
    InstrumentDefinition,
    Item,
    Loinc,
    at_least,
)

GCARE = "NHS Gloucestershire g-care https://g-care.glos.nhs.uk/pathway/75/resource/3"
AHCPR = "AHCPR table https://www.ncbi.nlm.nih.gov/books/NBK52120/table/A34364/"

# (flag, source, ((item id, label), …)) — the section 16 table, row by row.
CATEGORIES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "suspected_cauda_equina",
        f"[P {GCARE}; RCGP acute LBP guideline; {AHCPR}]",
        (
            ("bladder_dysfunction", "New bladder dysfunction (retention or incontinence)"),
            ("bowel_incontinence", "Bowel incontinence or anal sphincter laxity"),
            ("saddle_anaesthesia", "Saddle (perineal/perianal) numbness or tingling"),
            ("sexual_dysfunction", "New sexual dysfunction"),
            ("bilateral_leg_pain", "Pain or sciatica in both legs"),
            (
                "severe_neurological_deficit",
                "Severe or progressive lower-limb neurological deficit or gait disturbance",
            ),
        ),
    ),
    (
        "progressive_neurological_deficit",
        f"[P {GCARE}; S regional NHS pathway, slideplayer.com/13261345]",
        (
            ("progressive_weakness", "Progressive limb weakness"),
            ("widespread_neurology", "Widespread neurological symptoms or signs"),
            ("foot_drop", "Foot drop"),
            ("upgoing_plantars", "Upgoing plantar responses (examination finding)"),
        ),
    ),
    (
        "suspected_infection",
        f"[P {GCARE}; {AHCPR}; S slideplayer.com/13261345]",
        (
            ("fever", "Fever, chills, rigors or feeling systemically unwell"),
            ("iv_drug_use", "Intravenous drug use"),
            ("immunosuppression", "Immunosuppression (steroids, HIV, transplant, biologics)"),
            ("recent_bacterial_infection", "Recent bacterial infection (e.g. urinary tract infection)"),
            ("penetrating_wound", "Penetrating wound near the spine"),
        ),
    ),
    (
        "suspected_malignancy",
        f"[P {GCARE}; {AHCPR}; NICE NG59 1.1.1 → NG12]",
        (
            ("history_of_cancer", "History of cancer"),
            ("unexplained_weight_loss", "Unexplained weight loss"),
            ("age_at_onset_over_50_or_under_20", "Age over 50 (or 55) or under 20 at new onset"),
            ("failure_to_improve", "No improvement after 1 month"),
            ("night_pain", "Persistent night or rest pain"),
            ("thoracic_pain", "Thoracic pain"),
        ),
    ),
    (
        "suspected_fracture",
        f"[P {GCARE}; {AHCPR}; Verhagen et al. Eur Spine J 2016 (most guidelines: trauma + steroid use)]",
        (
            ("major_trauma", "Major trauma"),
            (
                "minor_trauma_with_osteoporosis",
                "Minor trauma or strenuous lifting with osteoporosis or older age",
            ),
            ("long_term_corticosteroids", "Long-term corticosteroid use"),
            ("structural_deformity", "Structural spinal deformity"),
            ("sudden_severe_central_pain", "Sudden severe central pain relieved by lying down"),
        ),
    ),
    (
        "suspected_inflammatory",
        "[P NICE NG59 1.1.1 (→ NG65); S slideplayer.com/13261345]",
        (
            ("younger_onset", "Back pain began at a younger age (threshold not fixed by the reference, NC)"),
            ("morning_stiffness", "Morning stiffness"),
            ("improves_with_exercise", "Improves with exercise"),
            ("second_half_night_waking", "Waking in the second half of the night"),
            ("alternating_buttock_pain", "Alternating buttock pain"),
        ),
    ),
)

DEFINITION = InstrumentDefinition(
    code="red_flags",
    version="1.0.0",
    title="Red flags for serious spinal pathology",
    recall_period="current episode (repeat when symptoms change, NICE NG59 1.1.1)",
    items=tuple(
        Item(item_id, label, YES_NO, kind="yes_no")
        for _flag, _source, features in CATEGORIES
        for item_id, label in features
    ),
    # Total = number of positive features (docs/clinical-reference.md §21).
    total_rule="sum",
    total_range=(0, sum(len(features) for _flag, _source, features in CATEGORIES)),
    missing_rule=AllItemsRequired(
        "Project policy: the count of positives needs every item (a partial screen must not read "
        "as '0 red flags'); category flags are still raised from the answered positives and the "
        "unanswered items are listed."
    ),
    flags=tuple(
        Flag(flag, tuple(at_least(item_id, 1) for item_id, _label in features), source, any_of=True)
        for flag, source, features in CATEGORIES
    ),
    mcid=None,  # Not an outcome measure.
    loinc=Loinc(source="No LOINC panel (project screen built on docs/clinical-reference.md §16)."),
    licence="Project screen built from public guideline material; no licence needed.",
    sources=(
        f"[P {GCARE}]",
        f"[P {AHCPR}]",
        "[P NICE NG59 https://www.nice.org.uk/guidance/ng59/chapter/Recommendations]",
        "[P Verhagen et al. Eur Spine J 2016]",
    ),
    notes=(
        "Guidelines list 46 different red flags with little accuracy data; several have high "
        "false-positive rates [P Verhagen 2016; S g-care].",
        "Immunosuppression (incl. steroids) raises suspected_infection; long-term corticosteroids "
        "raises suspected_fracture.",
    ),
)
