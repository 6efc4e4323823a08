"""The versioned medicine list that sorts a patient's medicines into the classes the
medication-safety rules read (docs/clinical-reference.md §17, CDC 2022 Recommendations 8 and 11).

Names are matched exactly after a small, documented normalisation; a name that is not on
the list is reported as unknown and never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

# Bump whenever a name or a class changes: stored stratifications record the version they used.
MEDICATION_LIST_VERSION = "2026.1"

OPIOID = "opioid"
BENZODIAZEPINE = "benzodiazepine"
MUSCLE_RELAXANT = "muscle_relaxant"
GABAPENTINOID = "gabapentinoid"
Z_DRUG = "z_drug"

# CDC 2022 implementation considerations for Recommendation 11 name "muscle relaxants,
# non-benzodiazepine sedative hypnotics, and potentially sedating anticonvulsants such as
# gabapentin and pregabalin" as the other CNS depressants (docs/clinical-reference.md §17).
OTHER_CNS_DEPRESSANT_CLASSES = frozenset({MUSCLE_RELAXANT, GABAPENTINOID, Z_DRUG})

_OPIOIDS = {
    # Generic names. Tapentadol and tramadol are opioids (CDC MME table, factors 0.4 and 0.2;
    # CDS value set "opioid analgesics with ambulatory misuse potential"), never muscle
    # relaxants (docs/clinical-reference.md §17 and §19, trap 12).
    "morphine": "morphine",
    "oxycodone": "oxycodone",
    "hydrocodone": "hydrocodone",
    "hydromorphone": "hydromorphone",
    "oxymorphone": "oxymorphone",
    "codeine": "codeine",
    "dihydrocodeine": "dihydrocodeine",
    "tramadol": "tramadol",
    "tapentadol": "tapentadol",
    "fentanyl": "fentanyl",
    "buprenorphine": "buprenorphine",
    "methadone": "methadone",
    "meperidine": "meperidine",
    "pethidine": "pethidine",
    "levorphanol": "levorphanol",
    "pentazocine": "pentazocine",
    "butorphanol": "butorphanol",
    "diamorphine": "diamorphine",
    # UK combination products named for their opioid component.
    "co-codamol": "codeine",
    "co-dydramol": "dihydrocodeine",
    # Brand names.
    "nucynta": "tapentadol",
    "palexia": "tapentadol",
    "ultram": "tramadol",
    "zydol": "tramadol",
    "oxycontin": "oxycodone",
    "percocet": "oxycodone",
    "vicodin": "hydrocodone",
    "norco": "hydrocodone",
    "dilaudid": "hydromorphone",
    "ms contin": "morphine",
    "duragesic": "fentanyl",
    "subutex": "buprenorphine",
    "suboxone": "buprenorphine",
    "butrans": "buprenorphine",
    "demerol": "meperidine",
}

_BENZODIAZEPINES = {
    # CDC CDS value set `benzodiazepine-medications` (cqframework/opioid-cds-r4,
    # docs/clinical-reference.md §17).
    "diazepam": "diazepam",
    "lorazepam": "lorazepam",
    "alprazolam": "alprazolam",
    "clonazepam": "clonazepam",
    "temazepam": "temazepam",
    "chlordiazepoxide": "chlordiazepoxide",
    "oxazepam": "oxazepam",
    "nitrazepam": "nitrazepam",
    "midazolam": "midazolam",
    "clobazam": "clobazam",
    "clorazepate": "clorazepate",
    "triazolam": "triazolam",
    "flurazepam": "flurazepam",
    "estazolam": "estazolam",
    "lormetazepam": "lormetazepam",
    # Brand names.
    "valium": "diazepam",
    "ativan": "lorazepam",
    "xanax": "alprazolam",
    "klonopin": "clonazepam",
    "rivotril": "clonazepam",
    "restoril": "temazepam",
    "librium": "chlordiazepoxide",
    "halcion": "triazolam",
}

_MUSCLE_RELAXANTS = {
    # Carisoprodol is in the CDS project's archived "non-opioid CNS depressant medications"
    # value set (docs/clinical-reference.md §17); the others are the usual skeletal muscle
    # relaxants, covered by CDC's "muscle relaxants" example.
    "carisoprodol": "carisoprodol",
    "cyclobenzaprine": "cyclobenzaprine",
    "methocarbamol": "methocarbamol",
    "baclofen": "baclofen",
    "tizanidine": "tizanidine",
    "metaxalone": "metaxalone",
    "orphenadrine": "orphenadrine",
    "chlorzoxazone": "chlorzoxazone",
    # Brand names.
    "soma": "carisoprodol",
    "flexeril": "cyclobenzaprine",
    "amrix": "cyclobenzaprine",
    "robaxin": "methocarbamol",
    "lioresal": "baclofen",
    "zanaflex": "tizanidine",
    "skelaxin": "metaxalone",
    "norflex": "orphenadrine",
}

_GABAPENTINOIDS = {
    # "Potentially sedating anticonvulsants such as gabapentin and pregabalin"; opioid plus
    # gabapentin carries higher overdose risk than either alone (CDC 2022 draft, section 17).
    "gabapentin": "gabapentin",
    "pregabalin": "pregabalin",
    # Brand names.
    "neurontin": "gabapentin",
    "gralise": "gabapentin",
    "lyrica": "pregabalin",
    "alzain": "pregabalin",
}

_Z_DRUGS = {
    # Non-benzodiazepine sedative hypnotics (CDC 2022 example; zolpidem and zaleplon are in
    # the CDS `cns-depressant-medications` value set, docs/clinical-reference.md §17).
    "zolpidem": "zolpidem",
    "zaleplon": "zaleplon",
    "eszopiclone": "eszopiclone",
    "zopiclone": "zopiclone",
    # Brand names.
    "ambien": "zolpidem",
    "stilnoct": "zolpidem",
    "sonata": "zaleplon",
    "lunesta": "eszopiclone",
    "zimovane": "zopiclone",
}


def _build_list() -> Mapping[str, tuple[str, tuple[str, ...]]]:
    """Normalised name -> (generic name, classes). A name may not sit in two classes by accident."""
    entries: dict[str, tuple[str, tuple[str, ...]]] = {}
    for medicine_class, names in (
        (OPIOID, _OPIOIDS),
        (BENZODIAZEPINE, _BENZODIAZEPINES),
        (MUSCLE_RELAXANT, _MUSCLE_RELAXANTS),
        (GABAPENTINOID, _GABAPENTINOIDS),
        (Z_DRUG, _Z_DRUGS),
    ):
        for name, generic in names.items():
            if name in entries:
                raise ValueError(f"medicine {name!r} is listed in two classes")
            entries[name] = (generic, (medicine_class,))
    return MappingProxyType(entries)


MEDICATION_LIST: Mapping[str, tuple[str, tuple[str, ...]]] = _build_list()

# A single trailing strength such as "50mg", "50 mg", "2.5 mg" or "25 micrograms". Combined
# strengths ("30/500") and forms ("ER", "patch") are not stripped: such names stay unknown.
_TRAILING_STRENGTH = re.compile(r"\s+\d+(?:\.\d+)?\s*(?:mg|mcg|µg|micrograms?)$")
# A trailing salt name never changes the class ("oxycodone hydrochloride" is oxycodone).
_TRAILING_SALT = re.compile(
    r"\s+(?:hydrochloride|hcl|sulfate|sulphate|phosphate|tartrate|bitartrate|citrate"
    r"|maleate|mesylate|besilate)$"
)


def normalise_medicine_name(name: str) -> str:
    """The name as the medicine list spells it: lower-case, single spaces, with one trailing
    strength and then one trailing salt name removed. Nothing else: no fuzzy matching."""
    normalised = " ".join(name.split()).lower()
    normalised = _TRAILING_STRENGTH.sub("", normalised)
    normalised = _TRAILING_SALT.sub("", normalised)
    return normalised


def lookup_medicine(name: str) -> tuple[str, tuple[str, ...]] | None:
    """(generic name, classes) for a medicine on the list, or None when it is not listed."""
    return MEDICATION_LIST.get(normalise_medicine_name(name))


def classify_medications(
    names: Iterable[str],
) -> tuple[dict[str, list[str]], list[str]]:
    """Sort medicine names into classes.

    Returns `(classified, unknown)`: `classified` maps each listed name, as supplied, to its
    classes; `unknown` lists, in the order supplied and once each, the names not on the list.
    "Unknown" means only "not on this list" — it says nothing about the medicine's safety.
    """
    if isinstance(names, str):
        raise TypeError("classify_medications() takes a sequence of names, not one string")
    classified: dict[str, list[str]] = {}
    unknown: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"medicine names must be strings, got {type(name).__name__}")
        entry = lookup_medicine(name)
        if entry is not None:
            classified[name] = list(entry[1])
        elif name not in unknown:
            unknown.append(name)
    return classified, unknown
