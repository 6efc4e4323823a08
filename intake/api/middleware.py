"""Refuse oversized requests (body, URL, headers) and unreadable query strings before anything
reads them.

The limits here are below gunicorn's (gunicorn.conf.py), so a request that is merely too large
is answered by Django, with problem details (an OperationOutcome under /fhir/), not by gunicorn's
plain-text/HTML error page. Only requests beyond gunicorn's own caps never reach Django.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .problems import (
    FHIR_JSON,
    PROBLEM_CONTENT_TYPE,
    error_response,
    outcome_from_problem,
    problem_body,
    render_pointer,
)
from .query import QueryError, query_string_errors


class RequestSizeLimitMiddleware:
    """413 when Content-Length exceeds DATA_UPLOAD_MAX_MEMORY_SIZE; 414 for a URL longer than
    MAX_URL_LENGTH; 431 for more than MAX_REQUEST_HEADERS headers or one above MAX_HEADER_BYTES.

    Django only enforces the body limit when a view reads the body, and then as a 400; integrations
    need the precise 413. Bodies sent without a length are capped by Django's own check.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = self._refusal(request)
        return refused if refused is not None else self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        url_limit = settings.MAX_URL_LENGTH
        # The raw (still percent-encoded) request target, as the client sent it and gunicorn counts it.
        raw_path = request.META.get("RAW_URI") or request.get_full_path()
        if len(raw_path) > url_limit:
            return error_response(
                request,
                414,
                code="uri_too_long",
                detail=f"The URL is {len(raw_path)} characters; this service accepts at most {url_limit}.",
                instance=False,
            )
        headers = [(k, v) for k, v in request.META.items() if k.startswith("HTTP_")]
        if len(headers) > settings.MAX_REQUEST_HEADERS:
            return error_response(
                request,
                431,
                code="request_header_fields_too_large",
                detail=f"The request has {len(headers)} header fields; "
                f"this service accepts at most {settings.MAX_REQUEST_HEADERS}.",
            )
        for key, value in headers:
            if len(value) > settings.MAX_HEADER_BYTES:
                name = key.removeprefix("HTTP_").replace("_", "-").title()
                return error_response(
                    request,
                    431,
                    code="request_header_fields_too_large",
                    detail=f"The {name} header is {len(value)} bytes; "
                    f"this service accepts at most {settings.MAX_HEADER_BYTES}.",
                )

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        # ASCII digits only: int() would also read "٣", " 3" or "1_0", and refuse "²" that isdigit() passes.
        if not (raw_length.isascii() and raw_length.isdigit()):
            return error_response(
                request, 400, code="bad_request", detail="Content-Length is not a number.", instance=False
            )
        length = int(raw_length)
        if limit is not None and length > limit:
            return error_response(
                request,
                413,
                code="request_too_large",
                detail=f"The request body is {length} bytes; this service accepts at most {limit}.",
            )
        return None


class QueryStringGuardMiddleware:
    """400 for a query string no endpoint may read (invalid UTF-8, NUL, control or format
    characters, too many parameters), naming each parameter: problem details under /api/, an
    OperationOutcome under /fhir/.

    One place for every endpoint, before any view, filter or paginator reads `request.GET`
    (which would see such bytes only after Django's lenient decoding).
    """

    prefixes = ("/api/", "/fhir/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.prefixes):
            errors = query_string_errors(
                _raw_query_string(request), max_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            )
            if errors:
                return _query_refusal(request, errors)
        return self.get_response(request)


def _raw_query_string(request: HttpRequest) -> bytes:
    # WSGI and ASGI both hand the query string over as bytes decoded as ISO-8859-1 (PEP 3333).
    text: str = request.META.get("QUERY_STRING", "")
    try:
        return text.encode("iso-8859-1")
    except UnicodeEncodeError:  # not from a server: a str built in-process (test clients)
        return text.encode("utf-8", errors="surrogatepass")


def _query_refusal(request: HttpRequest, errors: list[QueryError]) -> HttpResponse:
    located = [
        {
            "path": error.parameter,
            "pointer": render_pointer([error.parameter]) if error.parameter else "",
            "code": "invalid_query",
            "detail": error.detail,
        }
        for error in errors
    ]
    first = errors[0]
    summary = f"{first.parameter}: {first.detail}" if first.parameter else first.detail
    body = problem_body(400, code="invalid_query", detail=summary, errors=located, instance=request.path)
    if request.path.startswith("/fhir/"):
        return JsonResponse(outcome_from_problem(400, body), status=400, content_type=FHIR_JSON)
    return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
