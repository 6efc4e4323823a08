"""Patients: registration and demographics (through the patient services), and beside them the
score history charts, the latest pathway and the open referral flags."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from intake.batteries import FORMS
from intake.limits import MAX_IDENTIFIERS
from intake.models import (
    ACTIVE_STATUSES,
    Intake,
    Patient,
    PatientIdentifier,
    ReferralFlag,
)
from intake.selectors.charts import patient_score_charts
from intake.selectors.intakes import patient_latest_pathway
from intake.services.patients import patient_create, patient_set_active, patient_update
from intake.text import nfc, refusal

from .labels import back_care_label, flag_kind_label
from .scoping import ClinicScopedAdmin, ClinicScopedInline, access_of, perm_name

DEMOGRAPHICS = ("family_name", "given_name", "birth_date", "gender")


class CleanTextFormField(forms.CharField):
    """The API's text rules (`intake.text`) for admin forms: control and format characters are
    refused, checked before Django strips the ends, and the value is kept in NFC."""

    def to_python(self, value: Any) -> str:
        if isinstance(value, str):
            message = refusal(value)
            if message is not None:
                raise forms.ValidationError(message, code="control_character")
        return nfc(str(super().to_python(value)))


class IdentifierForm(forms.ModelForm):
    system = CleanTextFormField(max_length=255)
    value = CleanTextFormField(max_length=255)

    class Meta:
        model = PatientIdentifier
        fields = ["system", "value"]


class IdentifierFormSet(BaseInlineFormSet):
    """Identifiers must be unique in the clinic: checked here so the page can say which one."""

    def clean(self) -> None:
        super().clean()
        clinic_id = getattr(self.instance, "clinic_id", None)
        seen: set[tuple[str, str]] = set()
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            if "system" not in form.cleaned_data or "value" not in form.cleaned_data:
                continue  # the field's own error is shown (e.g. a refused character)
            pair = (form.cleaned_data["system"], form.cleaned_data["value"])
            if pair in seen:
                form.add_error("value", "Listed twice.")
            seen.add(pair)
            if clinic_id is None:
                continue  # no valid clinic chosen: the patient form already says so
            taken = PatientIdentifier.objects.filter(clinic_id=clinic_id, system=pair[0], value=pair[1])
            if self.instance.pk is not None:
                taken = taken.exclude(patient_id=self.instance.pk)
            if taken.exists():
                form.add_error("value", "This identifier already names another patient in this clinic.")

    def identifiers(self) -> list[tuple[str, str]]:
        return [
            (form.cleaned_data["system"], form.cleaned_data["value"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


class PatientIdentifierInline(ClinicScopedInline, admin.TabularInline):
    model = PatientIdentifier
    form = IdentifierForm
    formset = IdentifierFormSet
    fields = ["system", "value"]
    extra = 1
    max_num = MAX_IDENTIFIERS

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # max_num alone only stops the page from offering more rows; a posted form can hold more.
        return super().get_formset(request, obj, validate_max=True, **kwargs)


class ActiveFlagsFilter(admin.SimpleListFilter):
    title = "open referral flags"
    parameter_name = "open_flags"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has open flags"), ("no", "None open")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        active = Q(flags__status__in=ACTIVE_STATUSES)
        if self.value() == "yes":
            return queryset.filter(active).distinct()
        if self.value() == "no":
            return queryset.exclude(active)
        return queryset


class PatientForm(forms.ModelForm):
    family_name = CleanTextFormField(max_length=100)
    given_name = CleanTextFormField(max_length=100)

    class Meta:
        model = Patient
        fields = ["clinic", *DEMOGRAPHICS, "is_active"]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


@admin.register(Patient)
class PatientAdmin(ClinicScopedAdmin):
    form = PatientForm
    change_form_template = "admin/intake/patient/change_form.html"
    list_display = ["family_name", "given_name", "birth_date", "identifier_list", "clinic", "is_active"]
    list_filter = ["is_active", "gender", ActiveFlagsFilter, "clinic"]
    search_fields = ["family_name", "given_name", "identifiers__value"]
    list_select_related = ["clinic"]
    date_hierarchy = "created_at"
    inlines = [PatientIdentifierInline]
    readonly_fields = ["id", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("identifiers")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # Names and identifiers are stored in NFC: a decomposed search term must find them.
        return super().get_search_results(request, queryset, nfc(search_term))

    @admin.display(description="Identifiers")
    def identifier_list(self, obj: Patient) -> str:
        return ", ".join(identifier.value for identifier in obj.identifiers.all())

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["clinic", *DEMOGRAPHICS, "is_active"]
        return fields if obj is None else [*fields, "id", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A patient never moves clinic: their intakes, scores and flags belong to it.
        return list(self.readonly_fields) + ([] if obj is None else ["clinic"])

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # patients are deactivated, never deleted

    # --- writes go through the patient services --------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            changes = {name: data[name] for name in DEMOGRAPHICS if name in form.changed_data}
            patient_update(patient=obj, changes=changes)
            patient_set_active(patient=obj, is_active=data["is_active"])
            return
        if not access_of(request).has(perm_name(Patient, "add"), obj.clinic_id):
            raise PermissionDenied
        created = patient_create(clinic=obj.clinic, **{name: data[name] for name in DEMOGRAPHICS})
        if not data["is_active"]:
            patient_set_active(patient=created, is_active=False)
        obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        form.save_m2m()
        for formset in formsets:
            if isinstance(formset, IdentifierFormSet):
                if formset.has_changed():
                    patient_update(patient=form.instance, changes={}, identifiers=formset.identifiers())
                # The history message reads these; the service replaced the identifiers as a whole.
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # --- the patient page ----------------------------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        patient = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if patient is not None:
            extra.update(self.clinical_context(request, patient))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def clinical_context(self, request: HttpRequest, patient: Patient) -> dict[str, Any]:
        access = access_of(request)
        can_see_intakes = access.has(perm_name(Intake, "view"), patient.clinic_id) or access.has(
            perm_name(Intake, "change"), patient.clinic_id
        )
        can_see_flags = access.has(perm_name(ReferralFlag, "view"), patient.clinic_id) or access.has(
            perm_name(ReferralFlag, "change"), patient.clinic_id
        )
        context: dict[str, Any] = {
            "can_see_intakes": can_see_intakes,
            "can_see_flags": can_see_flags,
            "can_add_intake": access.has(perm_name(Intake, "add"), patient.clinic_id) and patient.is_active,
            "entry_forms": [FORMS[code] for code in patient.clinic.enabled_forms if code in FORMS],
        }
        if can_see_intakes:
            context["charts"] = patient_score_charts(patient=patient)
            context["intakes"] = list(
                Intake.objects.filter(patient=patient)
                .select_related("current_revision")
                .annotate(revision_count=Count("revisions"))
                .order_by("-completed_at")[:20]
            )
            latest = patient_latest_pathway(patient=patient)
            context["latest_stratification"] = latest
            context["latest_back_care"] = back_care_label(latest.back_care) if latest else ""
        if can_see_flags:
            flags = list(
                ReferralFlag.objects.filter(patient=patient, status__in=ACTIVE_STATUSES)
                .select_related("assignee")
                .order_by("priority_rank", "due_at")
            )
            for flag in flags:
                flag.kind_label = flag_kind_label(flag.kind)  # type: ignore[attr-defined]
            context["open_flags"] = flags
        return context
