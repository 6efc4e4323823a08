"""factory_boy factories for the domain models."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model
from oauth2_provider.models import get_application_model

from intake.models import Clinic, IntegrationClient, Patient, PatientIdentifier, Role, StaffMembership


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    slug = factory.Sequence(lambda n: f"clinic-{n}")
    name = factory.Sequence(lambda n: f"Clinic {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = Role.RECEPTION


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_application_model()

    name = factory.Sequence(lambda n: f"EHR {n}")
    client_type = "confidential"
    authorization_grant_type = "client-credentials"
    client_secret = "test-secret"


class IntegrationClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationClient

    application = factory.SubFactory(ApplicationFactory)
    clinic = factory.SubFactory(ClinicFactory)
    scopes = factory.LazyFunction(lambda: ["patients:read", "patients:write"])


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    family_name = factory.Sequence(lambda n: f"Family{n}")
    given_name = "Alex"
    birth_date = datetime.date(1970, 1, 1)
    gender = "unknown"


class IdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientIdentifier

    patient = factory.SubFactory(PatientFactory)
    clinic = factory.SelfAttribute("patient.clinic")
    system = "urn:test:mrn"
    value = factory.Sequence(lambda n: f"MRN{n:06d}")
