"""The feed statements: each page of memories, ready to render, in one query.

A page is two selects nested in one statement. The inner one picks the page — which
memories, in keyset order, through the privacy policy's SQL twin (`memory_visible`) and
on the index its feed was given. The outer one loads everything a memory card shows for
those ids: the memory's columns, its author's name, its music track, its clips and tags
as aggregates, and the viewer's claps (the total only for the author). So a page costs
one round trip however long it is, and no statement is built per request: the viewer,
the cursor and the limit are bound parameters. Home, explore and hashtags are compiled to
SQL once and read on autocommit connections (`keepsake.readdb`).

Feeds are a read model over memories, accounts, the graph and claps, so this module
reads their tables; the rules it applies come from their owners (`keepsake.privacy`,
`keepsake.claps.repository.clap_columns`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    String,
    Uuid,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import User
from keepsake.claps.repository import clap_columns
from keepsake.feeds.clauses import (
    PUBLIC_READY,
    VIEWER,
    VISIBLE,
    AnySelect,
    newest_first,
    not_muted,
)
from keepsake.feeds.home_statement import home_page
from keepsake.memories.models import Clip, Memory, MemoryHashtag
from keepsake.music.models import MusicTrack
from keepsake.pagination import TOP, Cursor
from keepsake.readdb import ReadDb, ReadQuery


def _cards(page: AnySelect) -> AnySelect:
    """The columns of a memory card for each id the `page` select picks, newest first."""
    chosen = page.subquery("page")
    clip_fields = func.json_build_array(
        Clip.id, Clip.duration_s, Clip.width, Clip.height, Clip.video_key, Clip.poster_key
    )
    clips = select(func.json_agg(aggregate_order_by(clip_fields, Clip.position))).where(
        Clip.memory_id == Memory.id
    )
    tags = select(MemoryHashtag.tag).where(MemoryHashtag.memory_id == Memory.id)
    my_claps, clap_total = clap_columns(VIEWER, Memory.id, Memory.author_id)
    return (
        select(
            Memory.id,
            Memory.author_id,
            Memory.status,
            Memory.failure_code,
            Memory.failure_detail,
            Memory.caption,
            Memory.visibility,
            Memory.duration_s,
            Memory.created_at,
            Memory.hidden_at,
            Memory.hidden_reason,
            User.handle.label("author_handle"),
            User.display_name.label("author_display_name"),
            MusicTrack.id.label("track_id"),
            MusicTrack.title.label("track_title"),
            MusicTrack.artist.label("track_artist"),
            MusicTrack.duration_s.label("track_duration_s"),
            MusicTrack.storage_key.label("track_key"),
            clips.scalar_subquery().label("clips"),
            func.array(tags.scalar_subquery()).label("tags"),
            my_claps.label("my_claps"),
            clap_total.label("clap_total"),
        )
        .select_from(chosen)
        .join(Memory, Memory.id == chosen.c.id)
        .join(User, User.id == Memory.author_id)
        .outerjoin(MusicTrack, MusicTrack.id == Memory.music_track_id)
        .order_by(Memory.created_at.desc(), Memory.id.desc())
    )


def _explore() -> AnySelect:
    """Recent public memories of public accounts, walking the partial index backwards."""
    page = select(Memory.id).join(User, User.id == Memory.author_id)
    page = page.where(PUBLIC_READY, ~User.is_private, VISIBLE, not_muted(Memory.author_id))
    return _cards(newest_first(page, Memory.created_at, Memory.id))


def _hashtag() -> AnySelect:
    """Like explore, for one tag, on `ix_memory_hashtags_tag_created`."""
    page = (
        select(MemoryHashtag.memory_id.label("id"))
        .join(Memory, Memory.id == MemoryHashtag.memory_id)
        .join(User, User.id == Memory.author_id)
        .where(
            MemoryHashtag.tag == bindparam("tag", type_=String()),
            PUBLIC_READY,
            ~User.is_private,
            VISIBLE,
            not_muted(Memory.author_id),
        )
    )
    return _cards(newest_first(page, MemoryHashtag.created_at, MemoryHashtag.memory_id))


def _person() -> AnySelect:
    """One person's memories the viewer may see (all of them, when it is the viewer)."""
    page = select(Memory.id).join(User, User.id == Memory.author_id)
    page = page.where(Memory.author_id == bindparam("author_id", type_=Uuid()), VISIBLE)
    return _cards(newest_first(page, Memory.created_at, Memory.id))


