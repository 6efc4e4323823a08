"""FHIR R4 QuestionnaireResponse → raw answers for the instrument engine. Pure Python (no Django).

Two kinds of response are accepted:

* **Ours** (case A): `questionnaire` is `{base_url}/Questionnaire/{code}|{version}` as rendered by
  `intake.fhir.questionnaire.questionnaire_for`; linkIds are our item ids.
* **LOINC-coded PHQ-9 / GAD-7 from another system** (case B): the instrument is identified by
  LOINC (panel code on the Questionnaire, the total-score item code, or item codes); items are
  matched by their LOINC item code, carried by the linkId itself (LHC-Forms `/44250-9`) or by the
  `code` of the supplied Questionnaire's item.

Policies (each one refuses rather than guesses; see `map_questionnaire_response`):

* The item order is never read from linkId text (`PHQ.1`, `H1/T1/Q1`). A supplied Questionnaire
  identified by LOINC whose question items carry no item codes (the HL7 SDC PHQ-9 example) is
  mapped by the Questionnaire's own item order, and only when it has exactly the instrument's
  number of uncoded question items and every item's wording starts like the published item.
* Answers are LOINC answer codes (LL358-3 etc., with or without `system`), local codes weighted
  in the supplied Questionnaire (`ordinalValue`/`itemWeight` on `answerOption` or on a contained
  ValueSet's `compose.include.concept`), or `valueInteger`. The weights of a foreign Questionnaire
  are taken as raw values, which is exact for PHQ-9 and GAD-7 (no reversed items).
* A client-stated total is read, never trusted: the engine recomputes it and
  `check_stated_total` reports a difference as a warning.
* Missing items stay missing (the engine's missing-item rule applies), never 0.

Before any of this, `check_document` applies the input rules to the whole body (400, not 422):
every array within `intake.limits` (items at every depth, nesting, any other array), and the
characters of `intake.text` — codes, ids, references, identifiers and date-times are short text,
everything else (`text`, `display`, notes) free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from intake.fhir.outcome import FhirMappingError, Issue, IssueCode, operation_outcome
from intake.instruments import InstrumentDefinition, InstrumentError, Item, ScoreResult, get, score
from intake.instruments.definition import LOINC
from intake.limits import MAX_FHIR_ARRAY_ITEMS, MAX_FHIR_ITEMS, MAX_FHIR_NESTING
from intake.text import refusal

__all__ = [
    "EXTERNAL_INSTRUMENTS",
    "FhirMappingError",
    "Issue",
    "ItemLocation",
    "MappedResponse",
    "bundle_questionnaire_responses",
    "bundle_questionnaires",
    "check_document",
    "check_stated_total",
    "instrument_error_issue",
    "map_questionnaire_response",
    "operation_outcome",
    "score_mapped",
]

# Instruments accepted from other systems by LOINC (case B). Their item and answer LOINC codes
# come from the definitions (docs/clinical-reference.md §2, §3); their raw values equal their weights.
EXTERNAL_INSTRUMENTS = ("phq9", "gad7")

WEIGHT_EXTENSIONS = frozenset(
    {
        "http://hl7.org/fhir/StructureDefinition/ordinalValue",  # R4 / SDC 3
        "http://hl7.org/fhir/StructureDefinition/itemWeight",  # R5 name, used by questionnaire_for
        "http://hl7.org/fhir/StructureDefinition/questionnaire-ordinalValue",  # STU3
    }
)
UCUM = "http://unitsofmeasure.org"
QUESTION_TYPES = frozenset({"choice", "open-choice", "integer", "decimal", "coding", "boolean", "string"})
# How many leading words of the published wording an uncoded item must repeat (positional mapping).
WORDING_WORDS = 4
# Weights and totals are small numbers, and int(Decimal("1e1000000")) takes minutes (quadratic):
# a number with more integer digits than this is not read.
MAX_INTEGER_DIGITS = 15

# FHIR R4 dateTime with seconds and a zone; offsets within ±14:00 as the datatype's regex has it
# (http://hl7.org/fhir/R4/datatypes.html#dateTime) — PostgreSQL refuses larger ones.
_FULL_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)
# Elements holding codes, ids, references, canonicals and date-times: short text (`intake.text`).
# `value` is one too inside an `identifier`; every other string is free text.
SHORT_TEXT_ELEMENTS = frozenset(
    {
        "resourceType",
        "id",
        "linkId",
        "system",
        "code",
        "version",
        "reference",
        "questionnaire",
        "url",
        "fullUrl",
        "status",
        "language",
        "authored",
        "lastUpdated",
        "answerValueSet",
        "valueCode",
        "valueUri",
        "valueUrl",
        "valueCanonical",
        "valueId",
        "valueOid",
        "valueUuid",
        "valueDate",
        "valueDateTime",
        "valueTime",
        "valueInstant",
    }
)
# Enough issues to fix a body in one go; a body with thousands of bad strings gets a short reply.
MAX_INPUT_ISSUES = 20
_LOINC_CODE = re.compile(r"^\d{1,8}-\d$")
_LOINC_ANSWER = re.compile(r"^LA\d{1,8}-\d$")


@dataclass(frozen=True)
class ItemLocation:
    """Where an engine item was found in the response: FHIRPath expression and the client's linkId."""

    expression: str
    link_id: str


