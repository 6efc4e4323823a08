"""Cursor pagination: stable under concurrent inserts, no COUNT(*) over large tables.

Keyset cursors over the whole ordering, opaque and signed. DRF's own cursors are base64 of
`o=…&r=…&p=…` that anyone can forge, and their position reached the database as a filter value
(`?cursor=` + base64 of `p=garbage` was a 500; a timestamp with offset +17:58 is valid in Python
and refused by PostgreSQL). They also position by the first ordering field only, plus an offset:
the worklist's `priority_rank` has three values, so deep pages were OFFSET scans, pages could not
pass 1,000 flags of one priority, and walking back over ties skipped flags.

A cursor here holds the values of every ordering field of the row it continues from (the last
field is the primary key, so the key is unique) and a direction, as JSON signed with SECRET_KEY
for one list URL and one ordering (`django.core.signing`). Only a cursor this API issued for this
list is read, and each value must still be exactly what this module writes for its field; any
other `cursor` is a 400 naming it.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from functools import reduce
from operator import or_
from typing import Any, NamedTuple

from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .query import query_integer, query_single

KeyValue = int | str


class KeysetCursor(NamedTuple):
    """Continue after (or, `reverse`, before) the row whose ordering values are `key`."""

    key: tuple[KeyValue, ...]
    reverse: bool


def cursor_signer(list_path: str, ordering: Sequence[str]) -> signing.Signer:
    """The signer of cursors for one list: one salt per list URL and ordering, so a flags cursor
    is refused by the patients list, and one subscription's delivery cursor by another's list."""
    salt = f"intake.api.cursor:{list_path}:{','.join(ordering)}"
    return signing.Signer(salt=salt, sep=".")  # "." is not base64url: the cursor stays URL-safe


def _key_value(value: Any) -> KeyValue:
    """An ordering value as a cursor holds it (JSON): date-times in UTC, ISO 8601."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, uuid.UUID | str):
        return str(value)
    raise TypeError(f"cannot page on a {type(value).__name__}")


