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
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    SQLColumnExpression,
    String,
    Uuid,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    true,
    tuple_,
    union,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from keepsake.accounts.models import User
from keepsake.claps.repository import clap_columns
from keepsake.feeds.models import HomeEntry, HomeWideAuthor
from keepsake.graph.models import Follow, FollowState, Mute
from keepsake.memories.models import Clip, Memory, MemoryHashtag
from keepsake.music.models import MusicTrack
from keepsake.pagination import Cursor
from keepsake.privacy import memory_visible
from keepsake.readdb import ReadDb, ReadQuery

# Statements of any columns; rows are read by column name.
AnySelect = Select[*tuple[Any, ...]]

VIEWER: BindParameter[uuid.UUID] = bindparam("viewer_id", type_=Uuid())
_LIMIT = bindparam("limit", type_=Integer())
_BEFORE = tuple_(
    bindparam("before_at", type_=DateTime(timezone=True)), bindparam("before_id", type_=Uuid())
)
# The first page continues from a position above every row, so one statement serves all.
_TOP = Cursor(datetime.max.replace(tzinfo=UTC), uuid.UUID(int=(1 << 128) - 1))

# The policy takes the viewer as a value; the bound parameter compiles to the same SQL.
_VISIBLE = memory_visible(
    cast(uuid.UUID, VIEWER),
    author_id=Memory.author_id,
    visibility=Memory.visibility,
    status=Memory.status,
    hidden_at=Memory.hidden_at,
    author_status=User.status,
    author_is_private=User.is_private,
)
# Written out rather than bound, so the planner can match the partial index
# `ix_memories_public_ready_created` even with a generic plan of a prepared statement.
_PUBLIC_READY = (Memory.visibility == literal_column("'public'")) & (
    Memory.status == literal_column("'ready'")
)
_READY = Memory.status == literal_column("'ready'")


def _not_muted(author_id: SQLColumnExpression[uuid.UUID]) -> ColumnElement[bool]:
    """Muted people stay out of home, explore and hashtags (not out of their own page)."""
    mute = aliased(Mute)
    return ~exists().where(mute.muter_id == VIEWER, mute.muted_id == author_id)


def _newest_first(
    query: AnySelect,
    created_at: SQLColumnExpression[datetime],
    item_id: SQLColumnExpression[uuid.UUID],
) -> AnySelect:
    return (
        query.where(tuple_(created_at, item_id) < _BEFORE)
        .order_by(created_at.desc(), item_id.desc())
        .limit(_LIMIT)
    )


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


def _followed(author_id: SQLColumnExpression[uuid.UUID]) -> ColumnElement[bool]:
    """The viewer follows the author now (an approved follow) and has not muted them."""
    follow = aliased(Follow)
    active = exists().where(
        follow.follower_id == VIEWER,
        follow.followee_id == author_id,
        follow.state == FollowState.active,
    )
    return active & _not_muted(author_id)


def _home() -> AnySelect:
    """The viewer's own and their active followees' memories, from `home_timeline`.

    The timeline's primary key is read newest first and stops after `limit` rows that
    pass, so the work is about one page's worth of rows, however many people the viewer
    follows and however much they ever posted. Its rows are candidates only: each is
    checked against the whole policy here, and against the follow and mute as they
    stand now, so a timeline that lags a change never shows what the viewer may not see.
    Authors too widely followed to fan out to (`home_wide_authors`) are merged in at
    read time: each one the viewer follows adds one index scan of `limit` rows.
    """
    entry = aliased(HomeEntry)
    fanned = _newest_first(
        select(entry.memory_id.label("id"), entry.created_at.label("created_at"))
        .join(Memory, Memory.id == entry.memory_id)
        .join(User, User.id == Memory.author_id)
        .where(
            entry.owner_id == VIEWER,
            _READY,
            _VISIBLE,
            (Memory.author_id == VIEWER) | _followed(Memory.author_id),
        ),
        entry.created_at,
        entry.memory_id,
    )
    wide = aliased(HomeWideAuthor)
    recent = _newest_first(
        select(Memory.id, Memory.created_at)
        .join(User, User.id == Memory.author_id)
        .where(Memory.author_id == wide.author_id, _READY, _VISIBLE),
        Memory.created_at,
        Memory.id,
    ).lateral("recent")
    read_now = (
        select(recent.c.id, recent.c.created_at)
        .select_from(wide)
        .join(recent, true())
        .where(wide.author_id != VIEWER, _followed(wide.author_id))
    )
    # UNION, not UNION ALL: a wide author's memories from before they became wide
    # are in the timeline too.
    both = union(fanned, read_now).subquery("both")
    page = select(both.c.id).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(_LIMIT)
    return _cards(page)


def _explore() -> AnySelect:
    """Recent public memories of public accounts, walking the partial index backwards."""
    page = select(Memory.id).join(User, User.id == Memory.author_id)
    page = page.where(_PUBLIC_READY, ~User.is_private, _VISIBLE, _not_muted(Memory.author_id))
    return _cards(_newest_first(page, Memory.created_at, Memory.id))


def _hashtag() -> AnySelect:
    """Like explore, for one tag, on `ix_memory_hashtags_tag_created`."""
    page = (
        select(MemoryHashtag.memory_id.label("id"))
        .join(Memory, Memory.id == MemoryHashtag.memory_id)
        .join(User, User.id == Memory.author_id)
        .where(
            MemoryHashtag.tag == bindparam("tag", type_=String()),
            _PUBLIC_READY,
            ~User.is_private,
            _VISIBLE,
            _not_muted(Memory.author_id),
        )
    )
    return _cards(_newest_first(page, MemoryHashtag.created_at, MemoryHashtag.memory_id))


def _person() -> AnySelect:
    """One person's memories the viewer may see (all of them, when it is the viewer)."""
    page = select(Memory.id).join(User, User.id == Memory.author_id)
    page = page.where(Memory.author_id == bindparam("author_id", type_=Uuid()), _VISIBLE)
    return _cards(_newest_first(page, Memory.created_at, Memory.id))


def _one() -> AnySelect:
    page = select(Memory.id).join(User, User.id == Memory.author_id)
    return _cards(page.where(Memory.id == bindparam("memory_id", type_=Uuid()), _VISIBLE))


_PAGE_PARAMS = ("viewer_id", "limit", "before_at", "before_id")
# The feeds proper read outside any transaction (see `keepsake.readdb`); a person's page
# and one memory are also read inside the transactions that change memories.
_HOME = ReadQuery.compile(_home(), *_PAGE_PARAMS)
_EXPLORE = ReadQuery.compile(_explore(), *_PAGE_PARAMS)
_HASHTAG = ReadQuery.compile(_hashtag(), *_PAGE_PARAMS, "tag")
_PERSON, _ONE = _person(), _one()
_READ_ONE = ReadQuery.compile(_ONE, "viewer_id", "memory_id")

# A row of card columns, read by name: SQLAlchemy's `Row` or psycopg's named tuple.
Card = Any
Cards = Sequence[Card]


def _page(viewer_id: uuid.UUID, limit: int, after: Cursor | None) -> dict[str, Any]:
    before = after or _TOP
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
