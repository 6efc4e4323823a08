"""Instrument definitions over HTTP."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CODES = {
    "startback",
    "phq9",
    "gad7",
    "phq2",
    "gad2",
    "phq4",
    "odi",
    "rmdq",
    "peg",
    "nrs",
    "orebro_sf",
    "pcs",
    "fabq",
    "tsk17",
    "tsk11",
    "isi",
    "pss10",
    "red_flags",
}


def test_lists_all_eighteen_instruments(api):
    listed = api.get("/api/v1/instruments/").json()
    assert {item["code"] for item in listed} == CODES
    phq9 = next(item for item in listed if item["code"] == "phq9")
    assert phq9["loinc_total"] == "44261-6"
    assert phq9["flags"] == ["suicidal_ideation", "item9_unanswered"]


def test_public_domain_items_carry_full_text_and_copyrighted_ones_labels_only(api):
    phq9 = api.get("/api/v1/instruments/phq9/").json()
    assert all(item["text"] for item in phq9["items"] if item["scored"])
    odi = api.get("/api/v1/instruments/odi/").json()
    assert all(item["text"] is None for item in odi["items"])
    assert odi["missing_rule"]["rule"] == "score_answered_items"


def test_definition_names_reversed_items_and_sources(api):
    tsk17 = api.get("/api/v1/instruments/tsk17/").json()
    assert tsk17["reversed_items"] == ["q4", "q8", "q12", "q16"]
    assert tsk17["flags"][0]["code"] == "high_kinesiophobia"
    assert tsk17["sources"]


def test_unknown_instrument_is_404(api):
    assert api.get("/api/v1/instruments/nope/").status_code == 404


def test_definitions_need_authentication():
    assert APIClient().get("/api/v1/instruments/").status_code == 401