@dataclass(frozen=True)
class MappedResponse:
    """A QuestionnaireResponse mapped to one instrument's raw answers (item id → raw value), ready
    for `intake.instruments.score(instrument, answers)`. `issues` holds warnings only."""

    instrument: str
    instrument_version: str
    answers: dict[str, int | bool]
    questionnaire: str | None
    subject: dict[str, Any] | None
    authored: datetime | None
    stated_total: int | Decimal | None = None
    issues: tuple[Issue, ...] = ()
    locations: dict[str, ItemLocation] = field(default_factory=dict)
    stated_total_expression: str | None = None


# --- public API ----------------------------------------------------------------------------------


def map_questionnaire_response(
    resource: Mapping[str, Any],
    *,
    base_url: str,
    questionnaires: Mapping[str, Mapping[str, Any]] | None = None,
) -> MappedResponse:
    """Map one QuestionnaireResponse to raw answers of one instrument, or raise FhirMappingError
    naming every item that cannot be mapped unambiguously.

    `questionnaires` are Questionnaires the client sent alongside (from a Bundle), keyed by
    canonical url, `url|version`, id or `Questionnaire/id`; Questionnaires in the response's
    own `contained` are used too. Only a Questionnaire the response's `questionnaire` element
    points at is ever used.
    """
    base_url = base_url.rstrip("/")
    check_document(resource, root="QuestionnaireResponse")
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "QuestionnaireResponse":
        raise FhirMappingError(
            [
                Issue(
                    "error",
                    "invalid",
                    "Expected a QuestionnaireResponse resource.",
                    ("QuestionnaireResponse",),
                )
            ]
        )
    shape_errors = list(_item_shape_errors(resource.get("item"), "QuestionnaireResponse"))
    if shape_errors:
        raise FhirMappingError(shape_errors)
    warnings: list[Issue] = []
    canonical = resource.get("questionnaire")
    if canonical is not None and not isinstance(canonical, str):
        raise FhirMappingError(
            [
                _error(
                    "invalid",
                    "questionnaire must be a canonical string.",
                    "QuestionnaireResponse.questionnaire",
                )
            ]
        )
    url, _, version = (canonical or "").partition("|")
    ours = f"{base_url}/Questionnaire/"
    if url.startswith(ours):
        mapping = _map_ours(resource, url[len(ours) :], version or None, base_url, warnings)
    else:
        mapping = _map_external(resource, canonical, questionnaires or {}, warnings)
    answers, locations, stated_total, total_expression, definition = mapping
    authored = _authored(resource.get("authored"), warnings)
    subject = resource.get("subject")
    return MappedResponse(
        instrument=definition.code,
        instrument_version=definition.version,
        answers=answers,
        questionnaire=canonical,
        subject=dict(subject) if isinstance(subject, Mapping) else None,
        authored=authored,
        stated_total=stated_total,
        issues=tuple(warnings),
        locations=locations,
        stated_total_expression=total_expression,
    )


def check_document(document: Any, *, root: str) -> None:
    """Refuse (FhirMappingError, status 400) a FHIR body breaking the input rules, naming each
    offending element by its FHIRPath from `root`: an array over `MAX_FHIR_ARRAY_ITEMS`, more
    than `MAX_FHIR_ITEMS` items or nesting deeper than `MAX_FHIR_NESTING`, a forbidden character
    (`intake.text`) in a key, a short-text element or a free-text one. An oversized array is not
    read further, so the cost of the check is bounded by the limits, not by the body."""
    issues: list[Issue] = []
    item_count = 0

    def refuse(code: IssueCode, diagnostics: str, expression: str) -> None:
        if len(issues) < MAX_INPUT_ISSUES:
            issues.append(_error(code, diagnostics, expression))

    def walk(node: Any, path: str, element: str, container: str, depth: int) -> None:
        nonlocal item_count
        if isinstance(node, Mapping):
            for index, (key, value) in enumerate(node.items()):
                message = refusal(str(key))
                if message is not None:
                    refuse("invalid", f"Element name {index + 1} of {path}: {message}", path)
                    continue
                walk(value, f"{path}.{key}", str(key), element, depth)
        elif isinstance(node, list):
            if len(node) > MAX_FHIR_ARRAY_ITEMS:
                refuse(
                    "too-costly",
                    f"{path} holds {len(node)} elements; at most {MAX_FHIR_ARRAY_ITEMS} are accepted.",
                    path,
                )
                return
            if element == "item":
                item_count += len(node)
                depth += 1
                if depth > MAX_FHIR_NESTING:
                    refuse(
                        "too-costly",
                        f"Items are nested more than {MAX_FHIR_NESTING} deep.",
                        path,
                    )
                    return
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]", element, container, depth)
        elif isinstance(node, str):
            short = element in SHORT_TEXT_ELEMENTS or (element == "value" and container == "identifier")
            message = refusal(node, free_text=not short)
            if message is not None:
                refuse("invalid", f"{path}: {message}", path)

    walk(document, root, "", "", 0)
    if item_count > MAX_FHIR_ITEMS:
        refuse(
            "too-costly",
            f"The body holds {item_count} items at all depths; at most {MAX_FHIR_ITEMS} are accepted.",
            root,
        )
    if issues:
        raise FhirMappingError(issues, status_code=400)


