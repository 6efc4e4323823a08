"""The coordinator worklist: referral flags by priority then due time, overdue ones marked, and
every transition made through `flag_transition` (the same rules, history and events as the API)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from intake.api.query import INT32_MAX, ascii_integer
from intake.errors import DomainError
from intake.models import ACTIVE_STATUSES, FlagStatus, Intake, Patient, ReferralFlag, StaffMembership
from intake.selectors.intakes import flags_overdue, intake_outcome
from intake.services.flags import ASSIGNABLE_ROLES, TRANSITIONS, flag_transition

from .intakes import _score_view, _usernames
from .labels import actor_label, flag_kind_label, instrument_title
from .scoping import ClinicScopedAdmin, access_of, actor_for_staff, not_found_redirect, perm_name

ACTIONS_SHOWN = ("acknowledge", "assign", "start", "close", "dismiss")


class StatusFilter(admin.SimpleListFilter):
    """Active flags (open, acknowledged, in progress) unless another status is chosen."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active (default)"), *FlagStatus.choices, ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        current = self.value() or "active"
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or "active"
        if value == "active":
            return queryset.filter(status__in=ACTIVE_STATUSES)
        if value == "all":
            return queryset
        return queryset.filter(status=value)


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return flags_overdue(queryset, overdue=self.value() == "yes")
        return queryset


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        kinds = model_admin.get_queryset(request).order_by().values_list("kind", flat=True).distinct()
        return sorted(((kind, flag_kind_label(kind)) for kind in kinds), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        clinic_ids = access_of(request).clinics_with(
            perm_name(ReferralFlag, "view"), perm_name(ReferralFlag, "change")
        )
        staff = StaffMembership.objects.filter(role__in=ASSIGNABLE_ROLES, user__is_active=True)
        if clinic_ids is not None:
            staff = staff.filter(clinic_id__in=clinic_ids)
        people = sorted(set(staff.values_list("user_id", "user__username")), key=lambda pair: pair[1])
        return [("me", "Me"), ("none", "Unassigned")] + [(str(pk), name) for pk, name in people]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user.pk)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        user_id = ascii_integer(value or "", minimum=1, maximum=INT32_MAX)
        return queryset if user_id is None else queryset.filter(assignee_id=user_id)


