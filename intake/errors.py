"""Domain exceptions raised by services; the API's exception handler maps each to a status."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One located problem: `path` is a JSON path such as `responses.phq9.q9`."""

    path: str
    code: str
    detail: str


class DomainError(Exception):
    """A business rule refused the request. `errors` locate the offending input, if known."""

    http_status = 400
    code = "domain_error"

    def __init__(
        self, detail: str, *, path: str | None = None, errors: list[FieldProblem] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])
        if path is not None:
            self.errors.insert(0, FieldProblem(path=path, code=self.code, detail=detail))


class IdentifierInUse(DomainError):
    http_status = 409
    code = "identifier_in_use"


class InvalidIntake(DomainError):
    """Answers or intake facts that cannot be scored: every problem is listed with its path."""

    http_status = 400
    code = "validation_error"


class UnknownPatient(DomainError):
    http_status = 422
    code = "unknown_patient"


class FormNotEnabled(DomainError):
    http_status = 422
    code = "form_not_enabled"


class IdempotencyKeyReused(DomainError):
    http_status = 422
    code = "idempotency_key_reused"


class IllegalTransition(DomainError):
    http_status = 409
    code = "illegal_transition"


class StaleVersion(DomainError):
    http_status = 412
    code = "precondition_failed"


class InvalidAssignee(DomainError):
    http_status = 400
    code = "invalid_assignee"
