"""From uploaded phone clips to a ready memory, through the real job worker and PyAV."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.media import probe
from keepsake.worker import in_process_worker, job_resources
from tests.fixtures.media_factory import write_photo, write_random_bytes, write_video
from tests.fixtures.memory_helpers import create_memory, local_path, upload, wait_processed

SignUp = Callable[..., Any]


async def _fetch(client: httpx.AsyncClient, url: str, dest: Path) -> Path:
    response = await client.get(local_path(url))
    assert response.status_code == 200
    dest.write_bytes(response.content)
    return dest


@pytest.mark.usefixtures("worker")
async def test_three_phone_clips_become_ready(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    portrait = write_video(tmp_path / "android.mp4", size=(96, 160), audio="aac")
    rotated = write_video(
        tmp_path / "iphone.mov",
        size=(160, 96),
        codec="libx265",
        rotation=90,
        container_format="mov",
    )
    silent = write_video(tmp_path / "silent.mp4", size=(160, 96), seconds=0.5)
    uploads = [
        await upload(client, mina, portrait, "video/mp4"),
        await upload(client, mina, rotated, "video/quicktime"),
        await upload(client, mina, silent, "video/mp4"),
    ]
    created = await create_memory(client, mina, uploads, caption="Snow #첫눈")
    assert [c["video_url"] for c in created["clips"]] == [None, None, None]

    memory = await wait_processed(client, mina, created["id"])
    assert memory["status"] == "ready", memory
    assert memory["duration_s"] == pytest.approx(2.5, abs=0.15)
    for index, clip in enumerate(memory["clips"]):
        video = probe(await _fetch(client, clip["video_url"], tmp_path / f"out{index}.mp4"))
        assert video.video_codec == "h264"
        assert video.rotation == 0
        assert (video.width, video.height) == (clip["width"], clip["height"])
        poster = await _fetch(client, clip["poster_url"], tmp_path / f"poster{index}.jpg")
        assert poster.read_bytes()[:3] == b"\xff\xd8\xff"
    durations = [clip["duration_s"] for clip in memory["clips"]]
    assert durations == pytest.approx([1.0, 1.0, 0.5], abs=0.1)
    # The landscape-coded iPhone clip, turned by its rotation, comes out portrait.
    assert memory["clips"][1]["height"] > memory["clips"][1]["width"]
    with av.open(str(tmp_path / "out0.mp4")) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.audio[0].codec_context.name == "aac"


@pytest.mark.usefixtures("worker")
async def test_a_photo_becomes_a_still_clip(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    photo = write_photo(tmp_path / "photo.jpg", size=(160, 96), orientation=6)
    body = {
        "clips": [
            {"upload_id": await upload(client, mina, photo, "image/jpeg"), "still_seconds": 2}
        ],
        "visibility": "only_me",
    }
    created = await client.post("/v1/memories", json=body, headers=mina.headers)
    memory = await wait_processed(client, mina, created.json()["id"])
    assert memory["status"] == "ready"
    [clip] = memory["clips"]
    assert clip["duration_s"] == pytest.approx(2.0, abs=0.1)
    assert clip["height"] > clip["width"]


@pytest.mark.usefixtures("worker")
async def test_a_corrupt_clip_fails_with_a_code(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    good = write_video(tmp_path / "good.mp4")
    junk = write_random_bytes(tmp_path / "junk.mp4")
    ids = [
        await upload(client, mina, good, "video/mp4"),
        await upload(client, mina, junk, "video/mp4"),
    ]
    memory = await wait_processed(client, mina, (await create_memory(client, mina, ids))["id"])
    assert memory["status"] == "failed"
    assert memory["failure"]["code"] == "clip_unreadable"
    assert memory["failure"]["detail"]
    assert all(clip["video_url"] is None for clip in memory["clips"])


@pytest.mark.usefixtures("worker")
async def test_245_seconds_in_all_fails_as_too_long(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    # Long but cheap: one frame per second at a small size.
    ids = [
        await upload(
            client,
            mina,
            write_video(tmp_path / f"long{n}.mp4", size=(64, 64), seconds=122.5, rate=1),
            "video/mp4",
        )
        for n in range(2)
    ]
    memory = await wait_processed(client, mina, (await create_memory(client, mina, ids))["id"])
    assert memory["status"] == "failed"
    assert memory["failure"]["code"] == "memory_too_long"


async def test_a_clip_that_always_fails_ends_failed_after_the_attempts(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    tmp_path: Path,
    engine: AsyncEngine,
    data_dir: Path,
    app: FastAPI,
) -> None:
    mina = await sign_up("mina")
    upload_id = await upload(client, mina, write_video(tmp_path / "a.mp4"), "video/mp4")
    memory = await create_memory(client, mina, [upload_id])
    # Before any worker runs, the source vanishes from storage, as in an outage.
    for stored in (data_dir / "media" / "uploads").rglob(upload_id + "*"):
        stored.unlink()
    state = app.state
    async with in_process_worker(job_resources(state.settings, state.sessionmaker, state.storage)):
        failed = await wait_processed(client, mina, memory["id"])
    assert failed["failure"]["code"] == "processing_failed"
    assert failed["failure"]["detail"]
    async with engine.connect() as conn:
        attempts = await conn.scalar(
            text("SELECT attempts FROM memories WHERE id = :id"), {"id": memory["id"]}
        )
    assert attempts == 3


async def test_reconciler_requeues_lost_work_and_fails_exhausted_memories(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path, engine: AsyncEngine, app: FastAPI
) -> None:
    mina = await sign_up("mina")
    lost = await create_memory(
        client, mina, [await upload(client, mina, write_video(tmp_path / "a.mp4"), "video/mp4")]
    )
    spent = await create_memory(
        client, mina, [await upload(client, mina, write_video(tmp_path / "b.mp4"), "video/mp4")]
    )
    async with engine.begin() as conn:
        # Both jobs vanish (a wiped queue) and both deadlines pass; one is out of attempts.
        await conn.execute(text("DELETE FROM procrastinate_jobs"))
        await conn.execute(text("UPDATE memories SET processing_deadline = now() - interval '1s'"))
        await conn.execute(
            text("UPDATE memories SET attempts = 3 WHERE id = :id"), {"id": spent["id"]}
        )
    state = app.state
    async with in_process_worker(job_resources(state.settings, state.sessionmaker, state.storage)):
        requeued = await wait_processed(client, mina, lost["id"])
        timed_out = await wait_processed(client, mina, spent["id"])
    assert requeued["status"] == "ready"
    assert timed_out["status"] == "failed"
    assert timed_out["failure"]["code"] == "processing_timeout"


async def test_expired_unused_uploads_are_swept(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    tmp_path: Path,
    engine: AsyncEngine,
    app: FastAPI,
    data_dir: Path,
) -> None:
    mina = await sign_up("mina")
    upload_id = await upload(client, mina, write_video(tmp_path / "a.mp4"), "video/mp4")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE uploads SET expires_at = now() - interval '1s'"))
    state = app.state
    async with in_process_worker(job_resources(state.settings, state.sessionmaker, state.storage)):
        async with asyncio.timeout(30):
            while True:
                async with engine.connect() as conn:
                    left = await conn.scalar(text("SELECT count(*) FROM uploads"))
                if left == 0:
                    break
                await asyncio.sleep(0.2)
    assert not list((data_dir / "media" / "uploads").rglob(upload_id + "*"))
