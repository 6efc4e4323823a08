"""Recording every access to patient data (HIPAA §164.312(b) audit controls).

Views say what they touched (`audit_touch`, or `AuditedViewMixin` for object and list views);
`AuditMiddleware` writes one `AuditEvent` per touched object when the request finishes. A
write request runs in one transaction with its audit rows: if they cannot be written, the
write is rolled back and the caller gets 503. A read whose audit cannot be written gets 503
too, so no patient data leaves unrecorded. Denied and failed requests are recorded as well, and
so is a request that touched nothing: every answer under an audited prefix leaves at least one row.
The middleware sits first in the stack, so the refusals of the others (413, 400, 403) are recorded.

What a row stores of the request (path, method, ids from the URL) is attacker-controlled: it is
cleaned and bounded to its column first (`_fit`), so no request can go unrecorded by making its
own audit row fail to insert.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from intake.api.oauth import oauth_error
from intake.api.problems import error_response
from intake.models import AuditAction, AuditEvent, AuditOutcome, Patient

logger = logging.getLogger(__name__)

# /o/ carries no patient data, but a failed client authentication is a security event.
AUDITED_PREFIXES = ("/api/v1/", "/fhir/", "/admin/intake/", "/o/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Touch:
    action: str
    object_type: str
    object_id: str
    patient_id: uuid.UUID | None


def _records(request: Any) -> list[Touch]:
    django_request = getattr(request, "_request", request)  # DRF Request wraps HttpRequest
    records: list[Touch] | None = getattr(django_request, "audit_records", None)
    if records is None:
        records = []
        django_request.audit_records = records
    return records


def audit_touch(
    request: Any, *, action: str, object_type: str, object_id: Any, patient_id: uuid.UUID | str | None
) -> None:
    """Note that this request touched one object (recorded when the request finishes)."""
    patient = uuid.UUID(str(patient_id)) if patient_id else None
    _records(request).append(Touch(action, object_type, str(object_id), patient))


def patient_of(obj: Any) -> uuid.UUID | None:
    if isinstance(obj, Patient):
        return uuid.UUID(str(obj.pk))
    patient_id = getattr(obj, "patient_id", None)
    return uuid.UUID(str(patient_id)) if patient_id else None


class AuditedViewMixin:
    """For DRF generic views: records each object fetched by `get_object` and each list row."""

    audit_object_type: str = ""
    audit_actions: dict[str, str] = {}  # view action → audit action where the method misleads
    request: Any

    def get_object(self) -> Any:
        obj = super().get_object()  # type: ignore[misc]
        default = AuditAction.READ if self.request.method in SAFE_METHODS else AuditAction.UPDATE
        action = self.audit_actions.get(getattr(self, "action", None) or "", default)
        audit_touch(
            self.request,
            action=action,
            object_type=self.audit_object_type,
            object_id=obj.pk,
            patient_id=patient_of(obj),
        )
        return obj

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        for obj in page if page is not None else []:
            audit_touch(
                self.request,
                action=AuditAction.READ,
                object_type=self.audit_object_type,
                object_id=obj.pk,
                patient_id=patient_of(obj),
            )
        return page


def _outcome(status_code: int) -> str:
    if status_code < 400:
        return AuditOutcome.SUCCESS
    if status_code in (401, 403, 429):
        return AuditOutcome.DENIED
    if status_code == 404:
        return AuditOutcome.NOT_FOUND
    if status_code < 500:
        return AuditOutcome.INVALID
    return AuditOutcome.ERROR


def _fallback_touch(request: HttpRequest) -> Touch:
    """For a request that recorded nothing (refused, failed, empty): the object its URL names."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return Touch(_default_action(request), "unknown", "", None)
    kwargs = match.kwargs
    object_id = next(
        (str(v) for k, v in kwargs.items() if k in ("pk", "object_id", "intake_id", "record_id")), ""
    )
    object_type = (match.url_name or "unknown").removesuffix("-list").removesuffix("-detail")
    if request.path.startswith("/o/"):
        object_id = _claimed_client_id(request)
    return Touch(_default_action(request), object_type, object_id, None)


def _claimed_client_id(request: HttpRequest) -> str:
    """The client id a token request named, never its secret: HTTP Basic first, then the form,
    as `intake.api.oauth.offered_client_id` reads it, but without parsing a body the token view
    did not (one the size check refused would raise here)."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if ":" in decoded:
            return unquote_plus(decoded.partition(":")[0])  # RFC 6749 §2.3.1 form-encodes it
    form = request.__dict__.get("_post")
    return str(form.get("client_id") or "") if form is not None else ""


def _default_action(request: HttpRequest) -> str:
    if request.method in SAFE_METHODS:
        return AuditAction.READ
    return AuditAction.CREATE if request.method == "POST" else AuditAction.UPDATE


def _client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR if it is an IP address (a UNIX-socket server may pass anything, or nothing)."""
    address = str(request.META.get("REMOTE_ADDR") or "")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


# C0 controls, DEL and lone surrogates: PostgreSQL refuses NUL in text, UTF-8 refuses surrogates,
# and none of them belongs in a log line.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_DIGEST_CHARS = 16


