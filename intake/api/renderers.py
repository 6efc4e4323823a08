"""JSON renderers that always produce UTF-8: the last line of defence behind the parser.

The parser refuses lone surrogates, but a response can still carry one from elsewhere (a stored
value written before the parser refused them, text a library echoes). DRF's JSONRenderer then
raises UnicodeEncodeError and the client gets a 500 instead of the answer; here such a code point
becomes U+FFFD, the replacement character, and the event is logged.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rest_framework.renderers import JSONRenderer

logger = logging.getLogger(__name__)

# After json.loads or in any Python str, a surrogate code point is always unpaired.
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_lone_surrogates(value: Any) -> Any:
    """`value` (JSON-ready: dicts, lists, text, scalars) with lone surrogates replaced by U+FFFD,
    in keys and values; other values are returned as they are."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {replace_lone_surrogates(key): replace_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [replace_lone_surrogates(item) for item in value]
    return value


class UnicodeSafeJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer (UTF-8, not ASCII-escaped) that cannot fail on a lone surrogate."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # Rare by construction (the parser refuses them), so the second pass costs nothing usually.
            request = (renderer_context or {}).get("request")
            logger.warning(
                "response to %s held a lone surrogate; sent as U+FFFD",
                getattr(request, "path", "?"),
            )
            return super().render(replace_lone_surrogates(data), accepted_media_type, renderer_context)
