"""Search rules: what a query may find, in what order, and how often one may ask."""

from __future__ import annotations

import base64
import binascii
import json

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import User
from keepsake.config import Settings
from keepsake.errors import Invalid
from keepsake.graph import service as graph
from keepsake.i18n.catalog import _
from keepsake.memories.hashtags import normalize_tag
from keepsake.pagination import Page
from keepsake.profiles import avatars
from keepsake.profiles.schemas import UserPublic
from keepsake.ratelimit import RateLimiter
from keepsake.search import repository
from keepsake.search.query import parse
from keepsake.search.repository import Position
from keepsake.search.schemas import HashtagList, HashtagPublic
from keepsake.storage.base import Storage

INVALID_QUERY = "invalid_query"


def _bad_cursor() -> Invalid:
    return Invalid(
        _("The cursor is not one this server gave out."), code="invalid_cursor", field="cursor"
    )


def encode_cursor(position: Position) -> str:
    raw = json.dumps([position.rank, position.handle_key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> Position:
    try:
        rank, handle_key = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise _bad_cursor() from None
    if not isinstance(rank, int) or not isinstance(handle_key, str):
        raise _bad_cursor()
    return Position(rank, handle_key)


async def _count(settings: Settings, limiter: RateLimiter, viewer: User) -> None:
    await limiter.hit_leased(
        f"search:account:{viewer.id}",
        limit=settings.rate_limit_search_per_account,
        window=settings.rate_limit_window,
    )


async def people(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    limiter: RateLimiter,
    viewer: User,
    q: str,
    limit: int,
    cursor: str | None,
) -> Page[UserPublic]:
    """People matching `q` the viewer may find: exact handle, then their circle, then others."""
    query = parse(q)
    if query is None:
        raise Invalid(_("Type at least one letter to search for."), code=INVALID_QUERY, field="q")
    after = decode_cursor(cursor) if cursor else None
    await _count(settings, limiter, viewer)
    found = await repository.people(db, query, viewer_id=viewer.id, after=after, limit=limit + 1)
    page = found[:limit]
    persons = await graph.people_by_ids(db, viewer_id=viewer.id, user_ids=[f.user_id for f in page])
    items = []
    for match in page:
        person = persons[match.user_id]
        avatar = await avatars.view(settings, storage, person.avatar_key)
        items.append(UserPublic.of(viewer.id, person, avatar))
    next_cursor = encode_cursor(page[-1].position) if len(found) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def hashtags(
    db: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    viewer: User,
    q: str,
    limit: int,
) -> HashtagList:
    """Tags starting with `q`, most recently used first.

    Missions' open tags are to come first: a ranked source placed before `recent_tags`.
    """
    prefix = normalize_tag(q.strip().lstrip("#"))
    if not prefix:
        raise Invalid(_("Type at least one letter of the tag."), code=INVALID_QUERY, field="q")
    await _count(settings, limiter, viewer)
    tags = await repository.recent_tags(db, prefix, limit=limit)
    return HashtagList(items=[HashtagPublic(tag=tag) for tag in tags])
