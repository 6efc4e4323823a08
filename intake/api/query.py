"""Query parameters: one strict reading of numbers, and the characters no parameter may hold.

Every query parameter the API turns into a number goes through `query_integer`, so `?page_size=²`
or `?revision=٣` is a 400 naming the parameter, never `int()` failing on a digit that
`str.isdigit()` accepted. `QueryStringGuardMiddleware` (in `middleware.py`) runs
`query_string_errors` over every query string of /api/ and /fhir/ before any view reads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from rest_framework.exceptions import ValidationError

from intake.text import forbidden_character

__all__ = [
    "INT32_MAX",
    "QueryError",
    "ascii_integer",
    "query_integer",
    "query_single",
    "query_string_errors",
]

# PostgreSQL `integer` (AutoField ids, revision numbers): a larger value cannot match a row, and
# PostgreSQL refuses to compare the column with it instead of answering "none".
INT32_MAX = 2**31 - 1

# ASCII digits only: `\d` and str.isdigit() also accept "²", "٣" and other digits int() refuses
# or reads differently. Ten digits bound the work before the range check.
_ASCII_INTEGER = re.compile(r"[0-9]{1,10}", re.ASCII)


def ascii_integer(text: str, *, minimum: int, maximum: int) -> int | None:
    """`text` as an int when it is 1-10 ASCII digits within [minimum, maximum], else None."""
    if not _ASCII_INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def query_single(params: Any, name: str) -> str | None:
    """The one value of query parameter `name`, None when absent; 400 when repeated."""
    values: list[str] = params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]}, code="repeated")
    return values[0]


def query_integer(params: Any, name: str, *, minimum: int, maximum: int) -> int | None:
    """Query parameter `name` as a whole number in [minimum, maximum]; None when absent.

    400 naming the parameter when it is repeated, empty, or not such a number.
    """
    raw = query_single(params, name)
    if raw is None:
        return None
    number = ascii_integer(raw, minimum=minimum, maximum=maximum)
    if number is None:
        raise ValidationError(
            {name: [f"A whole number from {minimum} to {maximum} (digits 0-9)."]}, code="invalid"
        )
    return number


class QueryError(Exception):
    """A query string that no endpoint may read: `parameter` names the offending parameter."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail


def _forbidden(text: str) -> str | None:
    # A query value is short text, never free text: the rule of names and identifiers in bodies.
    found = forbidden_character(text)
    return None if found is None else f"U+{ord(found[1]):04X}"


def _printable_name(raw: bytes) -> str:
    """The parameter's name fit to echo in an error: bad bytes and characters escaped."""
    text = raw.decode("utf-8", errors="backslashreplace")
    return "".join(f"\\u{ord(c):04x}" if _forbidden(c) else c for c in text)


def query_string_errors(raw: bytes, *, max_fields: int | None) -> list[QueryError]:
    """Every parameter of a raw query string whose name or value no endpoint may read.

    Django decodes query strings leniently (invalid UTF-8 becomes U+FFFD, so a percent-encoded
    lone surrogate turns silently into another character); this reads the bytes strictly:
    invalid UTF-8, and any character `intake.text` refuses in short text, is an error.
    """
    chunks: Sequence[bytes] = [chunk for chunk in raw.split(b"&") if chunk]
    if max_fields is not None and len(chunks) > max_fields:
        return [QueryError("", f"More than {max_fields} query parameters.")]
    errors: list[QueryError] = []
    for chunk in chunks:
        raw_name, _, raw_value = chunk.partition(b"=")
        name_bytes = unquote_to_bytes(raw_name.replace(b"+", b" "))
        value_bytes = unquote_to_bytes(raw_value.replace(b"+", b" "))
        name = _printable_name(name_bytes)
        try:
            text = name_bytes.decode("utf-8") + value_bytes.decode("utf-8")
        except UnicodeDecodeError:
            errors.append(QueryError(name, "Not valid UTF-8 once percent-decoded."))
            continue
        found = _forbidden(text)
        if found is not None:
            errors.append(
                QueryError(
                    name,
                    f"Control, format and separator characters and noncharacters are not allowed "
                    f"in query parameters: {found}.",
                )
            )
    return errors
