"""The clinical reference ships with the repository, and every citation of it points at a real section.

Definitions, rules, templates, tests and docs cite `docs/clinical-reference.md §N`. A citation of a
section that does not exist, or a leftover pointer to the old out-of-tree reference (a file in a
sibling `shared` folder that people who clone the repository do not have), fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "clinical-reference.md"
REFERENCE_PATH = "docs/clinical-reference.md"

# Spelled in pieces so that this file does not match its own search.
OLD_REFERENCE = "INSTRUMENTS" + ".md"
SHARED_FOLDER = ".." + "/shared"

# Generated or machine-local folders and files (what .gitignore lists), never project text.
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    ".benchmarks",
    "build",
    "staticfiles",
    "test-artifacts",
    "node_modules",
}
SKIPPED_SUFFIXES = (".pyc", ".sqlite3")
SKIPPED_NAMES = {".env", ".demo-credentials.json"}
# Payloads copied from outside sources may name anything; they are data, not citations.
FIXTURES = ROOT / "tests" / "fixtures"

# tests/test_standalone.py guards the sibling folder for every tracked file and has to spell the
# pattern out; the old reference's name stays forbidden there too.
SHARED_EXEMPT_FILES = {"tests/test_standalone.py"}

HEADING = re.compile(r"^## §(\d+)\. \S", re.MULTILINE)
# `docs/clinical-reference.md §4, §18`, `… §3 and §4`, `… §15–§17`, `… §19 trap 4`.
CITATION = re.compile(re.escape(REFERENCE_PATH) + r"(?P<sections>(?:\s*(?:,|and|–)?\s*§\d+)+)")
SECTION = re.compile(r"(–)?\s*§(\d+)")


def _project_files() -> Iterator[Path]:
    stack = [ROOT]
    while stack:
        folder = stack.pop()
        for path in sorted(folder.iterdir()):
            if path.is_dir():
                if path.name in SKIPPED_DIRS or path.name.endswith(".egg-info") or path == FIXTURES:
                    continue
                stack.append(path)
            elif path.name not in SKIPPED_NAMES and not path.name.endswith(SKIPPED_SUFFIXES):
                yield path


def _text(path: Path) -> str:
    # Binary files (screenshots) cannot hold a citation; undecodable bytes are dropped.
    return path.read_bytes().decode("utf-8", errors="ignore")


def _cited_sections(text: str) -> list[int]:
    cited: list[int] = []
    for match in CITATION.finditer(text):
        previous: int | None = None
        for dash, number in SECTION.findall(match.group("sections")):
            section = int(number)
            if dash and previous is not None:
                cited.extend(range(previous + 1, section + 1))
            else:
                cited.append(section)
            previous = section
    return cited


def _headings() -> list[int]:
    return [int(number) for number in HEADING.findall(REFERENCE.read_text(encoding="utf-8"))]


def test_reference_sections_are_numbered_0_to_23_in_order() -> None:
    # Section numbers are what every citation uses: none may be dropped, repeated or renumbered.
    assert _headings() == list(range(24))


def test_citation_parser_reads_lists_ranges_and_traps() -> None:
    text = (
        f"({REFERENCE_PATH} §4, §18) ({REFERENCE_PATH} §3 and §4) "
        f"{REFERENCE_PATH} §15–§17 and ({REFERENCE_PATH} §19 trap 4)"
    )
    assert _cited_sections(text) == [4, 18, 3, 4, 15, 16, 17, 19]


def test_every_cited_section_exists_in_the_reference() -> None:
    headings = set(_headings())
    citing: dict[str, list[int]] = {}
    for path in _project_files():
        sections = _cited_sections(_text(path))
        if sections:
            citing[path.relative_to(ROOT).as_posix()] = sections
    # The definitions and the ruleset cite the reference; an empty scan means a broken parser.
    assert "intake/instruments/definitions/phq9.py" in citing
    assert "intake/stratification/lbp_2026_1.py" in citing
    missing = {
        name: sorted(set(sections) - headings)
        for name, sections in citing.items()
        if not set(sections) <= headings
    }
    assert missing == {}


def _stale_mentions(name: str, text: str) -> list[str]:
    """What in `text` (of the file `name`, relative to the repository root) points outside it."""
    found = []
    if OLD_REFERENCE in text:
        found.append(OLD_REFERENCE)
    if name not in SHARED_EXEMPT_FILES and SHARED_FOLDER in text:
        found.append(SHARED_FOLDER)
    return found


def test_no_file_points_outside_the_repository_for_the_reference() -> None:
    stale = {}
    for path in _project_files():
        name = path.relative_to(ROOT).as_posix()
        mentions = _stale_mentions(name, _text(path))
        if mentions:
            stale[name] = mentions
    assert stale == {}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("intake/x.py", f"# see {OLD_REFERENCE} section 2", [OLD_REFERENCE]),
        ("README.md", f"The reference is `{OLD_REFERENCE}`.", [OLD_REFERENCE]),
        ("README.md", f"Fault tests (`{SHARED_FOLDER}/RELIABILITY_PLAN.md`)", [SHARED_FOLDER]),
        (".ci/run", f"bash {SHARED_FOLDER}/services.sh", [SHARED_FOLDER]),
        ("tests/test_standalone.py", f"# `{SHARED_FOLDER}/…` in text", []),
        ("tests/test_standalone.py", f"# {OLD_REFERENCE}", [OLD_REFERENCE]),
        ("docs/clinical-reference.md", "## §21. Identifiers the code uses", []),
    ],
)
def test_stale_mention_rules(name: str, content: str, expected: list[str]) -> None:
    # The only exemption: the standalone guard may name the sibling folder, nothing else may.
    assert _stale_mentions(name, content) == expected
