"""Text input: NUL and control characters refused with 422 at one place; NFC everywhere;
no log line carries a statement's parameters."""

from __future__ import annotations

import io
import sys
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from keepsake.accounts.models import Role
from keepsake.db import create_engine
from keepsake.observability.logging import configure_logging
from tests.accounts.test_roles import grant_role
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import PASSWORD
from tests.fixtures.media_factory import write_photo
from tests.fixtures.memory_helpers import create_memory, upload

SignUp = Callable[..., Any]


async def test_signup_refuses_nul_and_checks_display_name_as_patch_does(
    client: httpx.AsyncClient,
) -> None:
    base = {"email": "mina@example.com", "password": PASSWORD, "handle": "mina"}
    for name in ("Mi\x00na", "bell\x07", "two\nlines", "x" * 61, "  "):
        response = await client.post("/v1/auth/signup", json={**base, "display_name": name})
        assert_problem(response, 422, "invalid_display_name")
    made = await client.post("/v1/auth/signup", json={**base, "display_name": " Mina "})
    assert made.json()["user"]["display_name"] == "Mina"


async def test_nul_in_captions_hashtags_and_music_is_422(
    client: httpx.AsyncClient, sign_up: SignUp, engine: Any, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    photo = await upload(client, mina, write_photo(tmp_path / "a.jpg"), "image/jpeg")
    body = {"clips": [{"upload_id": photo}], "visibility": "public", "caption": "a\x00b"}
    created = await client.post("/v1/memories", json=body, headers=mina.headers)
    assert_problem(created, 422, "invalid_caption")
    memory = await create_memory(client, mina, [photo], caption="ok")
    edited = await client.patch(
        f"/v1/memories/{memory['id']}", json={"caption": "x\x00"}, headers=mina.headers
    )
    assert_problem(edited, 422, "invalid_caption")
    tag = await client.get("/v1/hashtags/a%00/memories", headers=mina.headers)
    assert_problem(tag, 422, "invalid_text")
    await grant_role(engine, mina, Role.admin)
    track = {"title": "t\x00", "artist": "a", "upload_id": str(uuid.uuid4())}
    music = await client.post("/v1/admin/music", json=track, headers=mina.headers)
    assert_problem(music, 422, "invalid_text")


async def test_decomposed_hangul_is_stored_as_composed(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    composed = "첫눈 오는 날 #첫눈"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    memories = []
    for caption in (composed, decomposed):
        photo = await upload(client, mina, write_photo(tmp_path / "p.jpg"), "image/jpeg")
        memories.append(await create_memory(client, mina, [photo], caption=caption))
    assert memories[0]["caption"] == memories[1]["caption"] == composed
    assert memories[0]["hashtags"] == memories[1]["hashtags"] == ["첫눈"]
    note = unicodedata.normalize("NFD", "첫눈")
    patched = await client.patch("/v1/me", json={"note": note}, headers=mina.headers)
    assert patched.json()["note"] == "첫눈"


async def test_a_failing_insert_logs_no_parameters(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stdout", captured)
    configure_logging("INFO", json=True)
    engine = create_engine(database_url, pool_size=1)
    secret_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0LWhhc2g"
    email = "hidden-person@example.com"
    try:
        with pytest.raises(DBAPIError) as failed:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO users (id, email, handle, display_name, password_hash)"
                        " VALUES (:id, :email, 'someone', :name, :hash)"
                    ),
                    {"id": uuid.uuid4(), "email": email, "name": "a\x00b", "hash": secret_hash},
                )
        structlog.get_logger("keepsake").exception("insert.failed", email=email)
        structlog.get_logger("keepsake").error("insert.failed", error=str(failed.value))
    finally:
        await engine.dispose()
        configure_logging("WARNING", json=False)
    logs = captured.getvalue()
    assert "insert.failed" in logs
    assert "INSERT INTO users" in logs
    assert secret_hash not in logs
    assert email not in logs
