"""Data export: `GET /v1/me/export` starts a ZIP of everything the user owns, then links it."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.worker import in_process_worker, job_resources
from tests.conftest import Member
from tests.fixtures.media_factory import write_photo, write_random_bytes, write_video
from tests.fixtures.memory_helpers import create_memory, local_path, upload, wait_processed
from tests.fixtures.polling import eventually

SignUp = Callable[..., Any]
Json = dict[str, Any]
EXPORT = "/v1/me/export"


async def ready_memory(
    client: httpx.AsyncClient, member: Member, folder: Path, **fields: Any
) -> Json:
    clip = write_video(folder / f"{member.handle}.mp4")
    created = await create_memory(
        client, member, [await upload(client, member, clip, "video/mp4")], **fields
    )
    memory = await wait_processed(client, member, created["id"])
    assert memory["status"] == "ready", memory
    return memory


async def set_avatar(client: httpx.AsyncClient, member: Member, folder: Path) -> None:
    photo = write_photo(folder / f"{member.handle}-avatar.jpg", size=(64, 64))
    upload_id = await upload(client, member, photo, "image/jpeg", purpose="avatar")
    response = await client.patch(
        "/v1/me", json={"avatar_upload_id": upload_id}, headers=member.headers
    )
    assert response.status_code == 200, response.text


async def ready_export(client: httpx.AsyncClient, member: Member) -> Json:
    """Ask as an app would until the export is ready."""

    async def ready() -> Json | None:
        response = await client.get(EXPORT, headers=member.headers)
        if response.status_code == 200:
            export: Json = response.json()
            assert export["status"] == "ready"
            return export
        assert response.status_code == 202, response.text
        return None

    return await eventually(ready, seconds=60, interval=0.2, what=f"{member.handle}'s export")


async def download(client: httpx.AsyncClient, url: str) -> zipfile.ZipFile:
    response = await client.get(local_path(url))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    return archive


def document(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name))


async def post(client: httpx.AsyncClient, member: Member, path: str, **body: Any) -> None:
    response = await client.post(path, json=body or None, headers=member.headers)
    assert response.is_success, response.text


@pytest.mark.usefixtures("worker")
async def test_the_export_holds_the_account_its_people_and_its_memories(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina, theo, lee = [await sign_up(handle) for handle in ("mina", "theo", "lee")]
    await sign_up("ada")
    await sign_up("zed")
    await client.patch("/v1/me", json={"is_private": True}, headers=lee.headers)
    for path in ("/v1/users/theo/follow", "/v1/users/lee/follow", "/v1/users/ada/mute"):
        await post(client, mina, path)
    await post(client, mina, "/v1/users/zed/block")
    await post(client, theo, "/v1/users/mina/follow")
    response = await client.put("/v1/me/close-friends/theo", headers=mina.headers)
    assert response.is_success, response.text
    for note in ("first light", "snow at last"):
        await client.patch("/v1/me", json={"note": note}, headers=mina.headers)
    await set_avatar(client, mina, tmp_path)
    memory = await ready_memory(client, mina, tmp_path, caption="Snow #첫눈", visibility="public")
    junk = await upload(client, mina, write_random_bytes(tmp_path / "junk.mp4"), "video/mp4")
    failed = await wait_processed(client, mina, (await create_memory(client, mina, [junk]))["id"])
    assert failed["status"] == "failed"

    first = await client.get(EXPORT, headers=mina.headers)
    assert first.status_code == 202, first.text
    pending = first.json()
    assert pending.keys() == {"id", "status", "created_at"}
    assert pending["status"] == "pending"
    export = await ready_export(client, mina)
    assert export["id"] == pending["id"]
    assert export["created_at"] == pending["created_at"]
    link_expiry = datetime.fromisoformat(export["expires_at"])
    kept_until = datetime.fromisoformat(export["available_until"])
    assert link_expiry <= datetime.now(UTC) + timedelta(hours=1) < kept_until
    assert export["size_bytes"] > 0
    # Asked again within the day: the same export, with a fresh link.
    again = await client.get(EXPORT, headers=mina.headers)
    assert again.status_code == 200
    assert again.json()["id"] == export["id"]

    archive = await download(client, export["url"])
    [clip] = memory["clips"]
    video, poster = (
        f"media/{memory['id']}/{clip['id']}.mp4",
        f"media/{memory['id']}/{clip['id']}.jpg",
    )
    assert sorted(archive.namelist()) == sorted(
        [
            "account.json",
            "graph.json",
            "memories.json",
            "safety.json",
            "missions.json",
            "points.json",
            "media/avatar.jpg",
            video,
            poster,
        ]
    )
    # Mina took part in no mission (tests/missions covers these two documents).
    assert document(archive, "missions.json") == []
    assert document(archive, "points.json") == []
    account = document(archive, "account.json")
    assert (account["id"], account["handle"], account["email"]) == (mina.id, "mina", mina.email)
    assert account["note"] == "snow at last"
    assert [n["note"] for n in account["note_history"]] == ["snow at last", "first light"]
    assert account["avatar"] == "media/avatar.jpg"
    assert account["timezone"] == "UTC"
    assert account["created_at"]
    assert archive.read("media/avatar.jpg")[:3] == b"\xff\xd8\xff"

    people = {
        kind: [p["handle"] for p in edges]
        for kind, edges in document(archive, "graph.json").items()
    }
    assert people == {
        "following": ["theo"],
        "followers": ["theo"],
        "requested": ["lee"],
        "follow_requests": [],
        "blocked": ["zed"],
        "muted": ["ada"],
        "close_friends": ["theo"],
    }

    kept, broken = document(archive, "memories.json")
    assert kept["id"] == memory["id"]
    assert (kept["caption"], kept["hashtags"], kept["visibility"]) == (
        "Snow #첫눈",
        ["첫눈"],
        "public",
    )
    assert (kept["status"], kept["failure"]) == ("ready", None)
    assert kept["created_at"] == memory["created_at"]
    assert [(c["id"], c["video"], c["poster"]) for c in kept["clips"]] == [
        (clip["id"], video, poster)
    ]
    original = await client.get(local_path(clip["video_url"]))
    assert archive.read(video) == original.content
    assert archive.read(poster)[:3] == b"\xff\xd8\xff"
    assert broken["status"] == "failed"
    assert broken["failure"]["code"] == "clip_unreadable"
    assert all(c["video"] is None and c["poster"] is None for c in broken["clips"])


@pytest.mark.usefixtures("worker")
async def test_each_user_gets_only_their_own_export_even_an_empty_one(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await ready_memory(client, mina, tmp_path)
    mine = await ready_export(client, mina)

    first = await client.get(EXPORT, headers=theo.headers)
    assert first.status_code == 202
    assert first.json()["id"] != mine["id"]
    theirs = await ready_export(client, theo)
    assert f"/exports/{theo.id}/{theirs['id']}.zip" in theirs["url"]
    archive = await download(client, theirs["url"])
    assert sorted(archive.namelist()) == [
        "account.json",
        "graph.json",
        "memories.json",
        "missions.json",
        "points.json",
        "safety.json",
    ]
    assert document(archive, "account.json")["handle"] == "theo"
    assert document(archive, "account.json")["avatar"] is None
    assert document(archive, "account.json")["note_history"] == []
    assert all(edges == [] for edges in document(archive, "graph.json").values())
    assert document(archive, "memories.json") == []

    # Theo's signature does not open Mina's file.
    forged = local_path(theirs["url"]).replace(
        f"{theo.id}/{theirs['id']}", f"{mina.id}/{mine['id']}"
    )
    response = await client.get(forged)
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"


async def test_the_export_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.get(EXPORT)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def _wait_for(engine: AsyncEngine, query: str, expected: object, **params: Any) -> None:

    async def reached() -> bool:
        async with engine.connect() as conn:
            return bool(await conn.scalar(text(query), params) == expected)

    await eventually(reached, seconds=60, interval=0.2, what=f"{query!r} to give {expected!r}")


@pytest.mark.usefixtures("worker")
async def test_an_expired_export_is_removed_and_the_next_request_starts_a_new_one(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine, data_dir: Path
) -> None:
    mina = await sign_up("mina")
    export = await ready_export(client, mina)
    stored = data_dir / "media" / "exports" / mina.id / f"{export['id']}.zip"
    assert stored.is_file()
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE exports SET expires_at = now() - interval '1 s'"))
    await _wait_for(engine, "SELECT count(*) FROM exports", 0)
    assert not stored.exists()

    response = await client.get(EXPORT, headers=mina.headers)
    assert response.status_code == 202
    assert response.json()["id"] != export["id"]


async def test_a_build_that_keeps_failing_ends_failed_and_the_next_request_starts_over(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine, app: FastAPI, data_dir: Path
) -> None:
    mina = await sign_up("mina")
    # A file where Mina's export folder belongs: storing the ZIP fails, as in an outage.
    blocker = data_dir / "media" / "exports" / mina.id
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"")
    try:
        first = (await client.get(EXPORT, headers=mina.headers)).json()
        state = app.state
        resources = job_resources(state.settings, state.sessionmaker, state.storage)
        async with in_process_worker(resources):
            await _wait_for(
                engine, "SELECT status::text FROM exports WHERE id = :id", "failed", id=first["id"]
            )
    finally:
        blocker.unlink()
    async with engine.connect() as conn:
        attempts = await conn.scalar(
            text("SELECT attempts FROM exports WHERE id = :id"), {"id": first["id"]}
        )
    assert attempts == 3
    response = await client.get(EXPORT, headers=mina.headers)
    assert response.status_code == 202
    assert response.json()["id"] != first["id"]


async def test_a_lost_build_is_started_again(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine, app: FastAPI
) -> None:
    mina = await sign_up("mina")
    pending = (await client.get(EXPORT, headers=mina.headers)).json()
    async with engine.begin() as conn:
        # The job vanishes (a wiped queue) and the build's deadline passes.
        await conn.execute(text("DELETE FROM procrastinate_jobs"))
        await conn.execute(text("UPDATE exports SET deadline = now() - interval '1 s'"))
    state = app.state
    async with in_process_worker(job_resources(state.settings, state.sessionmaker, state.storage)):
        export = await ready_export(client, mina)
    assert export["id"] == pending["id"]
