"""What an export holds, gathered through each domain's service, and the ZIP it goes into.

The ZIP is written to a file entry by entry, and media is fetched one object at a time
and copied in, so neither memory nor the scratch folder ever holds more than one media
file beside the archive, however much the user recorded.
"""

from __future__ import annotations

import uuid
import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import pydantic_core
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import avatars
from keepsake.accounts import service as accounts
from keepsake.accounts.models import User
from keepsake.config import Settings
from keepsake.graph import service as graph
from keepsake.kinds import MemoryStatus
from keepsake.memories import service as memories
from keepsake.missions import service as missions
from keepsake.moderation import appeals as safety
from keepsake.pagination import MAX_LIMIT, Cursor, PageRequest
from keepsake.points import service as points
from keepsake.profiles import service as profiles
from keepsake.profiles.schemas import NotePublic
from keepsake.storage import keys
from keepsake.storage.base import ObjectNotFound, Storage

log = structlog.get_logger("keepsake.exports")

AVATAR = "media/avatar.jpg"


@dataclass(frozen=True)
class Contents:
    # JSON documents by their name in the archive.
    documents: dict[str, Any]
    # (storage key, name in the archive) of every stored file to copy in.
    files: list[tuple[str, str]]


async def collect(
    db: AsyncSession, *, settings: Settings, storage: Storage, user_id: uuid.UUID
) -> Contents | None:
    """Everything the user owns; None when the account is gone."""
    user = await accounts.user_by_id(db, user_id)
    if user is None:
        return None
    files: list[tuple[str, str]] = []
    me = await profiles.me_view(db, user, settings=settings, storage=storage)
    account = me.model_dump(mode="json")
    # The profile's avatar links expire within the hour: the archive holds the picture.
    account["avatar"] = None
    if user.avatar_key is not None:
        account["avatar"] = AVATAR
        largest = keys.avatar_rendition(user.avatar_key, max(avatars.SIZES.values()))
        files.append((largest, AVATAR))
    account["note_history"] = await _notes(db, user)
    relations = await graph.relations(db, user.id)
    people = {
        kind: [{"handle": handle, "since": since} for handle, since in edges]
        for kind, edges in relations.items()
    }
    made = [_memory(item, files) for item in await memories.authored(db, user.id)]
    documents = {
        "account.json": account,
        "graph.json": people,
        "memories.json": made,
        "safety.json": await safety.exported(db, user.id),
        "missions.json": await missions.entries_of_person(db, user.id),
        "points.json": (await points.statement_of(db, user.id)).items,
    }
    return Contents(documents=documents, files=files)


async def _notes(db: AsyncSession, user: User) -> list[NotePublic]:
    """The whole note history, newest first, page by page as the profile service serves it."""
    notes: list[NotePublic] = []
    page = PageRequest(limit=MAX_LIMIT, after=None)
    while True:
        found = await profiles.note_history(db, user=user, page=page)
        notes.extend(found.items)
        if found.next_cursor is None:
            return notes
        page = PageRequest(limit=MAX_LIMIT, after=Cursor.decode(found.next_cursor))


def _memory(item: memories.Authored, files: list[tuple[str, str]]) -> dict[str, Any]:
    """A memory as `memories.json` shows it; a ready one's media joins `files` unless a
    moderator hid it (what was hidden may be unlawful to hand out)."""
    memory = item.memory
    ready = memory.status == MemoryStatus.ready and memory.hidden_at is None
    clips = []
    for clip in item.clips:
        video = poster = None
        if ready and clip.video_key is not None:
            video = f"media/{memory.id}/{clip.id}.mp4"
            files.append((clip.video_key, video))
        if ready and clip.poster_key is not None:
            poster = f"media/{memory.id}/{clip.id}.jpg"
            files.append((clip.poster_key, poster))
        clips.append(
            {
                "id": clip.id,
                "duration_s": clip.duration_s,
                "width": clip.width,
                "height": clip.height,
                "video": video,
                "poster": poster,
            }
        )
    failure = None
    if memory.status == MemoryStatus.failed:
        failure = {"code": memory.failure_code, "detail": memory.failure_detail}
    return {
        "id": memory.id,
        "status": memory.status,
        "failure": failure,
        "caption": memory.caption,
        "hashtags": item.tags,
        "visibility": memory.visibility,
        "music_track_id": memory.music_track_id,
        "duration_s": memory.duration_s,
        "created_at": memory.created_at,
        "clips": clips,
    }


async def write(storage: Storage, contents: Contents, dest: Path) -> None:
    """Write the archive to `dest`, fetching each stored file just before it goes in."""
    scratch = dest.with_name(dest.name + ".part")
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, document in contents.documents.items():
            data = pydantic_core.to_json(document, indent=2)
            await anyio.to_thread.run_sync(archive.writestr, name, data)
        for key, name in contents.files:
            try:
                await storage.download(key, scratch)
            except ObjectNotFound:
                # Deleted since the contents were read (a memory removed meanwhile).
                log.info("export.file.gone", key=key)
                continue
            # Videos and JPEGs are compressed already: deflating them again gains nothing.
            store = partial(archive.write, scratch, name, compress_type=zipfile.ZIP_STORED)
            await anyio.to_thread.run_sync(store)
            scratch.unlink()
