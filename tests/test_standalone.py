"""The repository stands alone: nothing in it reads the workspace's shared folder beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `../shared/…` in text, or a path built as `… .parent / "shared"` in code
SHARED = re.compile(r'\.\./shared|/ "shared"')


def test_no_tracked_file_refers_to_the_folder_beside_the_repository() -> None:
    # a user who clones the repository has no ../shared: tests, CI and documents must not need it
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = [
        name
        for name in tracked
        if not name.startswith("tests/fixtures/")
        and (ROOT / name).is_file()
        and SHARED.search((ROOT / name).read_text(encoding="utf-8", errors="replace"))
        and name != "tests/test_standalone.py"
    ]
    assert offenders == []