@admin.register(ReferralFlag)
class ReferralFlagAdmin(ClinicScopedAdmin):
    list_display = ["priority_badge", "kind_label", "patient_name", "status", "due", "assignee", "created_at"]
    list_display_links = ["kind_label"]
    list_filter = [StatusFilter, "priority", KindFilter, AssigneeFilter, OverdueFilter]
    search_fields = [
        "patient__family_name",
        "patient__given_name",
        "patient__identifiers__value",
    ]
    list_select_related = ["patient", "assignee"]
    ordering = ["priority_rank", "due_at", "pk"]
    sortable_by = ()  # the worklist order is the point: priority, then due time
    actions = ["acknowledge_selected", "assign_selected_to_me"]
    list_per_page = 50

    class Media:
        css = {"all": ["intake/admin.css"]}

    # --- columns ---------------------------------------------------------------------------

    @admin.display(description="Priority")
    def priority_badge(self, obj: ReferralFlag) -> str:
        return format_html(
            '<span class="badge priority-{}">{}</span>', obj.priority, obj.get_priority_display()
        )

    @admin.display(description="Flag")
    def kind_label(self, obj: ReferralFlag) -> str:
        return flag_kind_label(obj.kind)

    @admin.display(description="Patient")
    def patient_name(self, obj: ReferralFlag) -> str:
        identifiers = ", ".join(identifier.value for identifier in obj.patient.identifiers.all())
        return format_html(
            "{}, {}<br><small class='muted'>{}</small>",
            obj.patient.family_name,
            obj.patient.given_name,
            identifiers,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("patient__identifiers")

    @admin.display(description="Due")
    def due(self, obj: ReferralFlag) -> str:
        local = timezone.localtime(obj.due_at).strftime("%d %b %H:%M")
        if obj.is_active and obj.due_at < timezone.now():
            return format_html(
                '<span class="flag-overdue" title="Overdue">⚠ Overdue {}</span><br><small>{}</small>',
                timesince(obj.due_at, depth=1),
                local,
            )
        if obj.is_active:
            return format_html(
                '<span class="flag-due">in {}</span><br><small class="muted">{}</small>',
                timeuntil(obj.due_at, depth=1),
                local,
            )
        return local

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra = {"title": "Referral flag worklist", **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    # --- bulk actions ------------------------------------------------------------------------

    @admin.action(description="Acknowledge selected flags", permissions=["change"])
    def acknowledge_selected(self, request: HttpRequest, queryset: QuerySet[ReferralFlag]) -> None:
        self._bulk(request, queryset, "acknowledge", "acknowledged")

    @admin.action(description="Assign selected flags to me", permissions=["change"])
    def assign_selected_to_me(self, request: HttpRequest, queryset: QuerySet[ReferralFlag]) -> None:
        self._bulk(request, queryset, "assign", "assigned to you")

    def _bulk(self, request: HttpRequest, queryset: QuerySet[ReferralFlag], action: str, done: str) -> None:
        succeeded = 0
        for flag in queryset.select_related("clinic", "patient"):
            label = f"{flag_kind_label(flag.kind)} for {flag.patient.family_name}, {flag.patient.given_name}"
            if not self.has_change_permission(request, flag):
                messages.error(request, f"{label}: you may not change flags of this clinic.")
                continue
            try:
                flag_transition(actor=actor_for_staff(request, flag.clinic), flag_id=flag.pk, action=action)
            except DomainError as exc:
                messages.error(request, f"{label}: {exc.detail}")
            else:
                succeeded += 1
        if succeeded:
            messages.success(request, f"{succeeded} flag(s) {done}.")

    # --- the flag page: reasons, evidence, scores, history and the transitions ------------

    def get_urls(self) -> list[Any]:
        custom = [
            path(
                "<uuid:flag_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="intake_referralflag_transition",
            ),
        ]
        return custom + super().get_urls()

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        flag = self.get_object(request, object_id)
        if not self.has_view_permission(request, flag):  # as Django's change view: before "not found"
            raise PermissionDenied
        if flag is None:
            return not_found_redirect(request, self.model, object_id)
        intake: Intake = flag.intake
        outcome = intake_outcome(intake=intake, revision=flag.revision)
        events = list(flag.events.all())
        usernames = _usernames([event.actor for event in events])
        can_change = self.has_change_permission(request, flag)
        access = access_of(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": flag,
            "title": flag_kind_label(flag.kind),
            "flag": flag,
            "patient": flag.patient,
            "intake": intake,
            "is_overdue": flag.is_active and flag.due_at < timezone.now(),
            "reasons": _reasons_view(flag.reasons),
            "scores": [_score_view(row.instrument, row.result) for row in outcome.scores],
            "events": [(event, actor_label(event.actor, usernames)) for event in events],
            "actions": _allowed_actions(flag) if can_change else [],
            "assignees": _assignees(flag) if can_change else [],
            "can_see_intake": access.has(perm_name(Intake, "view"), flag.clinic_id)
            or access.has(perm_name(Intake, "change"), flag.clinic_id),
            "can_see_patient": access.has(perm_name(Patient, "view"), flag.clinic_id)
            or access.has(perm_name(Patient, "change"), flag.clinic_id),
            "media": self.media,
        }
        return TemplateResponse(request, "admin/intake/referralflag/detail.html", context)

    def transition_view(self, request: HttpRequest, flag_id: uuid.UUID) -> HttpResponse:
        flag = self.get_queryset(request).select_related("clinic").filter(pk=flag_id).first()
        if flag is None:
            return not_found_redirect(request, self.model, str(flag_id))
        if request.method != "POST" or not self.has_change_permission(request, flag):
            raise PermissionDenied
        action = request.POST.get("action", "")
        back = HttpResponseRedirect(reverse("admin:intake_referralflag_change", args=[flag.pk]))
        if action not in TRANSITIONS:
            messages.error(request, "Unknown action.")
            return back
        version = request.POST.get("version", "")
        assignee = request.POST.get("assignee", "")
        expected_version = ascii_integer(version, minimum=0, maximum=INT32_MAX)
        assignee_id = ascii_integer(assignee, minimum=1, maximum=INT32_MAX)
        if (version and expected_version is None) or (assignee and assignee_id is None):
            messages.error(request, "The form was not sent as this page wrote it: reload and retry.")
            return back
        try:
            updated = flag_transition(
                actor=actor_for_staff(request, flag.clinic),
                flag_id=flag.pk,
                action=action,
                expected_version=expected_version,
                assignee_id=assignee_id,
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(
                request, f"Flag {action.replace('_', ' ')}: now {updated.get_status_display().lower()}."
            )
        return back

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # flags are raised by the stratification of an intake

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # closed or dismissed with a reason, never deleted


def _allowed_actions(flag: ReferralFlag) -> list[dict[str, Any]]:
    return [
        {"name": name, "label": name.capitalize(), "needs_note": TRANSITIONS[name].needs_note}
        for name in ACTIONS_SHOWN
        if flag.status in TRANSITIONS[name].sources
    ]


def _assignees(flag: ReferralFlag) -> list[tuple[int, str]]:
    staff = StaffMembership.objects.filter(
        clinic_id=flag.clinic_id, role__in=ASSIGNABLE_ROLES, user__is_active=True
    ).select_related("user")
    return sorted(
        ((m.user_id, f"{m.user.get_full_name() or m.user.username} ({m.get_role_display()})") for m in staff),
        key=lambda pair: pair[1],
    )


def _reasons_view(reasons: dict[str, Any]) -> dict[str, Any]:
    return {
        "rules": reasons.get("rules", []),
        "evidence": [
            {**evidence, "instrument_title": instrument_title(evidence.get("instrument") or "")}
            for evidence in reasons.get("evidence", [])
        ],
    }
