"""The music library: admins add real audio files, everyone lists them, memories play them."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from av.audio.frame import AudioFrame
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.models import Role
from tests.accounts.test_roles import grant_role
from tests.conftest import Member
from tests.fixtures.media_factory import (
    write_audio_only,
    write_photo,
    write_random_bytes,
    write_video,
)
from tests.fixtures.memory_helpers import create_memory, local_path, upload, wait_processed
from tests.profiles.test_avatars import assert_problem, storage_of, until_gone

SignUp = Callable[..., Any]
Json = dict[str, Any]
TRACK_KEYS = {"id", "title", "artist", "duration_s", "url"}
RATE = 44_100


def write_mp3(path: Path, seconds: float) -> Path:
    """A quiet mono MP3 of `seconds`, as a music tool exports one."""
    with av.open(str(path), "w", format="mp3") as container:
        stream = container.add_stream("mp3", rate=RATE, layout="mono")
        samples = 1152
        for start in range(0, round(seconds * RATE), samples):
            frame = AudioFrame(format="s16", layout="mono", samples=samples)
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            frame.planes[0].update(bytes(2 * samples))
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture
async def admin(sign_up: SignUp, engine: AsyncEngine) -> Member:
    member: Member = await sign_up("boss")
    await grant_role(engine, member, Role.admin)
    return member


async def add_track(
    client: httpx.AsyncClient, admin: Member, upload_id: str, **fields: str
) -> httpx.Response:
    body = {"title": "Slow Morning", "artist": "The Quiet Band", "upload_id": upload_id, **fields}
    return await client.post("/v1/admin/music", json=body, headers=admin.headers)


@pytest.mark.usefixtures("worker")
async def test_admin_adds_renames_and_deletes_a_track(
    client: httpx.AsyncClient, app: FastAPI, admin: Member, sign_up: SignUp, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    m4a = write_audio_only(tmp_path / "track.m4a")
    upload_id = await upload(client, admin, m4a, "audio/x-m4a", purpose="music")

    created = await add_track(client, admin, upload_id)
    assert created.status_code == 201, created.text
    track = created.json()
    assert set(track) == TRACK_KEYS
    assert (track["title"], track["artist"]) == ("Slow Morning", "The Quiet Band")
    assert track["duration_s"] == pytest.approx(0.5, abs=0.05)
    # Served under its own key with the standard type, whatever the uploader declared.
    fetched = await client.get(local_path(track["url"]))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "audio/mp4"
    assert fetched.content == m4a.read_bytes()
    storage = storage_of(app)
    await until_gone(storage, f"uploads/{admin.id}/{upload_id}")

    listed = await client.get("/v1/music", headers=mina.headers)
    assert listed.status_code == 200
    assert [(t["id"], set(t)) for t in listed.json()["items"]] == [(track["id"], TRACK_KEYS)]

    renamed = await client.patch(
        f"/v1/admin/music/{track['id']}", json={"title": "  Slow Evening "}, headers=admin.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["title"], renamed.json()["artist"]) == ("Slow Evening", "The Quiet Band")

    deleted = await client.delete(f"/v1/admin/music/{track['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    assert (await client.get("/v1/music", headers=mina.headers)).json()["items"] == []
    await until_gone(storage, f"music/{track['id']}")
    assert (await client.get(local_path(track["url"]))).status_code == 404
    gone = await client.delete(f"/v1/admin/music/{track['id']}", headers=admin.headers)
    assert_problem(gone, 404, "music_track_not_found")


async def test_an_mp3_is_measured_and_served_as_mpeg(
    client: httpx.AsyncClient, admin: Member, tmp_path: Path
) -> None:
    mp3 = write_mp3(tmp_path / "track.mp3", seconds=2.0)
    upload_id = await upload(client, admin, mp3, "audio/mpeg", purpose="music")
    created = await add_track(client, admin, upload_id, title="Rain", artist="Quiet")
    assert created.status_code == 201, created.text
    assert created.json()["duration_s"] == pytest.approx(2.0, abs=0.1)
    fetched = await client.get(local_path(created.json()["url"]))
    assert fetched.headers["content-type"] == "audio/mpeg"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("noise.mp3", "audio/mpeg"), ("silent.mp4", "audio/mp4"), ("photo.jpg", "audio/aac")],
)
async def test_what_is_not_playable_audio_is_refused(
    client: httpx.AsyncClient,
    app: FastAPI,
    admin: Member,
    tmp_path: Path,
    name: str,
    content_type: str,
) -> None:
    writers = {
        "noise.mp3": write_random_bytes,
        "silent.mp4": lambda p: write_video(p, seconds=0.5),
        "photo.jpg": write_photo,
    }
    path = writers[name](tmp_path / name)
    upload_id = await upload(client, admin, path, content_type, purpose="music")
    body = assert_problem(await add_track(client, admin, upload_id), 422, "invalid_audio")
    assert body["errors"][0]["field"] == "upload_id"
    # Nothing was kept, and the upload is still unused: a retry gets the same answer.
    assert_problem(await add_track(client, admin, upload_id), 422, "invalid_audio")
    listed = await client.get("/v1/music", headers=admin.headers)
    assert listed.json()["items"] == []
    assert await storage_of(app).stat(f"uploads/{admin.id}/{upload_id}") is not None


async def test_uploads_are_used_once_by_their_owner_for_music_only(
    client: httpx.AsyncClient, engine: AsyncEngine, admin: Member, sign_up: SignUp, tmp_path: Path
) -> None:
    other_admin = await sign_up("chief")
    await grant_role(engine, other_admin, Role.admin)
    m4a = write_audio_only(tmp_path / "track.m4a")
    theirs = await upload(client, other_admin, m4a, "audio/mp4", purpose="music")
    assert_problem(await add_track(client, admin, theirs), 404, "upload_not_found")

    clip = await upload(client, admin, write_video(tmp_path / "clip.mp4"), "video/mp4")
    assert_problem(await add_track(client, admin, clip), 404, "upload_not_found")

    mine = await upload(client, admin, m4a, "audio/mp4", purpose="music")
    assert (await add_track(client, admin, mine)).status_code == 201
    assert_problem(await add_track(client, admin, mine), 409, "upload_used")


async def test_music_uploads_have_their_own_types_and_limit(
    client: httpx.AsyncClient, admin: Member
) -> None:
    def ask(content_type: str, size: int) -> Json:
        return {"purpose": "music", "content_type": content_type, "size_bytes": size}

    for content_type in ("audio/mpeg", "audio/mp4", "audio/aac", "audio/x-m4a"):
        created = await client.post(
            "/v1/uploads", json=ask(content_type, 10), headers=admin.headers
        )
        assert created.status_code == 201, created.text
    refused = await client.post("/v1/uploads", json=ask("audio/wav", 10), headers=admin.headers)
    assert_problem(refused, 422, "unsupported_content_type")
    too_big = await client.post(
        "/v1/uploads", json=ask("audio/mpeg", 30 * 1024 * 1024 + 1), headers=admin.headers
    )
    assert_problem(too_big, 422, "upload_too_large")


@pytest.mark.parametrize(
    "body",
    [{"title": None}, {"title": ""}, {"artist": "   "}, {"title": "x" * 201}],
)
async def test_bad_track_names_are_refused(
    client: httpx.AsyncClient, admin: Member, tmp_path: Path, body: Json
) -> None:
    upload_id = await upload(
        client, admin, write_audio_only(tmp_path / "t.m4a"), "audio/mp4", purpose="music"
    )
    created = await add_track(client, admin, upload_id)
    track_id = created.json()["id"]
    patched = await client.patch(f"/v1/admin/music/{track_id}", json=body, headers=admin.headers)
    assert_problem(patched, 422, "validation_error")
    fields = {"title": "Slow Morning", "artist": "The Quiet Band", "upload_id": upload_id, **body}
    posted = await client.post("/v1/admin/music", json=fields, headers=admin.headers)
    assert_problem(posted, 422, "validation_error")
    missing = await client.patch(
        "/v1/admin/music/4b0a3f62-3f7a-4d59-9a0e-5a1c2b3d4e5f",
        json={"title": "Fine"},
        headers=admin.headers,
    )
    assert_problem(missing, 404, "music_track_not_found")


@pytest.mark.usefixtures("worker")
async def test_a_memory_plays_a_track_until_it_is_removed(
    client: httpx.AsyncClient, admin: Member, sign_up: SignUp, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    song = await upload(
        client, admin, write_audio_only(tmp_path / "song.m4a"), "audio/mp4", purpose="music"
    )
    track = (await add_track(client, admin, song)).json()
    clip = await upload(client, mina, write_video(tmp_path / "clip.mp4"), "video/mp4")
    created = await create_memory(client, mina, [clip], music_track_id=track["id"])
    assert created["music_track"]["id"] == track["id"]

    memory = await wait_processed(client, mina, created["id"])
    assert memory["status"] == "ready", memory
    playing = memory["music_track"]
    assert set(playing) == TRACK_KEYS
    assert (playing["id"], playing["title"]) == (track["id"], "Slow Morning")
    assert (await client.get(local_path(playing["url"]))).status_code == 200

    await client.delete(f"/v1/admin/music/{track['id']}", headers=admin.headers)
    after = await client.get(f"/v1/memories/{created['id']}", headers=mina.headers)
    assert after.status_code == 200
    assert after.json()["status"] == "ready"
    assert after.json()["music_track"] is None
