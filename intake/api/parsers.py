"""JSON parsing that refuses what the standard library would choke on."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """True when arrays/objects nest deeper than `limit` (iterative: no recursion to overflow)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json_bytes(raw: bytes) -> Any:
    """Strict UTF-8 JSON: no NaN/Infinity, no duplicate-free guesswork, depth-limited."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"Request body is not valid UTF-8 (byte {exc.start}).") from exc
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ParseError(f"JSON nests deeper than {settings.MAX_JSON_DEPTH} levels.") from exc
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from exc
    if json_depth_exceeds(data, settings.MAX_JSON_DEPTH):
        raise ParseError(f"JSON nests deeper than {settings.MAX_JSON_DEPTH} levels.")
    return data


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return parse_json_bytes(stream.read() if stream is not None else b"")
