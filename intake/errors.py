"""Domain exceptions raised by services; the API's exception handler maps each to a status."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request. `path` names the offending input, if any."""

    http_status = 400
    code = "domain_error"

    def __init__(self, detail: str, *, path: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.path = path


class IdentifierInUse(DomainError):
    http_status = 409
    code = "identifier_in_use"