def _escaped(found: re.Match[str]) -> str:
    code = ord(found[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _fit(field_name: str, value: str) -> str:
    """`value` made storable in the audit column `field_name`.

    Unprintable characters become backslash escapes. A value still longer than the column keeps
    its start and ends with "…" and 16 hex digits of its SHA-256, so two long ids sharing a
    prefix stay apart and a known id can be matched; short columns are just cut, ending in "…".
    """
    max_length: int | None = getattr(AuditEvent._meta.get_field(field_name), "max_length", None)
    clean = _UNPRINTABLE.sub(_escaped, value)
    if max_length is None or len(clean) <= max_length:
        return clean
    if max_length <= 2 * _DIGEST_CHARS:
        return clean[: max_length - 1] + "…"
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]
    return f"{clean[: max_length - _DIGEST_CHARS - 1]}…{digest}"


_ADMIN_URL = re.compile(r"^intake_(?P<model>[a-z]+)_(?P<view>[a-z_]+)$")


def _admin_touches(request: HttpRequest) -> list[Touch]:
    """What an admin page showed or changed, from its URL (admin views record nothing)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return []
    found = _ADMIN_URL.match(match.url_name or "")
    if found is None:
        return []
    model_name, view = found["model"], found["view"]
    object_id = str(match.kwargs.get("object_id", ""))
    action = _default_action(request) if view != "add" else AuditAction.CREATE
    patient_id = None
    if object_id:
        if model_name == "patient":
            patient_id = _uuid_or_none(object_id)
        else:
            from django.apps import apps

            model = apps.get_model("intake", model_name)
            if any(f.name == "patient" for f in model._meta.get_fields()):
                patient_id = _patient_of_row(model, object_id)
    return [Touch(action, f"admin:{model_name}:{view}", object_id, patient_id)]


def _patient_of_row(model: Any, object_id: str) -> uuid.UUID | None:
    """The patient of the admin URL's row; None when the id cannot be one (as the admin does)."""
    try:
        pk = model._meta.pk.to_python(object_id)
    except (ValidationError, ValueError):
        return None
    if isinstance(pk, str) and "\x00" in pk:  # PostgreSQL text cannot hold it: no such row
        return None
    patient_id: uuid.UUID | None = model.objects.filter(pk=pk).values_list("patient_id", flat=True).first()
    return patient_id


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _events(request: HttpRequest, response: HttpResponse, request_id: str) -> list[AuditEvent]:
    records: list[Touch] = getattr(request, "audit_records", None) or []
    if not records and request.path.startswith("/admin/intake/"):
        records = _admin_touches(request)
    if not records:
        records = [_fallback_touch(request)]
    actor = getattr(request, "clinic_actor", None)
    user = getattr(request, "user", None)
    if actor is not None:
        actor_label, clinic_id = actor.label, actor.clinic.pk
    elif user is not None and getattr(user, "is_authenticated", False):
        actor_label, clinic_id = f"user:{user.pk}", None
    else:
        actor_label, clinic_id = "anonymous", None
    return [
        AuditEvent(
            clinic_id=clinic_id,
            actor=_fit("actor", actor_label),
            action=touch.action,
            object_type=_fit("object_type", touch.object_type),
            object_id=_fit("object_id", touch.object_id),
            patient_id=touch.patient_id,
            outcome=_outcome(response.status_code),
            status_code=response.status_code,
            method=_fit("method", request.method or ""),
            path=_fit("path", request.path),
            client_address=_client_address(request),
            request_id=request_id,
        )
        for touch in records
    ]


def _audit_unavailable(request: HttpRequest, request_id: str) -> HttpResponse:
    detail = "The access could not be recorded in the audit trail, so it was not carried out."
    response: HttpResponse
    if request.path.startswith("/o/"):  # OAuth clients read RFC 6749 §5.2 errors, not problems
        description = "The audit trail's database is unavailable, so the request was not carried out."
        response = oauth_error(503, "temporarily_unavailable", description, retry_after=5)
    else:  # an OperationOutcome under /fhir/, problem details elsewhere
        response = error_response(request, 503, code="audit_unavailable", detail=detail, instance=False)
        response["Retry-After"] = "5"
    response["X-Request-ID"] = request_id
    return response


class AuditMiddleware:
    """Writes the audit rows of API, FHIR, admin and OAuth requests; see the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(AUDITED_PREFIXES):
            return self.get_response(request)
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        request.audit_records = []  # type: ignore[attr-defined]
        try:
            if request.method in SAFE_METHODS:
                response = self.get_response(request)
                with transaction.atomic():
                    AuditEvent.objects.bulk_create(_events(request, response, request_id))
            else:
                with transaction.atomic():
                    response = self.get_response(request)
                    failed = response.status_code >= 500
                    if failed:
                        transaction.set_rollback(True)  # nothing half-written survives a crash
                    else:
                        AuditEvent.objects.bulk_create(_events(request, response, request_id))
                if failed:
                    with transaction.atomic():
                        AuditEvent.objects.bulk_create(_events(request, response, request_id))
        except DatabaseError:
            logger.exception("audit trail unavailable; request %s refused", request_id)
            return _audit_unavailable(request, request_id)
        response["X-Request-ID"] = request_id
        return response
