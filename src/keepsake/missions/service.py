"""Mission rules: the operator's lifecycle, winners, and what everyone signed in reads."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.config import Settings
from keepsake.errors import Conflict, Invalid, NotFound
from keepsake.feeds import service as feeds
from keepsake.i18n.catalog import _
from keepsake.memories.hashtags import MAX_TAG_CHARS, normalize_tag, parse_hashtags
from keepsake.missions import repository
from keepsake.missions.models import Mission, MissionEntry, MissionStatus
from keepsake.missions.schemas import (
    MissionCreate,
    MissionPublic,
    MissionUpdate,
    MyEntry,
    WinnersChoice,
)
from keepsake.notifications.models import NotificationKind
from keepsake.notifications.service import notify
from keepsake.pagination import Cursor, Page, PageRequest
from keepsake.points import service as points
from keepsake.points.models import TransferKind
from keepsake.readdb import ReadDb, SessionReads
from keepsake.search.schemas import HashtagMission, HashtagPublic
from keepsake.storage.base import Storage

# Fields that may change once a mission has opened.
_ALWAYS_EDITABLE = frozenset({"title", "description"})


class MissionNotFound(NotFound):
    code = "mission_not_found"


class HashtagInUse(Conflict):
    code = "hashtag_in_use"


class MissionStarted(Conflict):
    code = "mission_started"


class MissionNotOpen(Conflict):
    code = "mission_not_open"


class MissionNotJudging(Conflict):
    code = "mission_not_judging"


class WinnersAlreadyChosen(Conflict):
    code = "winners_already_chosen"


def normalize_hashtag(raw: str) -> str:
    """The tag as captions store it: `#첫눈`, `첫눈` and a decomposed `첫눈` agree."""
    word = raw.removeprefix("#")
    tags = parse_hashtags("#" + word)
    if tags != [normalize_tag(unicodedata.normalize("NFC", word))] or len(tags[0]) > MAX_TAG_CHARS:
        raise Invalid(
            _("A hashtag is one word of letters, digits or '_'."),
            code="invalid_hashtag",
            field="hashtag",
        )
    return tags[0]


def view(mission: Mission, *, now: datetime, entry: MissionEntry | None) -> MissionPublic:
    mine = None
    if entry is not None:
        mine = MyEntry(
            memory_id=entry.memory_id,
            status=entry.status,
            winner=entry.winner,
            entered_at=entry.created_at,
        )
    return MissionPublic(
        id=mission.id,
        title=mission.title,
        description=mission.description,
        hashtag=mission.hashtag,
        starts_at=mission.starts_at,
        ends_at=mission.ends_at,
        winners_count=mission.winners_count,
        entry_points=mission.entry_points,
        winner_points=mission.winner_points,
        status=mission.status_at(now),
        my_entry=mine,
    )


async def _check_tag(db: AsyncSession, mission: Mission) -> None:
    if await repository.tag_taken(
        db,
        hashtag=mission.hashtag,
        starts_at=mission.starts_at,
        ends_at=mission.ends_at,
        other_than=mission.id,
    ):
        raise HashtagInUse(
            _("Another mission uses #{tag} at the same time."), params={"tag": mission.hashtag}
        )


async def _save(db: AsyncSession, mission: Mission) -> None:
    if not await repository.save(db, mission):
        raise HashtagInUse(
            _("Another mission uses #{tag} at the same time."), params={"tag": mission.hashtag}
        )


async def create(
    db: AsyncSession, *, admin_id: uuid.UUID, body: MissionCreate, now: datetime
) -> MissionPublic:
    fields = body.model_dump()
    fields["hashtag"] = normalize_hashtag(body.hashtag)
    mission = Mission(id=uuid.uuid4(), created_by=admin_id, **fields)
    await _check_tag(db, mission)
    await _save(db, mission)
    return view(mission, now=now, entry=None)


async def _locked(db: AsyncSession, mission_id: uuid.UUID) -> Mission:
    mission = await repository.get(db, mission_id, lock=True)
    if mission is None:
        raise MissionNotFound(_("No such mission."))
    return mission


async def update(
    db: AsyncSession, *, mission_id: uuid.UUID, body: MissionUpdate, now: datetime
) -> MissionPublic:
    mission = await _locked(db, mission_id)
    changes = body.model_dump(exclude_unset=True)
    if mission.status_at(now) != MissionStatus.scheduled and set(changes) - _ALWAYS_EDITABLE:
        raise MissionStarted(_("Once a mission has opened, only its title and description change."))
    if "hashtag" in changes:
        changes["hashtag"] = normalize_hashtag(changes["hashtag"])
    for name, value in changes.items():
        setattr(mission, name, value)
    if mission.ends_at <= mission.starts_at:
        raise Invalid(_("ends_at must be after starts_at."), code="invalid_period", field="ends_at")
    await _check_tag(db, mission)
    await _save(db, mission)
    return view(mission, now=now, entry=None)


async def close(db: AsyncSession, *, mission_id: uuid.UUID, now: datetime) -> MissionPublic:
    """End the open period now: the mission goes to `judging`."""
    mission = await _locked(db, mission_id)
    if mission.status_at(now) != MissionStatus.open:
        raise MissionNotOpen(_("Only an open mission can be closed early."))
    mission.ends_at = now
    return view(mission, now=now, entry=None)


async def choose_winners(
    db: AsyncSession, *, mission_id: uuid.UUID, body: WinnersChoice, now: datetime
) -> MissionPublic:
    """Pick winners once: the mission's row lock makes concurrent calls queue, and each
    after the first finds it closed. Points and notifications go in the same transaction."""
    mission = await _locked(db, mission_id)
    status = mission.status_at(now)
    if status == MissionStatus.closed:
        raise WinnersAlreadyChosen(_("The winners of this mission were already chosen."))
    if status != MissionStatus.judging:
        raise MissionNotJudging(_("Winners are chosen once the mission has ended."))
    chosen = list(dict.fromkeys(body.memory_ids))
    if len(chosen) > mission.winners_count:
        raise Invalid(
            _("This mission has at most {limit} winners."),
            code="too_many_winners",
            field="memory_ids",
            params={"limit": mission.winners_count},
        )
    entries = {e.memory_id: e for e in await repository.entrants(db, mission.id)}
    if any(memory_id not in entries for memory_id in chosen):
        raise Invalid(
            _("Winners are chosen among the entries."), code="not_an_entry", field="memory_ids"
        )
    mission.closed_at = now
    winners = [entries[memory_id] for memory_id in chosen]
    await repository.mark_winners(db, [e.id for e in winners])
    for entry in winners:
        entry.winner = True
        if await points.award(
            db,
            kind=TransferKind.winner,
            mission_id=mission.id,
            user_id=entry.user_id,
            amount=mission.winner_points,
        ):
            entry.points += mission.winner_points
        await notify(
            db,
            NotificationKind.mission_won,
            recipient_id=entry.user_id,
            memory_id=entry.memory_id,
            mission_id=mission.id,
        )
    for entry in entries.values():
        await notify(
            db, NotificationKind.mission_closed, recipient_id=entry.user_id, mission_id=mission.id
        )
    return view(mission, now=now, entry=None)


async def get(
    db: AsyncSession, *, viewer_id: uuid.UUID, mission_id: uuid.UUID, now: datetime
) -> MissionPublic:
    mission = await repository.get(db, mission_id)
    if mission is None:
        raise MissionNotFound(_("No such mission."))
    entry = await repository.entry_of(db, mission_id=mission.id, user_id=viewer_id)
    return view(mission, now=now, entry=entry)


async def listed(
    db: AsyncSession,
    *,
    viewer_id: uuid.UUID,
    status: MissionStatus | None,
    page: PageRequest,
    now: datetime,
) -> Page[MissionPublic]:
    rows = await repository.listed(db, status=status, now=now, limit=page.limit, after=page.after)
    shown = list(rows[: page.limit])
    mine = await repository.entries_of(db, [m.id for m in shown], viewer_id)
    cursor = None
    if len(rows) > page.limit:
        cursor = Cursor(shown[-1].starts_at, shown[-1].id).encode()
    items = [view(m, now=now, entry=mine.get(m.id)) for m in shown]
    return Page(items=items, next_cursor=cursor)


async def entries(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    viewer_id: uuid.UUID,
    mission_id: uuid.UUID,
    page: PageRequest,
    now: datetime,
) -> dict[str, Any]:
    """Entries as the viewer may see their memories, newest first; never ranked."""
    mission = await repository.get(db, mission_id)
    if mission is None:
        raise MissionNotFound(_("No such mission."))
    cards = await feeds.chosen(
        SessionReads(db),
        settings=settings,
        storage=storage,
        viewer_id=viewer_id,
        query=repository.ENTRIES,
        params=repository.entries_params(mission.id, page.limit, page.after),
        limit=page.limit,
    )
    closed = mission.status_at(now) == MissionStatus.closed
    winners = await repository.winner_memories(db, mission.id) if closed else set()
    items = [
        {"memory": card, "winner": (card["id"] in winners) if closed else None}
        for card in cards["items"]
    ]
    return {"items": items, "next_cursor": cards["next_cursor"]}


async def entries_of_person(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The person's entries with their missions: their data export."""
    return [
        {
            "mission": {"id": mission.id, "title": mission.title, "hashtag": mission.hashtag},
            "memory_id": entry.memory_id,
            "status": entry.status,
            "winner": entry.winner,
            "entered_at": entry.created_at,
        }
        for entry, mission in await repository.entries_by_user(db, user_id)
    ]


async def open_tags(db: ReadDb, prefix: str, *, now: datetime, limit: int) -> list[HashtagPublic]:
    """Hashtag search's first results: the open missions' tags starting with `prefix`."""
    rows = await repository.open_tags(db, prefix, now=now, limit=limit)
    return [
        HashtagPublic(tag=tag, mission=HashtagMission(id=mission_id, title=title, ends_at=ends_at))
        for mission_id, tag, title, ends_at in rows
    ]
