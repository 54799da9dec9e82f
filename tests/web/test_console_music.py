"""Adding a track from the console: the file comes with the form, then the same steps as
an app's upload and `POST /v1/admin/music`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.console import cookie_header, form, operator, sign_in
from tests.fixtures.media_factory import write_audio_only, write_random_bytes

SignUp = Callable[..., Any]


async def _counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        tracks = (await conn.execute(text("SELECT count(*) FROM music_tracks"))).scalar_one()
        uploads = (await conn.execute(text("SELECT count(*) FROM uploads"))).scalar_one()
    return tracks, uploads


@pytest.mark.usefixtures("worker")
async def test_an_admin_uploads_a_track(
    app: FastAPI, client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine, tmp_path: Path
) -> None:
    boss = await sign_up("boss")
    await operator(engine, boss, "admin")
    _, cookies = await sign_in(client, boss)
    held = await form(client, "/admin/music", cookies)
    headers = cookie_header(cookies)
    fields = {"csrf": held["csrf"], "title": "Slow <Morning>", "artist": "Mina"}
    stored = Path(app.state.settings.data_dir)

    noise = write_random_bytes(tmp_path / "noise.mp3").read_bytes()
    refused = await client.post(
        "/admin/music/upload",
        data=fields,
        files={"audio": ("noise.mp3", noise, "audio/mpeg")},
        headers=headers,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert await _counts(engine) == (0, 0)
    assert not list(stored.rglob(f"uploads/{boss.id}/*"))
    wrong_type = await client.post(
        "/admin/music/upload",
        data=fields,
        files={"audio": ("a.txt", b"hello", "text/plain")},
        headers=headers,
    )
    assert wrong_type.status_code == 422
    assert "must be one of" in wrong_type.text

    m4a = write_audio_only(tmp_path / "track.m4a").read_bytes()
    added = await client.post(
        "/admin/music/upload",
        data=fields,
        files={"audio": ("track.m4a", m4a, "audio/x-m4a")},
        headers=headers,
    )
    assert (added.status_code, added.headers["location"]) == (303, "/admin/music")
    assert await _counts(engine) == (1, 1)
    library = await client.get("/v1/music", headers=boss.headers)
    [track] = library.json()["items"]
    assert (track["title"], track["artist"]) == ("Slow <Morning>", "Mina")
    page = await client.get("/admin/music", headers=headers)
    assert 'value="Slow &lt;Morning&gt;"' in page.text
