"""What text a client may send, and the one form it is stored and searched in. Pure Python.

Every name, identifier, code and other short text is Unicode NFC: a value typed on a system that
sends decomposed characters (NFD, e.g. macOS file names, some EHR exports) is the same value as the
composed one, so it registers, conflicts and is found as one. Only canonical equivalents are
merged: compatibility forms (NFKC: `ﬁ` and `fi`, full-width digits) stay distinct, because an
identifier system may give them different meanings.

Characters that print nothing or change how the text around them is shown are refused rather
than stripped, so a stored value is exactly what the client sent, normalised:

* in **short text** (names, identifiers, codes, URLs, date-times): control characters (Cc, NUL
  included), format characters (Cf: U+200B zero-width space, U+202E right-to-left override,
  U+FEFF), line and paragraph separators (Zl U+2028, Zp U+2029), unpaired surrogates (Cs) and
  noncharacters (U+FDD0–U+FDEF and every code point ending in FFFE or FFFF);
* in **free text** (notes, reasons): the same except TAB, LF and CR, and except format
  characters, which written languages and emoji need (U+200C, U+200D).
"""

from __future__ import annotations

import unicodedata

__all__ = ["FREE_TEXT_CONTROLS", "forbidden_character", "nfc", "refusal"]

FREE_TEXT_CONTROLS = frozenset("\t\n\r")

_SHORT_TEXT_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_FREE_TEXT_CATEGORIES = frozenset({"Cc", "Cs"})


def _is_noncharacter(char: str) -> bool:
    point = ord(char)
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


def forbidden_character(text: str, *, free_text: bool = False) -> tuple[int, str] | None:
    """(index, character) of the first character `text` may not hold, or None when it is clean."""
    categories = _FREE_TEXT_CATEGORIES if free_text else _SHORT_TEXT_CATEGORIES
    for index, char in enumerate(text):
        if free_text and char in FREE_TEXT_CONTROLS:
            continue
        if unicodedata.category(char) in categories or _is_noncharacter(char):
            return index, char
    return None


def refusal(text: str, *, free_text: bool = False) -> str | None:
    """A message naming the first forbidden character of `text` (by code point, never echoing it:
    an unpaired surrogate cannot even be encoded in the reply), or None when it is clean."""
    found = forbidden_character(text, free_text=free_text)
    if found is None:
        return None
    index, char = found
    kind = "Control, format and separator characters" if not free_text else "Control characters"
    return f"{kind} and noncharacters are not allowed: U+{ord(char):04X} at position {index}."


def nfc(text: str) -> str:
    """`text` in Unicode Normalization Form C, the form every short text is stored and searched in."""
    return unicodedata.normalize("NFC", text)
