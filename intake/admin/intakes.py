"""Intakes in the staff UI: transcribing a paper form, reading the result, correcting it.

Intakes, revisions and scores are never edited here: a new intake goes through `intake_submit`
and a correction through `intake_revise` (a new revision with a reason), exactly as over the API.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from intake.batteries import FORMS, IntakeForm
from intake.errors import DomainError, FieldProblem
from intake.instruments import get
from intake.models import Clinic, Intake, IntakeRevision, IntakeSource, Patient, ReferralFlag
from intake.selectors.intakes import intake_outcome
from intake.services.intakes import IntakeOutcome, PatientRef, intake_revise, intake_submit

from .forms import IntakeAnswersForm, IntakeStartForm
from .labels import (
    actor_label,
    answer_label,
    back_care_label,
    code_label,
    flag_kind_label,
    instrument_title,
)
from .scoping import ClinicScopedAdmin, access_of, actor_for_staff, not_found_redirect, perm_name


@admin.register(Intake)
class IntakeAdmin(ClinicScopedAdmin):
    list_display = ["completed_at", "patient_link", "form_code", "revision_number", "source", "created_at"]
    list_filter = ["form_code", "current_revision__source", "clinic"]
    search_fields = ["patient__family_name", "patient__given_name", "patient__identifiers__value"]
    list_select_related = ["patient", "current_revision", "clinic"]
    date_hierarchy = "completed_at"
    ordering = ["-completed_at"]

    @admin.display(description="Patient", ordering="patient__family_name")
    def patient_link(self, obj: Intake) -> str:
        return format_html("{}, {}", obj.patient.family_name, obj.patient.given_name)

    @admin.display(description="Revision")
    def revision_number(self, obj: Intake) -> int | None:
        return obj.current_revision.number if obj.current_revision else None

    @admin.display(description="Source", ordering="current_revision__source")
    def source(self, obj: Intake) -> str:
        return obj.current_revision.get_source_display() if obj.current_revision else ""

    def get_urls(self) -> list[Any]:
        urls = super().get_urls()
        custom = [
            path(
                "<uuid:intake_id>/correct/",
                self.admin_site.admin_view(self.correct_view),
                name="intake_intake_correct",
            ),
        ]
        return custom + urls

    # --- paper entry (replaces the model add form) ----------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        access = access_of(request)
        clinic_ids = access.clinics_with(self._perm("add"))
        patients: QuerySet[Patient] = Patient.objects.filter(is_active=True).select_related("clinic")
        if clinic_ids is not None:
            patients = patients.filter(clinic_id__in=clinic_ids)

        patient_id, form_code = request.GET.get("patient"), request.GET.get("form")
        if patient_id and form_code:
            patient = _get_or_404(patients, patient_id)
            intake_form = FORMS.get(form_code)
            if intake_form is None or form_code not in patient.clinic.enabled_forms:
                raise Http404("This form is not enabled for the patient's clinic.")
            return self._entry(request, patient=patient, intake_form=intake_form)

        available = _forms_of_clinics(patients)
        start = IntakeStartForm(
            request.GET or None, patients=patients, forms_available=available, site=self.admin_site
        )
        if request.GET and start.is_valid():
            query = f"?patient={start.cleaned_data['patient'].pk}&form={start.cleaned_data['form']}"
            return HttpResponseRedirect(request.path + query)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Transcribe a paper intake",
            "start": start,
            "media": self.media + start.media,
        }
        return TemplateResponse(request, "admin/intake/intake/start.html", context)

    def _entry(self, request: HttpRequest, *, patient: Patient, intake_form: IntakeForm) -> HttpResponse:
        if request.method == "POST":
            form = IntakeAnswersForm(request.POST, intake_form=intake_form)
            if form.is_valid():
                try:
                    outcome = intake_submit(
                        actor=actor_for_staff(request, patient.clinic),
                        patient=PatientRef(id=patient.pk),
                        answers=form.answers(),
                        source=IntakeSource.ADMIN,
                    )
                except DomainError as exc:
                    form.add_problems(exc.errors or [FieldProblem("", exc.code, exc.detail)])
                else:
                    self.log_addition(request, outcome.intake, "Transcribed from paper.")
                    messages.success(request, _saved_message(outcome, "Intake saved"))
                    return HttpResponseRedirect(
                        reverse("admin:intake_intake_change", args=[outcome.intake.pk])
                    )
        else:
            form = IntakeAnswersForm(
                intake_form=intake_form,
                initial={"completed_at": _now_local()},
            )
        return self._render_answers(request, form=form, patient=patient, intake=None)

    # --- corrections -------------------------------------------------------------------

    def correct_view(self, request: HttpRequest, intake_id: uuid.UUID) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        intake = _get_or_404(self.get_queryset(request).select_related("patient__clinic"), intake_id)
        if not self.has_change_permission(request, intake):
            raise PermissionDenied
        intake_form = FORMS[intake.form_code]
        revision = intake.current_revision
        assert revision is not None
        if request.method == "POST":
            form = IntakeAnswersForm(request.POST, intake_form=intake_form, correction=True)
            if form.is_valid():
                try:
                    outcome = intake_revise(
                        actor=actor_for_staff(request, intake.clinic),
                        intake=intake,
                        answers=form.answers(),
                        reason=form.cleaned_data["reason"],
                        source=IntakeSource.ADMIN,
                    )
                except DomainError as exc:
                    form.add_problems(exc.errors or [FieldProblem("", exc.code, exc.detail)])
                else:
                    self.log_change(
                        request, intake, f"Revision {outcome.revision.number}: {outcome.revision.reason}"
                    )
                    messages.success(
                        request, _saved_message(outcome, f"Revision {outcome.revision.number} saved")
                    )
                    return HttpResponseRedirect(reverse("admin:intake_intake_change", args=[intake.pk]))
        else:
            form = IntakeAnswersForm(
                intake_form=intake_form, correction=True, initial=IntakeAnswersForm.initial_from(revision)
            )
        return self._render_answers(request, form=form, patient=intake.patient, intake=intake)

    def _render_answers(
        self, request: HttpRequest, *, form: IntakeAnswersForm, patient: Patient, intake: Intake | None
    ) -> HttpResponse:
        correcting = intake is not None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": (
                f"Correct intake of {patient.given_name} {patient.family_name}"
                if correcting
                else f"Transcribe {form.intake_form.title}"
            ),
            "form": form,
            "patient": patient,
            "intake": intake,
            "intake_form": form.intake_form,
            "sections": form.sections(),
            "correcting": correcting,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/intake/intake/entry.html", context)

    # --- the read-only result page (replaces the change form) --------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        intake = self.get_object(request, object_id)
        if not self.has_view_permission(request, intake):  # as Django's change view: before "not found"
            raise PermissionDenied
        if intake is None:
            return not_found_redirect(request, self.model, object_id)
        revisions = list(intake.revisions.order_by("number"))
        wanted = request.GET.get("revision")
        revision = next((r for r in revisions if str(r.number) == wanted), intake.current_revision)
        assert revision is not None
        outcome = intake_outcome(intake=intake, revision=revision)
        access = access_of(request)
        usernames = _usernames([r.created_by for r in revisions])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": intake,
            "title": f"{FORMS[intake.form_code].title if intake.form_code in FORMS else intake.form_code}",
            "intake": intake,
            "patient": intake.patient,
            "revision": revision,
            "is_current": revision.pk == intake.current_revision_id,
            "revisions": [(r, actor_label(r.created_by, usernames)) for r in revisions],
            "scores": [_score_view(row.instrument, row.result) for row in _in_form_order(intake, outcome)],
            "pathway": _pathway_view(outcome.stratification.result),
            "flags": [_flag_view(flag) for flag in outcome.flags],
            "answers": _answers_view(revision),
            "can_correct": self.has_change_permission(request, intake),
            "can_see_flags": access.has(perm_name(ReferralFlag, "view"), intake.clinic_id)
            or access.has(perm_name(ReferralFlag, "change"), intake.clinic_id),
            "can_see_patient": access.has(perm_name(Patient, "view"), intake.clinic_id)
            or access.has(perm_name(Patient, "change"), intake.clinic_id),
        }
        return TemplateResponse(request, "admin/intake/intake/detail.html", context)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # intakes are clinical records: corrected by revision, never deleted


def _get_or_404(queryset: QuerySet[Any], pk: Any) -> Any:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValidationError, ValueError) as exc:  # absent, or not a UUID
        raise Http404("Not found in your clinic.") from exc


def _forms_of_clinics(patients: QuerySet[Patient]) -> list[IntakeForm]:
    codes: list[str] = []
    for enabled in Clinic.objects.filter(pk__in=patients.values("clinic_id")).values_list(
        "enabled_forms", flat=True
    ):
        codes.extend(code for code in enabled if code in FORMS and code not in codes)
    return [FORMS[code] for code in codes]


def _now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def _saved_message(outcome: IntakeOutcome, prefix: str) -> str:
    active = [flag for flag in outcome.flags if flag.is_active]
    if not active:
        return f"{prefix}. No referral flags were raised."
    urgent = [flag for flag in active if flag.priority != "routine"]
    text = f"{prefix}. {len(active)} referral flag(s) open"
    return text + (f", {len(urgent)} urgent or emergency." if urgent else ".")


def _usernames(labels: list[str]) -> dict[int, str]:
    ids = [int(label.split(":", 1)[1]) for label in labels if label.startswith("user:")]
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))


def _in_form_order(intake: Intake, outcome: IntakeOutcome) -> list[Any]:
    order = (
        {code: i for i, code in enumerate(FORMS[intake.form_code].instruments)}
        if intake.form_code in FORMS
        else {}
    )
    return sorted(outcome.scores, key=lambda row: order.get(row.instrument, 99))


def _score_view(code: str, result: dict[str, Any]) -> dict[str, Any]:
    definition = get(code)
    total_range = definition.total_range
    return {
        "code": code,
        "title": definition.title,
        "total": result["total"],
        "out_of": total_range[1] if total_range else None,
        "percent": definition.total_rule == "percent_of_maximum",
        "band": code_label(result["band"]),
        "subscales": [(code_label(name), value) for name, value in result["subscales"].items()],
        "flags": [code_label(flag) for flag in result["flags"]],
        "missing": result["missing"],
        "scorable": result["scorable"],
        "prorated": result["prorated"],
    }


def _pathway_view(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "ruleset": result["ruleset"],
        "back_care": back_care_label(result["back_care"]),
        "psychological_therapy": result["psychological_therapy"]["recommended"],
        "psychological_rules": result["psychological_therapy"]["rules"],
        "combined_care": result["combined_care"],
        "pathway_on_hold": result["pathway_on_hold"],
        "persistent": result["persistent"],
        "reasons": result["reasons"],
        "medications_classified": result["medications"]["classified"],
        "medications_unknown": result["medications"]["unknown"],
    }


def _flag_view(flag: ReferralFlag) -> dict[str, Any]:
    return {
        "flag": flag,
        "kind": flag_kind_label(flag.kind),
        "url": reverse("admin:intake_referralflag_change", args=[flag.pk]),
    }


def _answers_view(revision: IntakeRevision) -> list[dict[str, Any]]:
    sections = []
    for code, given in revision.responses.items():
        definition = get(code)
        rows = [
            {
                "id": item.id,
                "label": item.text or item.label,
                "answer": answer_label(code, item.id, given.get(item.id)),
            }
            for item in definition.items
        ]
        answered = sum(1 for item in definition.items if given.get(item.id) is not None)
        sections.append(
            {
                "code": code,
                "title": instrument_title(code),
                "rows": rows,
                "answered": answered,
                "count": len(rows),
            }
        )
    return sections
