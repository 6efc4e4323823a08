"""Cursor pagination: stable under concurrent inserts, no COUNT(*) over large tables."""

from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    ordering = ("-created_at", "-pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class FlagCursorPagination(CursorPagination):
    """The worklist order: most urgent first, then soonest due."""

    ordering = ("priority_rank", "due_at", "pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
