"""Store patient names and identifiers in Unicode NFC, the form the services now write and search.

Before this, the API normalised names and identifiers but the admin and the FHIR path did not, so a
decomposed (NFD) value may be stored: search normalises its input and would no longer find it.

Conflicts with the unique constraint (clinic, system, value) are not resolved by guessing:

* the NFC form already names the **same** patient: the decomposed row is a duplicate of it and is
  deleted;
* it names **another** patient: both rows are left as they are and a warning lists their ids (two
  registrations of one person, for a person to merge); the migration still succeeds.

Not reversible in content (the reverse is a no-op): the decomposed bytes are not kept, and NFC is
canonically equivalent to them, so every reader shows the same text either way.
"""

import logging
import unicodedata

from django.db import migrations

logger = logging.getLogger("intake.migrations")


def _nfc(text):
    return unicodedata.normalize("NFC", text)


def normalise_patient_text(apps, schema_editor):
    Patient = apps.get_model("intake", "Patient")
    PatientIdentifier = apps.get_model("intake", "PatientIdentifier")
    for patient in Patient.objects.only("id", "family_name", "given_name").iterator(chunk_size=2000):
        family, given = _nfc(patient.family_name), _nfc(patient.given_name)
        if (family, given) != (patient.family_name, patient.given_name):
            Patient.objects.filter(pk=patient.pk).update(family_name=family, given_name=given)
    rows = PatientIdentifier.objects.only("id", "patient_id", "clinic_id", "system", "value")
    for row in rows.iterator(chunk_size=2000):
        system, value = _nfc(row.system), _nfc(row.value)
        if (system, value) == (row.system, row.value):
            continue
        holder = (
            PatientIdentifier.objects.filter(clinic_id=row.clinic_id, system=system, value=value)
            .exclude(pk=row.pk)
            .first()
        )
        if holder is None:
            PatientIdentifier.objects.filter(pk=row.pk).update(system=system, value=value)
        elif holder.patient_id == row.patient_id:
            PatientIdentifier.objects.filter(pk=row.pk).delete()
        else:
            logger.warning(
                "Identifier row %s (patient %s) is the same identifier as row %s (patient %s) once "
                "NFC-normalised; left unchanged: merge the two patients.",
                row.pk,
                row.patient_id,
                holder.pk,
                holder.patient_id,
            )


class Migration(migrations.Migration):

    dependencies = [
        ("intake", "0006_outbox_subject_index"),
    ]

    operations = [
        migrations.RunPython(normalise_patient_text, migrations.RunPython.noop, elidable=True),
    ]