def check_stated_total(mapped: MappedResponse, result: ScoreResult) -> Issue | None:
    """A warning when the total the client stated differs from the score we computed."""
    if mapped.stated_total is None:
        return None
    expression = (mapped.stated_total_expression,) if mapped.stated_total_expression else ()
    if result.total is None:
        return Issue(
            "warning",
            "business-rule",
            f"The response states a total of {mapped.stated_total}, but {result.instrument} is not "
            f"scorable from its answers (missing: {', '.join(result.missing) or 'none'}); "
            "the stated total was ignored.",
            expression,
        )
    if Decimal(mapped.stated_total) == Decimal(result.total):
        return None
    return Issue(
        "warning",
        "business-rule",
        f"The response states a total of {mapped.stated_total}, but its answers score "
        f"{result.total} on {result.instrument} (version {result.version}); the computed "
        f"score {result.total} is used.",
        expression,
    )


def instrument_error_issue(error: InstrumentError, mapped: MappedResponse) -> Issue:
    """An error issue for an engine refusal (e.g. an out-of-range value), pointing at the item."""
    location = mapped.locations.get(error.item) if error.item else None
    if location is None:
        return Issue("error", "value", str(error), ("QuestionnaireResponse",))
    return Issue("error", "value", f"linkId {location.link_id!r}: {error}", (location.expression,))


def score_mapped(mapped: MappedResponse) -> ScoreResult:
    """Score a mapped response; an engine refusal becomes FhirMappingError with the item's expression."""
    try:
        return score(mapped.instrument, mapped.answers)
    except InstrumentError as error:
        raise FhirMappingError([instrument_error_issue(error, mapped), *mapped.issues]) from error


