"""Template filters that show staff words for stored codes (`intake.admin.labels`).

Templates never spell a code out themselves (`cut:"_"` turned `off_work_due_to_pain` into
`offworkduetopain`): every code shown passes through one of these filters.
"""

from __future__ import annotations

from django import template

from intake.admin import labels

register = template.Library()

register.filter("code_label", labels.code_label)
register.filter("form_title", labels.form_title)
register.filter("verdict_label", labels.verdict_label)
register.filter("work_status_label", labels.work_status_label)
