"""Loading the shared public FHIR fixtures (shared/fixtures/fhir, see its README)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "fhir"
BASE_URL = "https://clinic.example/fhir"

needs_fixtures = pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared/ fixtures not checked out")


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((FIXTURES / name).read_text(encoding="utf-8")))
