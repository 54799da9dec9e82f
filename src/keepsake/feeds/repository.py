"""The feed statements: each page of memories, ready to render, in one query.

A page is two selects nested in one statement. The inner one picks the page — which
memories, in keyset order, through the privacy policy's SQL twin (`memory_visible`) and
on the index its feed was given. The outer one loads everything a memory card shows for
those ids: the memory's columns, its author's name, its music track, its clips and tags
as aggregates, and the viewer's claps (the total only for the author). So a page costs
one round trip however long it is, and no statement is built per request: the viewer,
the cursor and the limit are bound parameters. Every statement is compiled to SQL once and
run where the caller says (`keepsake.readdb.Reads`); its rows are `CardRow`s.

Feeds are a read model over memories, accounts, the graph and claps, so this module
reads their tables; the rules it applies come from their owners (`keepsake.privacy`,
`keepsake.claps.repository.clap_columns`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    String,
    Uuid,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

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
from keepsake.readdb import ReadQuery, Reads


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


def _explore_page() -> AnySelect:
    """Recent public memories of public accounts, walking the partial index backwards."""
    page = select(Memory.id).join(User, User.id == Memory.author_id)
    page = page.where(PUBLIC_READY, ~User.is_private, VISIBLE, not_muted(Memory.author_id))
    return newest_first(page, Memory.created_at, Memory.id)


def _hashtag_page() -> AnySelect:
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
    return newest_first(page, MemoryHashtag.created_at, MemoryHashtag.memory_id)


def _person_page() -> AnySelect:
    """One person's memories the viewer may see (all of them, when it is the viewer)."""
    page = select(Memory.id).join(User, User.id == Memory.author_id)
    page = page.where(Memory.author_id == bindparam("author_id", type_=Uuid()), VISIBLE)
    return newest_first(page, Memory.created_at, Memory.id)


def _one_page() -> AnySelect:
    page = select(Memory.id).join(User, User.id == Memory.author_id)
    return page.where(Memory.id == bindparam("memory_id", type_=Uuid()), VISIBLE)


class CardRow(NamedTuple):
    """A memory card's columns, in the order `_cards` selects them (checked at import).

    Enum columns arrive as the driver's text: `MemoryStatus` and `Visibility` are string
    enums, so they compare equal to it."""

    id: uuid.UUID
    author_id: uuid.UUID
    status: str
    failure_code: str | None
    failure_detail: str | None
    caption: str
    visibility: str
    duration_s: float | None
    created_at: datetime
    hidden_at: datetime | None
    hidden_reason: str | None
    author_handle: str
    author_display_name: str
    track_id: uuid.UUID | None
    track_title: str | None
    track_artist: str | None
    track_duration_s: float | None
    track_key: str | None
    # JSON arrays `[id, duration_s, width, height, video_key, poster_key]`, in order.
    clips: list[list[Any]] | None
    tags: list[str]
    my_claps: int | None
    clap_total: int | None


def _card_query(page: AnySelect, *names: str) -> ReadQuery:
    return ReadQuery.compile(_cards(page), *names)


_PAGE_PARAMS = ("viewer_id", "limit", "before_at", "before_id")
# Each read is compiled to SQL once; the caller picks where it runs (`keepsake.readdb`):
# the feeds proper outside any transaction, a person's page and one memory also inside the
# transactions that change memories.
_HOME = _card_query(home_page(), *_PAGE_PARAMS)
_EXPLORE = _card_query(_explore_page(), *_PAGE_PARAMS)
_HASHTAG = _card_query(_hashtag_page(), *_PAGE_PARAMS, "tag")
_PERSON = _cards(_person_page())
_PERSON_PAGE = ReadQuery.compile(_PERSON, "viewer_id", "author_id", *_PAGE_PARAMS[1:])
_READ_ONE = _card_query(_one_page(), "viewer_id", "memory_id")
# Every card statement selects `_cards`' columns, which `CardRow` names in order.
if tuple(_PERSON.selected_columns.keys()) != CardRow._fields:
    raise TypeError("CardRow does not name the columns the card statement selects")


def _page(viewer_id: uuid.UUID, limit: int, after: Cursor | None) -> dict[str, Any]:
    before = after or TOP
    return {
        "viewer_id": viewer_id,
        # One more than asked: its presence says whether a next page exists.
        "limit": limit + 1,
        "before_at": before.created_at,
        "before_id": before.id,
    }


async def cards(db: Reads, query: ReadQuery, params: Mapping[str, Any]) -> list[CardRow]:
    """The rows of a card query (this module's, or a `card_query` of another domain's)."""
    return [CardRow._make(row) for row in await db.rows(query, params)]


async def home(
    db: Reads, *, viewer_id: uuid.UUID, limit: int, after: Cursor | None
) -> list[CardRow]:
    return await cards(db, _HOME, _page(viewer_id, limit, after))


async def explore(
    db: Reads, *, viewer_id: uuid.UUID, limit: int, after: Cursor | None
) -> list[CardRow]:
    return await cards(db, _EXPLORE, _page(viewer_id, limit, after))


async def hashtag(
    db: Reads, *, viewer_id: uuid.UUID, tag: str, limit: int, after: Cursor | None
) -> list[CardRow]:
    return await cards(db, _HASHTAG, {**_page(viewer_id, limit, after), "tag": tag})


async def person(
    db: Reads,
    *,
    viewer_id: uuid.UUID,
    author_id: uuid.UUID,
    limit: int,
    after: Cursor | None,
) -> list[CardRow]:
    params = {**_page(viewer_id, limit, after), "author_id": author_id}
    return await cards(db, _PERSON_PAGE, params)


async def one(db: Reads, *, viewer_id: uuid.UUID, memory_id: uuid.UUID) -> CardRow | None:
    found = await cards(db, _READ_ONE, {"viewer_id": viewer_id, "memory_id": memory_id})
    return found[0] if found else None


def card_query(page: AnySelect, *names: str) -> ReadQuery:
    """Cards of the memories another domain's `page` select picks (its `id` column),
    newest first: that select applies `memory_visible` with `VIEWER` and orders by the
    cards' keyset. `names` are the parameters each run supplies besides `viewer_id`.
    Build it once, at import, as the feeds' own queries are."""
    return _card_query(page, "viewer_id", *names)