def bundle_questionnaires(bundle: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The Questionnaires of a Bundle keyed by canonical url, `url|version`, id, `Questionnaire/id`
    and fullUrl: the `questionnaires` argument of `map_questionnaire_response`."""
    found: dict[str, Mapping[str, Any]] = {}
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "Questionnaire":
            continue
        for key in _questionnaire_keys(resource):
            found.setdefault(key, resource)
        if isinstance(entry.get("fullUrl"), str):
            found.setdefault(entry["fullUrl"], resource)
    return found


def bundle_questionnaire_responses(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The QuestionnaireResponses of a Bundle, in entry order."""
    return [
        entry["resource"]
        for entry in bundle.get("entry") or []
        if (entry.get("resource") or {}).get("resourceType") == "QuestionnaireResponse"
    ]


# --- case A: our own Questionnaires --------------------------------------------------------------

_Mapping = tuple[
    dict[str, int | bool], dict[str, ItemLocation], int | Decimal | None, str | None, InstrumentDefinition
]


def _map_ours(
    resource: Mapping[str, Any], code: str, version: str | None, base_url: str, warnings: list[Issue]
) -> _Mapping:
    where = "QuestionnaireResponse.questionnaire"
    try:
        definition = get(code)
    except InstrumentError:
        raise FhirMappingError(
            [_error("not-found", f"Questionnaire {base_url}/Questionnaire/{code} is not one of ours.", where)]
        ) from None
    if version is None:
        warnings.append(
            Issue(
                "warning",
                "business-rule",
                f"questionnaire is not pinned to a version; scored against {code} version "
                f"{definition.version} (send {base_url}/Questionnaire/{code}|{definition.version}).",
                (where,),
            )
        )
    elif version != definition.version:
        raise FhirMappingError(
            [
                _error(
                    "not-supported",
                    f"The response was made with {code} version {version}, but this service scores "
                    f"{code} version {definition.version}; fetch the current Questionnaire and resend.",
                    where,
                )
            ]
        )
    answer_system = f"{base_url}/CodeSystem/{code}"
    item_ids = {item.id: item for item in definition.items}
    answers: dict[str, int | bool] = {}
    locations: dict[str, ItemLocation] = {}
    errors: list[Issue] = []
    for expression, qr_item in _walk(resource):
        link_id = qr_item.get("linkId")
        answer_list = qr_item.get("answer") or []
        item = item_ids.get(link_id) if isinstance(link_id, str) else None
        if item is None:
            if answer_list:
                errors.append(
                    _error(
                        "not-found",
                        f"linkId {link_id!r} is not an item of {code}; items are {', '.join(item_ids)}.",
                        expression,
                    )
                )
            continue
        if item.id in locations:
            errors.append(_error("duplicate", f"linkId {link_id!r} appears more than once.", expression))
            continue
        locations[item.id] = ItemLocation(expression, item.id)
        if not answer_list:
            continue
        value = _our_value(item, answer_list, answer_system, code, expression, errors)
        if value is not None:
            answers[item.id] = value
    if errors:
        raise FhirMappingError([*errors, *warnings])
    return answers, locations, None, None, definition


def _our_value(
    item: Item,
    answer_list: list[Any],
    answer_system: str,
    code: str,
    expression: str,
    errors: list[Issue],
) -> int | bool | None:
    where = f"{expression}.answer[0]"
    if len(answer_list) > 1:
        errors.append(_error("structure", f"linkId {item.id!r}: more than one answer.", expression))
        return None
    kind, value = _value_of(answer_list[0])
    if kind == "valueInteger" and type(value) is int:
        return value  # range is checked by the engine (see instrument_error_issue)
    if kind == "valueBoolean" and type(value) is bool:
        if item.kind == "yes_no":
            return value
        errors.append(_error("value", f"linkId {item.id!r}: a boolean answers only yes/no items.", where))
        return None
    if kind == "valueCoding" and isinstance(value, Mapping):
        system, answer_code = value.get("system"), value.get("code")
        if system in (None, LOINC):
            for option in item.options:
                if option.loinc is not None and option.loinc == answer_code:
                    return option.value
        # ASCII digits only: isdigit() also accepts "²" (int() raises) and "٣" (int() reads 3).
        if (
            system in (None, answer_system)
            and isinstance(answer_code, str)
            and answer_code.isascii()
            and answer_code.isdigit()
        ):
            return int(answer_code)
        errors.append(
            _error(
                "code-invalid",
                f"linkId {item.id!r}: coding {system or '(no system)'}#{answer_code} is not an answer "
                f"of {code}.{item.id}; use a code of {answer_system} or the item's LOINC answer code.",
                where,
            )
        )
        return None
    errors.append(_error("value", f"linkId {item.id!r}: unsupported answer {kind}.", where))
    return None


# --- case B: LOINC-coded PHQ-9 / GAD-7 from another system ---------------------------------------

_Weight = tuple[str | None, str, Any]
"""(answer system, answer code, weight) as a supplied Questionnaire states it."""


@dataclass(frozen=True)
class _LoincInstrument:
    definition: InstrumentDefinition
    items: dict[str, Item]  # item LOINC → item


def _loinc_instruments() -> tuple[_LoincInstrument, ...]:
    return tuple(
        _LoincInstrument(
            definition=get(code),
            items={item.loinc: item for item in get(code).items if item.loinc},
        )
        for code in EXTERNAL_INSTRUMENTS
    )


_LOINC_INSTRUMENTS = _loinc_instruments()


def _instrument_by_code(code: str) -> _LoincInstrument | None:
    for candidate in _LOINC_INSTRUMENTS:
        loinc = candidate.definition.loinc
        if code in (loinc.panel, loinc.total) or code in candidate.items:
            return candidate
    return None


def _map_external(
    resource: Mapping[str, Any],
    canonical: str | None,
    supplied: Mapping[str, Mapping[str, Any]],
    warnings: list[Issue],
) -> _Mapping:
    questionnaire, errors = _resolve_questionnaire(resource, canonical, supplied, warnings)
    if errors:
        raise FhirMappingError([*errors, *warnings])
    qr_items = list(_walk(resource))
    if questionnaire is not None:
        return _map_with_questionnaire(questionnaire, qr_items, canonical, warnings)
    return _map_by_link_ids(qr_items, canonical, warnings)


def _resolve_questionnaire(
    resource: Mapping[str, Any],
    canonical: str | None,
    supplied: Mapping[str, Mapping[str, Any]],
    warnings: list[Issue],
) -> tuple[Mapping[str, Any] | None, list[Issue]]:
    """The Questionnaire the response points at, among those supplied or contained (or None)."""
    where = "QuestionnaireResponse.questionnaire"
    if not canonical:
        return None, []
    url, _, version = canonical.partition("|")
    pool: dict[str, Mapping[str, Any]] = {}
    for contained in resource.get("contained") or []:
        if isinstance(contained, Mapping) and contained.get("resourceType") == "Questionnaire":
            if isinstance(contained.get("id"), str):
                pool.setdefault("#" + contained["id"], contained)
            for key in _questionnaire_keys(contained):
                pool.setdefault(key, contained)
    for key, questionnaire in supplied.items():
        if isinstance(questionnaire, Mapping) and questionnaire.get("resourceType") == "Questionnaire":
            pool.setdefault(key, questionnaire)
            for own_key in _questionnaire_keys(questionnaire):
                pool.setdefault(own_key, questionnaire)
    found = pool.get(canonical) or pool.get(url)
    if found is None and url.startswith("Questionnaire/"):
        found = pool.get(url)
    if found is None:
        return None, []
    found_version = found.get("version")
    if version and found_version and version != found_version:
        return None, [
            _error(
                "not-found",
                f"The response was made with {url} version {version}, but the supplied Questionnaire "
                f"is version {found_version}.",
                where,
            )
        ]
    if version and not found_version:
        warnings.append(
            Issue(
                "warning",
                "business-rule",
                f"The response pins {url} version {version}; the supplied Questionnaire has no version.",
                (where,),
            )
        )
    return found, []


def _questionnaire_keys(questionnaire: Mapping[str, Any]) -> list[str]:
    keys: list[str] = []
    url, version, resource_id = (
        questionnaire.get("url"),
        questionnaire.get("version"),
        questionnaire.get("id"),
    )
    if isinstance(url, str):
        keys.append(url)
        if isinstance(version, str):
            keys.append(f"{url}|{version}")
    if isinstance(resource_id, str):
        keys += [resource_id, f"Questionnaire/{resource_id}"]
    return keys


def _map_by_link_ids(
    qr_items: list[tuple[str, Mapping[str, Any]]], canonical: str | None, warnings: list[Issue]
) -> _Mapping:
    """No Questionnaire: only linkIds that are LOINC item codes (LHC-Forms `/44250-9`) can be mapped."""
    instruments: dict[str, _LoincInstrument] = {}
    for _, qr_item in qr_items:
        code = _link_id_loinc(qr_item.get("linkId"))
        found = _instrument_by_code(code) if code else None
        if found is not None:
            instruments[found.definition.code] = found
    if len(instruments) != 1:
        answered = [(expression, qr_item) for expression, qr_item in qr_items if qr_item.get("answer")]
        if instruments:
            message = (
                f"The response's linkIds carry LOINC codes of more than one instrument "
                f"({', '.join(sorted(instruments))}); one response must hold one instrument."
            )
            raise FhirMappingError([_error("processing", message, "QuestionnaireResponse"), *warnings])
        issues = [
            _error(
                "not-found",
                f"Questionnaire {canonical or '(none given)'} is not one of ours and was not supplied, "
                "and no LOINC code identifies the instrument; send the Questionnaire with the response "
                f"or use a LOINC-coded PHQ-9 / GAD-7 (supported: {', '.join(EXTERNAL_INSTRUMENTS)}).",
                "QuestionnaireResponse.questionnaire",
            )
        ]
        issues += [_unmappable_item(expression, qr_item) for expression, qr_item in answered]
        raise FhirMappingError([*issues, *warnings])
    (instrument,) = instruments.values()
    warnings.append(
        Issue(
            "information",
            "informational",
            f"Questionnaire {canonical or '(none given)'} was not supplied; items were matched by the "
            f"LOINC codes in their linkIds ({instrument.definition.code}).",
            ("QuestionnaireResponse.questionnaire",),
        )
    )
    return _collect(
        instrument, qr_items, lambda _, qr_item: _link_id_loinc(qr_item.get("linkId")), None, warnings
    )


def _map_with_questionnaire(
    questionnaire: Mapping[str, Any],
    qr_items: list[tuple[str, Mapping[str, Any]]],
    canonical: str | None,
    warnings: list[Issue],
) -> _Mapping:
    name = questionnaire.get("url") or f"Questionnaire/{questionnaire.get('id')}"
    q_items = dict(_questionnaire_items(questionnaire))
    instrument = _identify(questionnaire, q_items)
    if instrument is None:
        issues = [
            _error(
                "not-supported",
                f"Questionnaire {name} carries no LOINC code of a supported instrument "
                f"({', '.join(EXTERNAL_INSTRUMENTS)}): no panel code, total-score code or item code. "
                "The instrument cannot be identified, so the response is not scored.",
                "QuestionnaireResponse.questionnaire",
            )
        ]
        raise FhirMappingError([*issues, *warnings])
    by_position = _positional(instrument, questionnaire)
    known_link_ids = ", ".join(q_items)
    unknown: list[Issue] = []
    outside_groups: list[str] = []
    for expression, qr_item in qr_items:
        link_id = qr_item.get("linkId")
        q_item = q_items.get(link_id) if isinstance(link_id, str) else None
        if q_item is None:
            if qr_item.get("answer"):
                unknown.append(
                    _error(
                        "not-found",
                        f"linkId {link_id!r} is not an item of Questionnaire {name}, so the response does "
                        f"not match that Questionnaire (its linkIds are {known_link_ids}).",
                        expression,
                    )
                )
        elif expression.count(".item[") != q_item[1]:
            outside_groups.append(str(link_id))
    if unknown:
        raise FhirMappingError([*unknown, *warnings])
    if outside_groups:
        warnings.append(
            Issue(
                "warning",
                "structure",
                f"Items {', '.join(outside_groups)} are not nested as in Questionnaire {name}; "
                "they were matched by linkId.",
                ("QuestionnaireResponse.item",),
            )
        )

    def target(expression: str, qr_item: Mapping[str, Any]) -> str | None:
        link_id = qr_item["linkId"]
        code = _item_loinc(q_items[link_id][0])
        if code is None and link_id in by_position:
            return by_position[link_id]
        return code

    def weights(qr_item: Mapping[str, Any]) -> list[_Weight]:
        return _answer_weights(q_items[qr_item["linkId"]][0], questionnaire)

    return _collect(instrument, qr_items, target, weights, warnings, name=name)


def _collect(
    instrument: _LoincInstrument,
    qr_items: list[tuple[str, Mapping[str, Any]]],
    target: Callable[[str, Mapping[str, Any]], str | None],
    weights: Callable[[Mapping[str, Any]], list[_Weight]] | None,
    warnings: list[Issue],
    *,
    name: str | None = None,
) -> _Mapping:
    """Answers of `instrument` from response items; `target` gives each item's LOINC item code."""
    definition = instrument.definition
    answers: dict[str, int | bool] = {}
    locations: dict[str, ItemLocation] = {}
    stated_total: int | Decimal | None = None
    total_expression: str | None = None
    errors: list[Issue] = []
    for expression, qr_item in qr_items:
        answer_list = qr_item.get("answer") or []
        link_id = str(qr_item.get("linkId"))
        code = target(expression, qr_item)
        if code is not None and code == definition.loinc.total:
            total_expression = expression
            stated_total = _stated_total(answer_list, link_id, expression, warnings)
            continue
        item = instrument.items.get(code) if code else None
        if item is None:
            if not answer_list:
                continue
            if code is not None:
                warnings.append(
                    Issue(
                        "warning",
                        "informational",
                        f"linkId {link_id!r} (LOINC {code}) is not an item of {definition.code}; ignored.",
                        (expression,),
                    )
                )
            else:
                errors.append(_unmappable_item(expression, qr_item, name=name, instrument=definition.code))
            continue
        if item.id in locations:
            errors.append(
                _error(
                    "duplicate",
                    f"linkId {link_id!r} maps to {definition.code}.{item.id}, which linkId "
                    f"{locations[item.id].link_id!r} already answers.",
                    expression,
                )
            )
            continue
        locations[item.id] = ItemLocation(expression, link_id)
        if not answer_list:
            continue
        item_errors: list[Issue] = []
        option_weights = weights(qr_item) if weights is not None else None
        value = _external_value(
            definition.code, item, link_id, answer_list, option_weights, expression, item_errors, warnings
        )
        if item_errors and not item.scored:
            # The unscored difficulty item (PHQ-9 69722-7) never blocks scoring.
            warnings.extend(
                Issue("warning", issue.code, issue.diagnostics + " Item ignored.", issue.expression)
                for issue in item_errors
            )
        errors.extend(item_errors if item.scored else [])
        if value is not None:
            answers[item.id] = value
    if errors:
        raise FhirMappingError([*errors, *warnings])
    return answers, locations, stated_total, total_expression, definition


def _external_value(
    instrument: str,
    item: Item,
    link_id: str,
    answer_list: list[Any],
    option_weights: list[_Weight] | None,
    expression: str,
    errors: list[Issue],
    warnings: list[Issue],
) -> int | None:
    """The raw value of one answer; `option_weights` is None when no Questionnaire was supplied."""
    where = f"{expression}.answer[0]"
    label = f"linkId {link_id!r} ({instrument}.{item.id})"
    if len(answer_list) > 1:
        errors.append(_error("structure", f"{label}: more than one answer.", expression))
        return None
    kind, value = _value_of(answer_list[0])
    if kind == "valueInteger" and type(value) is int:
        return value
    if kind != "valueCoding" or not isinstance(value, Mapping):
        errors.append(_error("value", f"{label}: unsupported answer {kind}.", where))
        return None
    system, code = value.get("system"), value.get("code")
    weight = _weight_for(system, code, option_weights or [], label, where, errors)
    if system in (None, LOINC):
        for option in item.options:
            if option.loinc is not None and option.loinc == code:
                if weight is not None and weight != option.value:
                    warnings.append(
                        Issue(
                            "warning",
                            "value",
                            f"{label}: the Questionnaire weighs LOINC answer {code} as {weight}; LOINC "
                            f"answer list value {option.value} is used.",
                            (where,),
                        )
                    )
                return option.value
    if weight is not None:
        if weight not in item.values:
            errors.append(
                _error(
                    "value",
                    f"{label}: the Questionnaire weighs answer {code!r} as {weight}, outside "
                    f"{instrument}.{item.id}'s values {min(item.values)}–{max(item.values)}.",
                    where,
                )
            )
            return None
        return weight
    if not errors:
        reason = (
            "the supplied Questionnaire gives it no weight"
            if option_weights is not None
            else "no Questionnaire was supplied to weigh it"
        )
        errors.append(
            _error(
                "code-invalid",
                f"{label}: answer {system or '(no system)'}#{code} is not a LOINC answer code of this "
                f"item and {reason}.",
                where,
            )
        )
    return None


def _weight_for(
    system: Any,
    code: Any,
    option_weights: list[_Weight],
    label: str,
    where: str,
    errors: list[Issue],
) -> int | None:
    """The weight the supplied Questionnaire gives this coding (None when it gives none)."""
    matches = {
        weight
        for option_system, option_code, weight in option_weights
        if option_code == code and (system is None or option_system in (None, system))
    }
    if not matches:
        return None
    if len(matches) > 1:
        errors.append(_error("value", f"{label}: answer code {code!r} has conflicting weights.", where))
        return None
    (weight,) = matches
    as_decimal = _decimal(weight)
    if as_decimal is None or as_decimal != as_decimal.to_integral_value():
        errors.append(_error("value", f"{label}: answer {code!r} has a non-integer weight {weight}.", where))
        return None
    return int(as_decimal)


def _answer_weights(q_item: Mapping[str, Any], questionnaire: Mapping[str, Any]) -> list[_Weight]:
    """(system, code, weight) of the item's answers: answerOption extensions, or the concepts of a
    contained ValueSet named by answerValueSet."""
    weights: list[_Weight] = []
    for option in q_item.get("answerOption") or []:
        coding = option.get("valueCoding")
        weight = _extension_weight(option)
        if isinstance(coding, Mapping) and weight is not None and isinstance(coding.get("code"), str):
            weights.append((coding.get("system"), coding["code"], weight))
    value_set_ref = q_item.get("answerValueSet")
    if isinstance(value_set_ref, str):
        for contained in questionnaire.get("contained") or []:
            if contained.get("resourceType") != "ValueSet":
                continue
            if value_set_ref not in ("#" + str(contained.get("id")), contained.get("url")):
                continue
            for include in (contained.get("compose") or {}).get("include") or []:
                for concept in include.get("concept") or []:
                    weight = _extension_weight(concept)
                    if weight is not None and isinstance(concept.get("code"), str):
                        weights.append((include.get("system"), concept["code"], weight))
    return weights


def _extension_weight(element: Mapping[str, Any]) -> Any:
    for extension in element.get("extension") or []:
        if extension.get("url") in WEIGHT_EXTENSIONS:
            return extension.get("valueDecimal", extension.get("valueInteger"))
    return None


def _identify(
    questionnaire: Mapping[str, Any], q_items: Mapping[str, tuple[Mapping[str, Any], int]]
) -> _LoincInstrument | None:
    """The instrument named by the Questionnaire's LOINC panel code, else by its item codes
    (total-score or item codes) when they all point at one instrument."""
    for coding in questionnaire.get("code") or []:
        if coding.get("system") == LOINC:
            for candidate in _LOINC_INSTRUMENTS:
                if coding.get("code") == candidate.definition.loinc.panel:
                    return candidate
    found = {
        match.definition.code: match
        for q_item, _ in q_items.values()
        if (code := _item_loinc(q_item)) and (match := _instrument_by_code(code)) is not None
    }
    if len(found) == 1:
        return next(iter(found.values()))
    return None


def _positional(instrument: _LoincInstrument, questionnaire: Mapping[str, Any]) -> dict[str, str]:
    """linkId → item LOINC for a Questionnaire whose question items carry no codes, by the
    Questionnaire's own order, when the count and the leading wording of every item agree."""
    uncoded = [
        q_item
        for _, (q_item, _depth) in _questionnaire_items(questionnaire)
        if q_item.get("type") in QUESTION_TYPES and not q_item.get("code")
    ]
    scored = instrument.definition.scored_items
    if len(uncoded) != len(scored):
        return {}
    mapping: dict[str, str] = {}
    for q_item, item in zip(uncoded, scored, strict=True):
        published = _words(item.text or item.label)[:WORDING_WORDS]
        if _words(str(q_item.get("text") or ""))[: len(published)] != published or not item.loinc:
            return {}
        mapping[str(q_item.get("linkId"))] = item.loinc
    return mapping


def _stated_total(
    answer_list: list[Any], link_id: str, expression: str, warnings: list[Issue]
) -> int | Decimal | None:
    if not answer_list:
        return None
    kind, value = _value_of(answer_list[0])
    if kind == "valueQuantity" and isinstance(value, Mapping):
        value = value.get("value")
    elif kind not in ("valueInteger", "valueDecimal"):
        value = None
    number = _decimal(value) if not isinstance(value, bool) else None
    if number is None or len(answer_list) > 1:
        warnings.append(
            Issue(
                "warning", "value", f"linkId {link_id!r}: the stated total could not be read.", (expression,)
            )
        )
        return None
    return int(number) if number == number.to_integral_value() else number


# --- small readers -------------------------------------------------------------------------------


def _item_shape_errors(items: Any, path: str) -> Iterator[Issue]:
    """`item` and `answer` are arrays of objects at every level (R4 JSON): anything else is named
    here, before the readers below iterate them (an `"answer": 1` was a TypeError, a 500)."""
    if items is None:
        return
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        yield _error("structure", "item must be an array of objects.", f"{path}.item")
        return
    for index, item in enumerate(items):
        expression = f"{path}.item[{index}]"
        yield from _item_shape_errors(item.get("item"), expression)
        answers = item.get("answer")
        if answers is None:
            continue
        if not isinstance(answers, list) or not all(isinstance(answer, Mapping) for answer in answers):
            yield _error("structure", "answer must be an array of objects.", f"{expression}.answer")
            continue
        for answer_index, answer in enumerate(answers):
            yield from _item_shape_errors(answer.get("item"), f"{expression}.answer[{answer_index}]")


def _walk(resource: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(FHIRPath expression, item) for every item, depth first, including items nested in answers."""

    def walk(items: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for index, item in enumerate(items or []):
            if not isinstance(item, Mapping):
                continue
            expression = f"{path}.item[{index}]"
            yield expression, item
            yield from walk(item.get("item"), expression)
            for answer_index, answer in enumerate(item.get("answer") or []):
                if isinstance(answer, Mapping) and answer.get("item"):
                    yield from walk(answer["item"], f"{expression}.answer[{answer_index}]")

    yield from walk(resource.get("item"), "QuestionnaireResponse")


def _questionnaire_items(
    questionnaire: Mapping[str, Any],
) -> Iterator[tuple[str, tuple[Mapping[str, Any], int]]]:
    """linkId → (item, nesting depth counted in `.item[` steps), in the Questionnaire's order."""

    def walk(items: Any, depth: int) -> Iterator[tuple[str, tuple[Mapping[str, Any], int]]]:
        for item in items or []:
            if isinstance(item, Mapping) and isinstance(item.get("linkId"), str):
                yield item["linkId"], (item, depth)
                yield from walk(item.get("item"), depth + 1)

    yield from walk(questionnaire.get("item"), 1)


def _item_loinc(q_item: Mapping[str, Any]) -> str | None:
    for coding in q_item.get("code") or []:
        if (
            isinstance(coding, Mapping)
            and coding.get("system") == LOINC
            and isinstance(coding.get("code"), str)
        ):
            return str(coding["code"])
    return None


def _link_id_loinc(link_id: Any) -> str | None:
    """The LOINC code a linkId carries as its last path segment (`/44250-9`, `/44249-1/44250-9`)."""
    if not isinstance(link_id, str):
        return None
    last = link_id.rstrip("/").rsplit("/", 1)[-1]
    return last if _LOINC_CODE.match(last) else None


def _value_of(answer: Any) -> tuple[str, Any]:
    if not isinstance(answer, Mapping):
        return "(not an object)", None
    keys = [key for key in answer if key.startswith("value")]
    if len(keys) != 1:
        return "(no single value[x])", None
    return keys[0], answer[keys[0]]


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    if isinstance(value, str) and not value.isascii():
        return None  # Decimal() reads "٣" as 3: a guess, not a FHIR decimal
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or number.adjusted() >= MAX_INTEGER_DIGITS:
        return None
    return number


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z]+", " ", text.lower()).split()


def _authored(value: Any, warnings: list[Issue]) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str) and _FULL_DATETIME.match(value):
        # Python 3.11 reads "Z" and fractions beyond microseconds (truncated).
        text = re.sub(r"(\.\d{6})\d+", r"\1", value)
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    warnings.append(
        Issue(
            "warning",
            "value",
            f"authored {value!r} is not a full date-time with a time zone; ignored.",
            ("QuestionnaireResponse.authored",),
        )
    )
    return None


def _unmappable_item(
    expression: str, qr_item: Mapping[str, Any], *, name: str | None = None, instrument: str | None = None
) -> Issue:
    link_id = qr_item.get("linkId")
    codes = [
        str(answer["valueCoding"].get("code"))
        for answer in qr_item.get("answer") or []
        if isinstance(answer, Mapping) and isinstance(answer.get("valueCoding"), Mapping)
    ]
    answered = f" (answered {', '.join(codes)})" if codes else ""
    if name is None:
        reason = (
            "carries no LOINC item code and no Questionnaire was supplied to say which item it is; "
            "answer codes alone do not identify the item, and linkId text is never read as item order"
        )
        local = [code for code in codes if not _LOINC_ANSWER.match(code)]
        if local:
            reason += (
                f"; answer code(s) {', '.join(local)} are local codes only their Questionnaire can weigh"
            )
    else:
        reason = (
            f"has no LOINC item code in Questionnaire {name}, and the Questionnaire's item order and "
            f"wording do not confirm which {instrument} item it is"
        )
    return _error("processing", f"linkId {link_id!r}{answered} {reason}.", expression)


def _error(code: IssueCode, diagnostics: str, expression: str) -> Issue:
    return Issue("error", code, diagnostics, (expression,))