class StrictCursorPagination(CursorPagination):
    """Pages in `ordering` (its last field unique). A `page_size` that is not a whole number
    from 1 to the maximum is a 400, not ignored; so is a cursor not issued for this list."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor = "Not a cursor this API returned for this list: follow `next` or `previous`."

    def get_page_size(self, request: Any) -> int:
        size = query_integer(
            request.query_params, self.page_size_query_param, minimum=1, maximum=self.max_page_size
        )
        return self.page_size if size is None else size

    def paginate_queryset(self, queryset: QuerySet[Any], request: Any, view: Any = None) -> list[Any]:
        self.request = request
        self.base_url = self._base_url = request.build_absolute_uri()
        self._signer = cursor_signer(request.path, self.ordering)
        self._fields = [_ordering_field(queryset.model, name) for name in self.ordering]
        size = self.get_page_size(request)
        cursor = self._read_cursor(request)
        reverse = cursor is not None and cursor.reverse

        rows = queryset.order_by(*(_flipped(name) if reverse else name for name in self.ordering))
        if cursor is not None:
            rows = rows.filter(self._beyond(cursor))
        page = list(rows[: size + 1])
        has_more = len(page) > size
        page = page[:size]
        if reverse:
            page.reverse()
        self.page = page

        first = self._key_of(page[0]) if page else None
        last = self._key_of(page[-1]) if page else None
        self._next: KeysetCursor | None = None
        self._previous: KeysetCursor | None = None
        self._next_is_first_page = False
        if cursor is None:
            self._next = KeysetCursor(last, False) if has_more and last else None
        elif not cursor.reverse:
            self._next = KeysetCursor(last, False) if has_more and last else None
            self._previous = KeysetCursor(first or cursor.key, True)
        else:
            self._previous = KeysetCursor(first, True) if has_more and first else None
            if last:
                self._next = KeysetCursor(last, False)
            else:  # nothing before the cursor's row any more: the list starts there
                self._next_is_first_page = True
        return page

    def get_next_link(self) -> str | None:
        if self._next_is_first_page:
            first_page: str = remove_query_param(self._base_url, self.cursor_query_param)
            return first_page
        return None if self._next is None else self._link(self._next)

    def get_previous_link(self) -> str | None:
        return None if self._previous is None else self._link(self._previous)

    def _link(self, cursor: KeysetCursor) -> str:
        token = self._signer.sign_object({"k": list(cursor.key), "r": cursor.reverse}, compress=False)
        url: str = replace_query_param(self._base_url, self.cursor_query_param, token)
        return url

    def _read_cursor(self, request: Any) -> KeysetCursor | None:
        token = query_single(request.query_params, self.cursor_query_param)
        if token is None:
            return None
        try:
            fields = self._signer.unsign_object(token)
        except (signing.BadSignature, ValueError) as exc:  # ValueError: not base64 / JSON
            raise self._invalid() from exc
        if not isinstance(fields, dict) or set(fields) != {"k", "r"} or type(fields["r"]) is not bool:
            raise self._invalid()
        key = fields["k"]
        if not isinstance(key, list) or len(key) != len(self._fields):
            raise self._invalid()
        return KeysetCursor(
            tuple(self._checked(f, v) for f, v in zip(self._fields, key, strict=True)), fields["r"]
        )

    def _checked(self, field: models.Field[Any, Any], value: Any) -> KeyValue:
        """`value` when it is exactly what `_key_value` writes for `field` (so the database
        gets a value of the column's type, in the form every database accepts), else 400."""
        if not isinstance(value, int | str) or isinstance(value, bool):
            raise self._invalid()
        try:
            parsed = field.to_python(value)
            canonical = _key_value(parsed)
        except (DjangoValidationError, TypeError, ValueError, OverflowError) as exc:
            raise self._invalid() from exc
        if canonical != value or type(canonical) is not type(value):
            raise self._invalid()
        return value

    def _key_of(self, row: Any) -> tuple[KeyValue, ...]:
        return tuple(_key_value(getattr(row, field.attname)) for field in self._fields)

    def _beyond(self, cursor: KeysetCursor) -> Q:
        """Rows after the cursor's key in the page's direction: (a, b, c) > (x, y, z) written out
        as a > x OR (a = x AND b > y) OR …, each comparison turned for descending fields."""
        equal: dict[str, KeyValue] = {}
        terms = []
        for name, value in zip(self.ordering, cursor.key, strict=True):
            column = name.lstrip("-")
            comparison = "lt" if name.startswith("-") != cursor.reverse else "gt"
            terms.append(Q(**equal, **{f"{column}__{comparison}": value}))
            equal[column] = value
        # The leading column's inclusive bound repeats the first term's, so the planner can use
        # it as an index range condition.
        lead = self.ordering[0]
        bound = "lte" if lead.startswith("-") != cursor.reverse else "gte"
        return Q(**{f"{lead.lstrip('-')}__{bound}": cursor.key[0]}) & reduce(or_, terms)

    def _invalid(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor]}, code="invalid")

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            elif parameter["name"] == self.cursor_query_param:
                parameter["schema"] = {"type": "string", "minLength": 1}
                parameter["description"] = "Opaque: the `next` or `previous` link of a page."
        return parameters


def _ordering_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    column = name.lstrip("-")
    field = model._meta.pk if column == "pk" else model._meta.get_field(column)
    assert isinstance(field, models.Field) and not field.null, f"cannot page on {column}"
    return field


def _flipped(name: str) -> str:
    return name[1:] if name.startswith("-") else f"-{name}"


class CreatedCursorPagination(StrictCursorPagination):
    ordering = ("-created_at", "-pk")


class FlagCursorPagination(StrictCursorPagination):
    """The worklist order: most urgent first, then soonest due."""

    ordering = ("priority_rank", "due_at", "pk")
