"""Loading the public FHIR payloads vendored in tests/fixtures/fhir (sources in its README)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir"
BASE_URL = "https://clinic.example/fhir"


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((FIXTURES / name).read_text(encoding="utf-8")))
