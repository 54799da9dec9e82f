"""The storage key layout, written once.

Every file of an account lives under one of its folders, so purging the account is a
walk over `account_folders` and `memory_folder`: a new kind of file must get its key here,
under one of them, or the purge would leave it behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable


def upload(owner_id: uuid.UUID, upload_id: uuid.UUID) -> str:
    return f"uploads/{owner_id}/{upload_id}"


def claimed(upload_key: str) -> str:
    """Where a used upload's bytes are read from: a key no upload URL names."""
    return f"{upload_key}.claimed"


def avatar(user_id: uuid.UUID) -> str:
    """A fresh key each time, so a cached old picture can never pose as the new one."""
    return f"avatars/{user_id}/{uuid.uuid4().hex}"


def avatar_rendition(avatar_key: str, edge: int) -> str:
    return f"{avatar_key}/{edge}.jpg"


def export_archive(user_id: uuid.UUID, export_id: uuid.UUID) -> str:
    return f"exports/{user_id}/{export_id}.zip"


def music_track(track_id: uuid.UUID) -> str:
    return f"music/{track_id}"


def memory_folder(memory_id: uuid.UUID) -> str:
    return f"memories/{memory_id}/"


def clip_video(memory_id: uuid.UUID, clip_id: uuid.UUID) -> str:
    return f"{memory_folder(memory_id)}{clip_id}.mp4"


def clip_poster(memory_id: uuid.UUID, clip_id: uuid.UUID) -> str:
    return f"{memory_folder(memory_id)}{clip_id}.jpg"


def account_folders(user_id: uuid.UUID, memory_ids: Iterable[uuid.UUID]) -> list[str]:
    """Every storage folder holding the account's files."""
    owned = [f"uploads/{user_id}/", f"avatars/{user_id}/", f"exports/{user_id}/"]
    return owned + [memory_folder(memory_id) for memory_id in memory_ids]
