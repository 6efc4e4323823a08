"""RFC 9457 problem details for every error the API returns.

Body: {"type", "title", "status", "detail", "instance", "errors": [{"path", "pointer", "code",
"detail"}]}, served as application/problem+json. `path` is a JSON path such as
`responses.phq9.q9` or `identifiers[0].value`; `pointer` is the same place as an RFC 6901 pointer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from intake.auth import ClinicChoiceRequired
from intake.errors import DomainError
from intake.selectors.fhir_resources import fhir_base_url

from .parsers import BodyRefused, PathPart, escape_unstorable
from .permissions import InsufficientScope

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    """Well-formed input that cannot be acted on (e.g. an unknown patient identifier)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request is well-formed but cannot be processed."
    default_code = "unprocessable"


_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    414: "URL too long",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_body(
    status_code: int,
    *,
    code: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    """The problem document. Paths and details often echo the client's text (an unknown key, an
    invalid choice): NUL and lone surrogates in them are spelled out (`\\u0000`) so the body always
    encodes as UTF-8, and can be logged or stored anywhere text goes."""
    body: dict[str, Any] = {
        "type": f"/problems/{code.replace('_', '-')}",
        "title": _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": escape_unstorable(detail),
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [
            {name: escape_unstorable(text) if isinstance(text, str) else text for name, text in error.items()}
            for error in errors
        ]
    return body


def render_path(parts: Sequence[PathPart]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def render_pointer(parts: Sequence[PathPart]) -> str:
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "/" + "/".join(escaped) if parts else ""


def flatten_errors(detail: Any, parts: tuple[PathPart, ...] = ()) -> Iterator[dict[str, str]]:
    """Turn DRF's nested error structure into a flat list of located errors."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                yield from flatten_errors(value, parts)
            else:
                # Only DRF's own list errors are keyed by int; a text key such as "0" or "²" is a
                # key the client sent (int("²") raises although "²".isdigit()).
                yield from flatten_errors(value, (*parts, key if isinstance(key, int) else str(key)))
    elif isinstance(detail, list | tuple):
        if all(isinstance(item, str) for item in detail):
            for item in detail:
                yield from flatten_errors(item, parts)
        else:
            for index, item in enumerate(detail):
                if item:
                    yield from flatten_errors(item, (*parts, index))
    else:
        yield {
            "path": render_path(parts),
            "pointer": render_pointer(parts),
            "code": str(getattr(detail, "code", "invalid")),
            "detail": str(detail),
        }


# [0-9], not \d: \d also matches "٣", which int() would read as 3.
_PATH_PART = re.compile(r"([^.\[\]]+)|\[([0-9]+)\]")


def pointer_from_path(path: str) -> str:
    """`responses.phq9.q9` → `/responses/phq9/q9`; `identifiers[0]` → `/identifiers/0`."""
    parts: list[PathPart] = [int(i) if i else name for name, i in _PATH_PART.findall(path)]
    return render_pointer(parts)


def problem_response(
    status_code: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every handled error becomes problem details."""
    request = context.get("request")
    instance = request.path if request is not None else None

    if isinstance(exc, DomainError):
        errors = [
            {"path": e.path, "pointer": pointer_from_path(e.path), "code": e.code, "detail": e.detail}
            for e in exc.errors
        ]
        body = problem_body(
            exc.http_status, code=exc.code, detail=exc.detail, errors=errors or None, instance=instance
        )
        return problem_response(exc.http_status, body)
    if isinstance(exc, BodyRefused):
        errors = [
            {
                "path": render_path(fault.parts),
                "pointer": render_pointer(fault.parts),
                "code": fault.code,
                "detail": fault.detail,
            }
            for fault in exc.faults
        ]
        detail = _summary(errors, total=exc.total)
        body = problem_body(400, code=exc.default_code, detail=detail, errors=errors, instance=instance)
        return problem_response(400, body)
    if isinstance(exc, RequestDataTooBig):
        exc = _TooLarge()
    elif isinstance(exc, ClinicChoiceRequired):
        exc = exceptions.ValidationError(
            {"X-Clinic": ["You work in several clinics: name one with the X-Clinic header (its slug)."]}
        )
    elif isinstance(exc, OperationalError | InterfaceError):
        return problem_response(
            503,
            problem_body(
                503,
                code="database_unavailable",
                detail="The database is unavailable; retry shortly.",
                instance=instance,
            ),
            {"Retry-After": "5"},
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) and (
        response.status_code == 401
    ):
        return _unauthenticated(request, response, instance)
    if isinstance(exc, InsufficientScope):
        return _insufficient_scope(exc, response, instance)

    if isinstance(exc, exceptions.ValidationError):
        errors = list(flatten_errors(exc.detail))
        detail = _summary(errors)
        code = "validation_error"
    else:
        errors = list(flatten_errors(exc.detail)) if isinstance(exc.detail, dict | list) else []
        detail = str(exc.detail) if not isinstance(exc.detail, dict | list) else _summary(errors)
        code = _code_of(exc)

    body = problem_body(
        response.status_code, code=code, detail=detail, errors=errors or None, instance=instance
    )
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


# RFC 6750 §3: the challenge names what is wrong with the bearer token; the body says it in words.
_BEARER_REALM = "api"  # django-oauth-toolkit's OAuth2Authentication realm
_UNAUTHENTICATED: dict[str, str] = {
    "not_authenticated": (
        "No credentials were sent: send an OAuth 2.0 access token as `Authorization: Bearer <token>` "
        "(integrations get one from /o/token/), or log in as staff."
    ),
    "invalid_token": (
        "The access token is not valid: it is unknown, malformed or was revoked. Request a new one "
        "from /o/token/."
    ),
    "token_expired": "The access token has expired. Request a new one from /o/token/.",
}


def _unauthenticated(request: Any, response: Response, instance: str | None) -> Response:
    """401: say whether credentials were missing, or which way the bearer token failed.

    Nothing is told that the caller did not already hold: an expired token is named expired
    only to whoever presents it; an unknown, malformed and revoked token read alike."""
    scheme = (request.headers.get("Authorization", "") if request is not None else "").split(" ", 1)[0]
    oauth2_error = getattr(request, "oauth2_error", None) or {}
    if scheme.lower() != "bearer":
        code = "not_authenticated"
    else:
        code = getattr(oauth2_error, "reason", "invalid_token")
    detail = _UNAUTHENTICATED[code]
    if scheme and scheme.lower() != "bearer":
        detail = f"The Authorization header holds no Bearer token. {detail}"
    response.data = problem_body(401, code=code, detail=detail, instance=instance)
    response.content_type = PROBLEM_CONTENT_TYPE
    if str(response.get("WWW-Authenticate", "")).startswith("Bearer"):
        challenge = f'Bearer realm="{_BEARER_REALM}"'
        if code != "not_authenticated":  # RFC 6750 §3.1: no error code when no token was sent
            description = (
                "The access token expired" if code == "token_expired" else "The access token is invalid"
            )
            challenge += f', error="invalid_token", error_description="{description}"'
        response["WWW-Authenticate"] = challenge
    return response


def _insufficient_scope(exc: InsufficientScope, response: Response, instance: str | None) -> Response:
    """403 naming the scopes the operation needs, in the body and (for bearer tokens) the
    RFC 6750 challenge."""
    body = problem_body(403, code="insufficient_scope", detail=str(exc.detail), instance=instance)
    body["required_scopes"] = exc.required_scopes
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    if exc.is_bearer:
        response["WWW-Authenticate"] = (
            f'Bearer realm="{_BEARER_REALM}", error="insufficient_scope", '
            f'error_description="The access token lacks a required scope", '
            f'scope="{" ".join(exc.required_scopes)}"'
        )
    return response


class _TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this service accepts."
    default_code = "request_too_large"


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else getattr(exc, "default_code", "error")


def _summary(errors: list[dict[str, str]], *, total: int | None = None) -> str:
    """The first error, located, and how many more there are (`total` when `errors` is capped)."""
    if not errors:
        return "The request is invalid."
    first = errors[0]
    where = f"{first['path']}: " if first["path"] else ""
    others = (len(errors) if total is None else total) - 1
    more = f" (and {others} more)" if others > 0 else ""
    return f"{where}{first['detail']}{more}"


# --- Django-level handlers (URL not matched, crashes, oversized requests) for API paths.

_API_PREFIXES = ("/api/", "/fhir/", "/o/", "/healthz", "/readyz")
FHIR_PREFIX = "/fhir/"
FHIR_JSON = "application/fhir+json"

# HTTP status → OperationOutcome.issue.code (http://hl7.org/fhir/R4/valueset-issue-type.html)
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-long",
    414: "too-long",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    431: "too-long",
    503: "transient",
}


def outcome_from_problem(status_code: int, problem: dict[str, Any]) -> dict[str, Any]:
    """A problem-details body as an R4 OperationOutcome (one issue per located error)."""
    code = _ISSUE_CODES.get(status_code, "exception")
    errors = problem.get("errors") or []
    issues = [
        {
            "severity": "error",
            "code": code,
            "details": {"text": error["detail"]},
            "diagnostics": f"{error['path']}: {error['detail']}" if error["path"] else error["detail"],
        }
        for error in errors
    ] or [_problem_issue(code, problem)]
    return {"resourceType": "OperationOutcome", "issue": issues}


def _problem_issue(code: str, problem: dict[str, Any]) -> dict[str, Any]:
    """The one issue of a problem without located errors (401, 403, 404 …): the problem type as a
    machine-readable coding (e.g. `invalid-token`, `insufficient-scope`), beside the text."""
    details: dict[str, Any] = {"text": problem.get("detail", "")}
    problem_type = str(problem.get("type", ""))
    if problem_type.startswith("/problems/"):
        details["coding"] = [
            {
                "system": f"{fhir_base_url()}/CodeSystem/problem-type",
                "code": problem_type.removeprefix("/problems/"),
            }
        ]
    issue: dict[str, Any] = {"severity": "error", "code": code, "details": details}
    if problem.get("required_scopes"):
        issue["diagnostics"] = f"required scopes: {' '.join(problem['required_scopes'])}"
    return issue


def _wants_problem(request: HttpRequest) -> bool:
    return request.path.startswith(_API_PREFIXES)


def error_response(
    request: HttpRequest, status_code: int, *, code: str, detail: str, instance: bool = True
) -> JsonResponse:
    """An error Django answers itself, outside any API view: an OperationOutcome under /fhir/
    (FHIR clients parse nothing else), RFC 9457 problem details elsewhere."""
    body = problem_body(status_code, code=code, detail=detail, instance=request.path if instance else None)
    if request.path.startswith(FHIR_PREFIX):
        return JsonResponse(
            outcome_from_problem(status_code, body), status=status_code, content_type=FHIR_JSON
        )
    return JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def handler404(request: HttpRequest, exception: Exception | None = None) -> Any:
    if _wants_problem(request):
        return error_response(request, 404, code="not_found", detail="No resource at this address.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def handler500(request: HttpRequest) -> Any:
    if _wants_problem(request):
        return error_response(
            request,
            500,
            code="server_error",
            detail="An unexpected error occurred; it has been logged.",
            instance=False,
        )
    from django.views.defaults import server_error

    return server_error(request)


def handler400(request: HttpRequest, exception: Exception | None = None) -> Any:
    if _wants_problem(request):
        if isinstance(exception, RequestDataTooBig):
            return error_response(
                request,
                413,
                code="request_too_large",
                detail="The request body is larger than this service accepts.",
                instance=False,
            )
        return error_response(
            request, 400, code="bad_request", detail="The request could not be understood.", instance=False
        )
    from django.views.defaults import bad_request

    return bad_request(request, exception or Exception())
