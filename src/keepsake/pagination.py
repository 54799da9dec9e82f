"""Keyset pagination on `(created_at, id)` with opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Generic, Protocol, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, true, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from keepsake.errors import Invalid
from keepsake.i18n.catalog import _

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class Cursor:
    """The position after the last item of a page: newest-first lists continue below it."""

    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            padded = value + "=" * (-len(value) % 4)
            created_at, item_id = json.loads(base64.urlsafe_b64decode(padded))
            cursor = cls(datetime.fromisoformat(created_at), uuid.UUID(item_id))
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
            raise Invalid(
                _("The cursor is not one this server gave out."),
                code="invalid_cursor",
                field="cursor",
            ) from None
        if cursor.created_at.tzinfo is None:
            raise Invalid(
                _("The cursor is not one this server gave out."),
                code="invalid_cursor",
                field="cursor",
            )
        return cursor


# Where a first page of a bound-parameter statement starts: above every row, so one
# statement serves the first page and the next ones.
TOP = Cursor(datetime.max.replace(tzinfo=UTC), uuid.UUID(int=(1 << 128) - 1))


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: Cursor | None


async def _page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, after=Cursor.decode(cursor) if cursor else None)


Pagination = Annotated[PageRequest, Depends(_page_request)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def keyset_before(
    created_at: InstrumentedAttribute[datetime],
    item_id: InstrumentedAttribute[uuid.UUID],
    after: Cursor | None,
) -> ColumnElement[bool]:
    """Rows strictly after the cursor in newest-first order; everything when there is none."""
    if after is None:
        return true()
    return tuple_(created_at, item_id) < tuple_(after.created_at, after.id)


class Keyed(Protocol):
    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


K = TypeVar("K", bound=Keyed)


def split_page(rows: Sequence[K], limit: int) -> tuple[list[K], str | None]:
    """Repositories fetch `limit + 1` rows; the extra one only says a next page exists."""
    items = list(rows[:limit])
    if len(rows) <= limit:
        return items, None
    return items, Cursor(items[-1].created_at, items[-1].id).encode()