def _one() -> AnySelect:
    page = select(Memory.id).join(User, User.id == Memory.author_id)
    return _cards(page.where(Memory.id == bindparam("memory_id", type_=Uuid()), VISIBLE))


_PAGE_PARAMS = ("viewer_id", "limit", "before_at", "before_id")
# The feeds proper read outside any transaction (see `keepsake.readdb`); a person's page
# and one memory are also read inside the transactions that change memories.
_HOME = ReadQuery.compile(_cards(home_page()), *_PAGE_PARAMS)
_EXPLORE = ReadQuery.compile(_explore(), *_PAGE_PARAMS)
_HASHTAG = ReadQuery.compile(_hashtag(), *_PAGE_PARAMS, "tag")
_PERSON, _ONE = _person(), _one()
_READ_ONE = ReadQuery.compile(_ONE, "viewer_id", "memory_id")

# A row of card columns, read by name: SQLAlchemy's `Row` or psycopg's named tuple.
Card = Any
Cards = Sequence[Card]


def _page(viewer_id: uuid.UUID, limit: int, after: Cursor | None) -> dict[str, Any]:
    before = after or TOP
    return {
        "viewer_id": viewer_id,
        # One more than asked: its presence says whether a next page exists.
        "limit": limit + 1,
        "before_at": before.created_at,
        "before_id": before.id,
    }


async def _cards_of(db: AsyncSession, statement: AnySelect, params: dict[str, Any]) -> Cards:
    # Through the session's connection: plain column rows need none of the ORM's result
    # machinery, which costs about a third of this statement's CPU (measured on 20 cards).
    connection = await db.connection()
    return (await connection.execute(statement, params)).all()


async def home(db: ReadDb, *, viewer_id: uuid.UUID, limit: int, after: Cursor | None) -> Cards:
    return await _HOME.all(db, **_page(viewer_id, limit, after))


async def explore(db: ReadDb, *, viewer_id: uuid.UUID, limit: int, after: Cursor | None) -> Cards:
    return await _EXPLORE.all(db, **_page(viewer_id, limit, after))


async def hashtag(
    db: ReadDb, *, viewer_id: uuid.UUID, tag: str, limit: int, after: Cursor | None
) -> Cards:
    return await _HASHTAG.all(db, **_page(viewer_id, limit, after), tag=tag)


async def person(
    db: AsyncSession,
    *,
    viewer_id: uuid.UUID,
    author_id: uuid.UUID,
    limit: int,
    after: Cursor | None,
) -> Cards:
    params = {**_page(viewer_id, limit, after), "author_id": author_id}
    return await _cards_of(db, _PERSON, params)


async def one(db: AsyncSession, *, viewer_id: uuid.UUID, memory_id: uuid.UUID) -> Card | None:
    found = await _cards_of(db, _ONE, {"viewer_id": viewer_id, "memory_id": memory_id})
    return found[0] if found else None


def card_statement(page: AnySelect) -> AnySelect:
    """Cards of the memories another domain's `page` select picks (its `id` column),
    newest first: that select applies `memory_visible` with `VIEWER` and orders by the
    cards' keyset. Build it once, at import, as the feeds' own statements are."""
    return _cards(page)


async def chosen(db: AsyncSession, statement: AnySelect, params: dict[str, Any]) -> Cards:
    """Run a `card_statement` with its parameters (`viewer_id` among them)."""
    return await _cards_of(db, statement, params)


async def read_one(db: ReadDb, *, viewer_id: uuid.UUID, memory_id: uuid.UUID) -> Card | None:
    """`one`, outside any transaction: for reads that change nothing."""
    found = await _READ_ONE.all(db, viewer_id=viewer_id, memory_id=memory_id)
    return found[0] if found else None
