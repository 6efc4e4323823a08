"""JSON request bodies, parsed strictly: whatever the standard library would accept silently, or
that would fail later in a renderer or in PostgreSQL, is refused here, with its place named.

Refused (400): invalid UTF-8; NaN/Infinity; nesting deeper than MAX_JSON_DEPTH; a key repeated in
one object (json.loads keeps the last one, while a gateway or log may read the first: a PHQ-9 q9
of 3 followed by 0 would be stored as 0); NUL (PostgreSQL text and jsonb cannot hold it) and lone
surrogates such as `"\\ud800"` (UTF-8 cannot encode them), in keys and values alike; numbers beyond
the range of a double (1e400 would be read as infinity) and integers longer than int() reads.
Every parser of the API and of /fhir/ comes through `parse_json_bytes`.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

PathPart = str | int

# A body of 1 MB can hold ~100,000 faults; the first few locate the problem well enough.
MAX_REPORTED_FAULTS = 20

# NUL and every UTF-16 surrogate code point: after json.loads a paired escape ("\ud83d\ude00")
# is one astral character, so any code point left in this range is a lone surrogate.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def escape_unstorable(text: str) -> str:
    """`text` with NUL and lone surrogates spelled as `\\u0000`/`\\ud800`, so that echoing a refused
    key in an error message can neither fail to encode nor fail to store."""
    return _UNSTORABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


@dataclass(frozen=True)
class BodyFault:
    """One refused place in a body: `parts` is its path from the root (keys and list indexes)."""

    parts: tuple[PathPart, ...]
    code: str
    detail: str


class BodyRefused(ParseError):
    """Valid JSON syntax that cannot be taken as sent. `faults` holds the first
    MAX_REPORTED_FAULTS in document order, `total` counts them all; `resource_type` is the root
    object's `resourceType` when it is text (FHIR errors name places from it)."""

    default_code = "parse_error"

    def __init__(self, faults: list[BodyFault], *, total: int, resource_type: str | None) -> None:
        super().__init__(faults[0].detail)
        self.faults = tuple(faults)
        self.total = total
        self.resource_type = resource_type


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as json.loads read it, keys in order and repeats kept (arrays stay `list`)."""


class _Checker:
    """Turns json.loads' output (objects as `_Pairs`) into dicts, collecting faults with paths."""

    def __init__(self, depth_limit: int) -> None:
        self.depth_limit = depth_limit
        self.faults: list[BodyFault] = []
        self.total = 0

    def fault(self, parts: tuple[PathPart, ...], code: str, detail: str) -> None:
        self.total += 1
        if len(self.faults) < MAX_REPORTED_FAULTS:
            self.faults.append(BodyFault(parts, code, detail))

    def text(self, text: str, parts: tuple[PathPart, ...], *, where: str) -> None:
        match = _UNSTORABLE.search(text)
        if match is None:
            return
        char = match.group()
        if char == "\x00":
            self.fault(parts, "nul_character", f"NUL (\\u0000) is not allowed in a {where}.")
        else:
            self.fault(
                parts,
                "lone_surrogate",
                f"Lone surrogate \\u{ord(char):04x} in a {where} is not a character: send a "
                "surrogate pair or the character itself.",
            )

    def build(self, node: Any, parts: tuple[PathPart, ...], depth: int) -> Any:
        # Recursion is bounded: nesting beyond the depth limit is refused before descending.
        if isinstance(node, _Pairs):
            if depth > self.depth_limit:
                raise ParseError(f"JSON nests deeper than {self.depth_limit} levels.")
            built: dict[str, Any] = {}
            for key, value in node:
                here = (*parts, key)
                self.text(key, here, where="key")
                if key in built:
                    self.fault(
                        here,
                        "duplicate_key",
                        f"Key {escape_unstorable(key)!r} appears more than once in this object; "
                        "send each key once.",
                    )
                built[key] = self.build(value, here, depth + 1)
            return built
        if isinstance(node, list):
            if depth > self.depth_limit:
                raise ParseError(f"JSON nests deeper than {self.depth_limit} levels.")
            return [self.build(item, (*parts, index), depth + 1) for index, item in enumerate(node)]
        if isinstance(node, str):
            self.text(node, parts, where="value")
        elif isinstance(node, float) and not math.isfinite(node):
            # json.loads reads 1e400 as inf, which PostgreSQL's jsonb refuses and JSON cannot write.
            self.fault(parts, "number_out_of_range", "Number out of range (beyond ±1.7976931348623157e308).")
        elif node is _TOO_MANY_DIGITS:
            self.fault(
                parts, "number_out_of_range", f"Integer longer than {sys.get_int_max_str_digits()} digits."
            )
        return node


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class _TooManyDigits:
    """An integer literal int() refuses to read (sys.get_int_max_str_digits()): kept in place so
    the checker can name where it was, instead of json.loads failing the whole body."""


_TOO_MANY_DIGITS = _TooManyDigits()


def _parse_int(text: str) -> int | _TooManyDigits:
    limit = sys.get_int_max_str_digits()
    if limit and len(text.lstrip("-")) > limit:
        return _TOO_MANY_DIGITS
    return int(text)


def parse_json_bytes(raw: bytes) -> Any:
    """Strict UTF-8 JSON as Python values; raises ParseError (BodyRefused for located faults)."""
    limit = settings.MAX_JSON_DEPTH
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"Request body is not valid UTF-8 (byte {exc.start}).") from exc
    try:
        document = json.loads(
            text, parse_constant=_reject_constant, parse_int=_parse_int, object_pairs_hook=_Pairs
        )
    except RecursionError as exc:
        raise ParseError(f"JSON nests deeper than {limit} levels.") from exc
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from exc
    checker = _Checker(limit)
    try:
        data = checker.build(document, (), 1)
    except RecursionError as exc:  # only when MAX_JSON_DEPTH is set near Python's own limit
        raise ParseError(f"JSON nests deeper than {limit} levels.") from exc
    if checker.faults:
        resource_type = data.get("resourceType") if isinstance(data, dict) else None
        raise BodyRefused(
            checker.faults,
            total=checker.total,
            resource_type=resource_type if isinstance(resource_type, str) else None,
        )
    return data


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return parse_json_bytes(stream.read() if stream is not None else b"")
