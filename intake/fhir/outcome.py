"""FHIR R4 OperationOutcome issues: what the mapping layer reports about a resource it refused or
accepted with reservations. Pure Python (no Django)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["fatal", "error", "warning", "information"]

# The R4 IssueType codes this package emits (http://hl7.org/fhir/R4/valueset-issue-type.html).
IssueCode = Literal[
    "invalid",
    "structure",
    "required",
    "value",
    "code-invalid",
    "not-found",
    "not-supported",
    "duplicate",
    "processing",
    "business-rule",
    "informational",
    "too-costly",
]


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: severity, IssueType code, human-readable diagnostics and the
    FHIRPath expressions of the offending elements (e.g. `QuestionnaireResponse.item[0].item[3]`)."""

    severity: Severity
    code: IssueCode
    diagnostics: str
    expression: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity in ("fatal", "error")

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready `OperationOutcome.issue` element."""
        rendered: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            # `details.text` is what most clients show; `diagnostics` repeats it for tools that
            # read only that element (the HL7 validator fills both).
            "details": {"text": self.diagnostics},
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            rendered["expression"] = list(self.expression)
        return rendered


class FhirMappingError(ValueError):
    """A resource that cannot be mapped unambiguously. `issues` holds every problem found (errors
    first), warnings included, ready for `operation_outcome`. `status_code` is the HTTP status to
    answer with: 422 for a well-formed resource that cannot be used, 400 for one that breaks the
    input rules (a list over its limit, a forbidden character)."""

    def __init__(self, issues: Sequence[Issue], *, status_code: int = 422) -> None:
        ordered = tuple(sorted(issues, key=lambda issue: not issue.is_error))
        if not any(issue.is_error for issue in ordered):
            raise ValueError("FhirMappingError needs at least one error issue")
        super().__init__("; ".join(issue.diagnostics for issue in ordered if issue.is_error))
        self.issues = ordered
        self.status_code = status_code


def operation_outcome(issues: Iterable[Issue], *, resource_id: str | None = None) -> dict[str, Any]:
    """A JSON-ready R4 OperationOutcome. R4 requires at least one issue, so an empty list becomes
    a single `information` issue saying all is well."""
    rendered = [issue.as_dict() for issue in issues]
    if not rendered:
        rendered = [Issue("information", "informational", "All OK").as_dict()]
    outcome: dict[str, Any] = {"resourceType": "OperationOutcome"}
    if resource_id is not None:
        outcome["id"] = resource_id
    outcome["issue"] = rendered
    return outcome
