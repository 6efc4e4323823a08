"""Cursor pagination: stable under concurrent inserts, no COUNT(*) over large tables."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class StrictCursorPagination(CursorPagination):
    """A `page_size` that is not a whole number from 1 to the maximum is a 400, not ignored."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound as exc:  # DRF answers 404 for a bad cursor: it is bad input, not a missing page
            raise ValidationError({self.cursor_query_param: ["Not a cursor this API returned."]}) from exc

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


class CreatedCursorPagination(StrictCursorPagination):
    ordering = ("-created_at", "-pk")


class FlagCursorPagination(StrictCursorPagination):
    """The worklist order: most urgent first, then soonest due."""

    ordering = ("priority_rank", "due_at", "pk")
