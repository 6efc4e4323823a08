"""Refuse oversized request bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .problems import PROBLEM_CONTENT_TYPE, problem_body


class RequestSizeLimitMiddleware:
    """413 problem details when Content-Length exceeds DATA_UPLOAD_MAX_MEMORY_SIZE.

    Django only enforces that limit when a view reads the body, and then as a 400; integrations
    need the precise 413. Bodies sent without a length are capped by Django's own check.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            body = problem_body(400, code="bad_request", detail="Content-Length is not a number.")
            return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
        if limit is not None and length > limit:
            body = problem_body(
                413,
                code="request_too_large",
                detail=f"The request body is {length} bytes; this service accepts at most {limit}.",
                instance=request.path,
            )
            return JsonResponse(body, status=413, content_type=PROBLEM_CONTENT_TYPE)
        return self.get_response(request)
