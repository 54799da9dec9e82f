"""Search rules: what a query may find, in what order, and how often one may ask."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any, Protocol

import orjson

from keepsake.accounts import avatars
from keepsake.config import Settings
from keepsake.errors import Invalid
from keepsake.hooks import Hook
from keepsake.i18n.catalog import _
from keepsake.memories.hashtags import normalize_tag
from keepsake.ratelimit import RateLimiter
from keepsake.readdb import ReadDb
from keepsake.search import repository
from keepsake.search.query import parse
from keepsake.search.repository import Position
from keepsake.search.schemas import HashtagList, HashtagPublic
from keepsake.storage.base import Storage

INVALID_QUERY = "invalid_query"


class OpenMissionTags(Protocol):
    """Open missions' tags starting with a prefix, the latest opened first, each with its
    mission (`keepsake.missions`, above this domain)."""

    async def __call__(
        self, db: ReadDb, prefix: str, *, now: datetime, limit: int
    ) -> list[HashtagPublic]: ...


open_mission_tags: Hook[OpenMissionTags] = Hook("search.open_mission_tags")


def _bad_cursor() -> Invalid:
    return Invalid(
        _("The cursor is not one this server gave out."), code="invalid_cursor", field="cursor"
    )


def encode_cursor(position: Position) -> str:
    # orjson writes what `json.dumps(..., separators=(",", ":"))` did (a handle key is
    # ASCII), so cursors handed out before still read; it costs a tenth as much.
    raw = orjson.dumps([position.rank, position.handle_key])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> Position:
    try:
        rank, handle_key = orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise _bad_cursor() from None
    if not isinstance(rank, int) or not isinstance(handle_key, str):
        raise _bad_cursor()
    return Position(rank, handle_key)


async def _count(settings: Settings, limiter: RateLimiter, viewer_id: uuid.UUID) -> None:
    await limiter.hit_leased(
        f"search:account:{viewer_id}",
        limit=settings.rate_limit_search_per_account,
        window=settings.rate_limit_window,
    )


def _shown(row: repository.Row, avatar: dict[str, Any] | None) -> dict[str, Any]:
    """`UserPublic` as plain values: the page skips the model (see `keepsake.jsonbody`)."""
    return {
        "id": row.id,
        "handle": row.handle,
        "display_name": row.display_name,
        "bio": row.bio,
        "note": row.note,
        "avatar": avatar,
        "is_private": row.is_private,
        "relationship": row.relationship,
        "follows_you": row.follows_you,
        "muted": row.muted,
    }


async def _avatars(
    settings: Settings, storage: Storage, page: list[repository.Row]
) -> dict[str | None, dict[str, Any] | None]:
    """Each avatar key on the page (and None, no avatar) to what `UserPublic` shows of it,
    signed once: most people have none, and a page of them then costs no awaits at all."""
    shown: dict[str | None, dict[str, Any] | None] = {None: None}
    for key in {row.avatar_key for row in page if row.avatar_key is not None}:
        view = await avatars.view(settings, storage, key)
        shown[key] = view.model_dump() if view else None
    return shown


async def people(
    db: ReadDb,
    *,
    settings: Settings,
    storage: Storage,
    limiter: RateLimiter,
    viewer_id: uuid.UUID,
    q: str,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """People matching `q` the viewer may find: exact handle, then their circle, then others,
    as a `Page[UserPublic]`'s values."""
    query = parse(q)
    if query is None:
        raise Invalid(_("Type at least one letter to search for."), code=INVALID_QUERY, field="q")
    after = decode_cursor(cursor) if cursor else None
    await _count(settings, limiter, viewer_id)
    found = await repository.people(db, query, viewer_id=viewer_id, after=after, limit=limit + 1)
    page = found[:limit]
    shown = await _avatars(settings, storage, page)
    items = [_shown(row, shown[row.avatar_key]) for row in page]
    next_cursor = None
    if len(found) > limit:
        last = page[-1]
        next_cursor = encode_cursor(Position(last.rank, last.handle_key))
    return {"items": items, "next_cursor": next_cursor}


async def hashtags(
    db: ReadDb,
    *,
    settings: Settings,
    limiter: RateLimiter,
    viewer_id: uuid.UUID,
    q: str,
    limit: int,
    now: datetime,
) -> HashtagList:
    """Open missions' tags starting with `q` first, then tags by their latest use."""
    prefix = normalize_tag(q.strip().lstrip("#"))
    if not prefix:
        raise Invalid(_("Type at least one letter of the tag."), code=INVALID_QUERY, field="q")
    await _count(settings, limiter, viewer_id)
    items = await open_mission_tags.target(db, prefix, now=now, limit=limit)
    if len(items) < limit:
        # A mission's tag is listed once, with its mission. Of `limit` recent tags at most
        # len(items) are missions' own, so the page still fills.
        named = {item.tag for item in items}
        recent = await repository.recent_tags(db, prefix, limit=limit)
        items += [HashtagPublic(tag=tag) for tag in recent if tag not in named]
    return HashtagList(items=items[:limit])
