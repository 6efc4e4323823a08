"""Response sets shared by several instruments."""

from __future__ import annotations

from intake.instruments.definition import Option

# PHQ/GAD frequency scale, LOINC answer list LL358-3 [P https://loinc.org/LL358-3].
# The zero option is "Not at all" — not "not at all sure" [P camcops gad7.rst citing Zorowitz 2021].
PHQ_FREQUENCY = (
    Option(0, "Not at all", loinc="LA6568-5"),
    Option(1, "Several days", loinc="LA6569-3"),
    Option(2, "More than half the days", loinc="LA6570-1"),
    Option(3, "Nearly every day", loinc="LA6571-9"),
)

PHQ_FAMILY_LICENCE = (
    "Public domain: no permission is required to reproduce, translate, display or distribute "
    "(Pfizer Inc.; PRIME-MD is a Pfizer trademark — keep the attribution) "
    "[P phqscreeners.com quoted in camcops docs/source/tasks/phq9.rst]."
)
