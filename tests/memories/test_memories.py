"""The memories API: creating, reading, editing, deleting and listing, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.accounts.test_signup_login import assert_problem
from tests.conftest import Member
from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import create_memory, local_path, upload, wait_processed

SignUp = Callable[..., Any]


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_video(tmp_path / "clip.mp4", seconds=0.5)


async def _memory_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM memories")) or 0)


async def test_create_returns_processing_memory(
    client: httpx.AsyncClient, sign_up: SignUp, clip: Path
) -> None:
    mina = await sign_up("mina")
    upload_id = await upload(client, mina, clip, "video/mp4")
    memory = await create_memory(
        client,
        mina,
        [upload_id],
        caption="First snow #첫눈 #Walk and #walk, c#",
        visibility="public",
    )
    assert memory["author"]["handle"] == "mina"
    assert memory["hashtags"] == ["첫눈", "walk"]
    assert memory["visibility"] == "public"
    assert memory["my_claps"] == 0
    assert memory["clap_total"] == 0
    assert "failure" not in memory
    assert len(memory["clips"]) == 1


async def test_eleven_clips_are_refused(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    mina = await sign_up("mina")
    body = {
        "clips": [{"upload_id": f"00000000-0000-4000-8000-{n:012d}"} for n in range(11)],
        "visibility": "public",
    }
    response = await client.post("/v1/memories", json=body, headers=mina.headers)
    assert_problem(response, 422, "validation_error")
    assert await _memory_count(engine) == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"clips": [], "visibility": "public"}, "validation_error"),
        ({"clips": [{"upload_id": "nope"}], "visibility": "public"}, "validation_error"),
        ({"clips": [{"upload_id": "00000000-0000-4000-8000-000000000001"}]}, "validation_error"),
        (
            {"clips": [{"upload_id": "00000000-0000-4000-8000-000000000001"}], "visibility": "x"},
            "validation_error",
        ),
        (
            {
                "clips": [{"upload_id": "00000000-0000-4000-8000-000000000001"}],
                "visibility": "public",
                "caption": "x" * 2001,
            },
            "validation_error",
        ),
    ],
)
async def test_malformed_bodies(
    client: httpx.AsyncClient, sign_up: SignUp, body: dict[str, Any], code: str
) -> None:
    mina = await sign_up("mina")
    assert_problem(await client.post("/v1/memories", json=body, headers=mina.headers), 422, code)


async def test_upload_rules(
    client: httpx.AsyncClient, sign_up: SignUp, clip: Path, engine: AsyncEngine
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    theirs = await upload(client, theo, clip, "video/mp4")
    body: dict[str, Any] = {"clips": [{"upload_id": theirs}], "visibility": "public"}
    response = await client.post("/v1/memories", json=body, headers=mina.headers)
    assert_problem(response, 404, "upload_not_found")

    mine = await upload(client, mina, clip, "video/mp4")
    await create_memory(client, mina, [mine])
    again = await client.post(
        "/v1/memories",
        json={"clips": [{"upload_id": mine}], "visibility": "public"},
        headers=mina.headers,
    )
    assert_problem(again, 409, "upload_used")

    twice = await upload(client, mina, clip, "video/mp4")
    doubled = {"clips": [{"upload_id": twice}, {"upload_id": twice}], "visibility": "public"}
    assert_problem(
        await client.post("/v1/memories", json=doubled, headers=mina.headers),
        422,
        "duplicate_upload",
    )
    assert await _memory_count(engine) == 1


async def test_upload_that_never_received_its_bytes(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    created = await client.post(
        "/v1/uploads",
        json={"purpose": "clip", "content_type": "video/mp4", "size_bytes": 1000},
        headers=mina.headers,
    )
    body = {"clips": [{"upload_id": created.json()["id"]}], "visibility": "public"}
    response = await client.post("/v1/memories", json=body, headers=mina.headers)
    assert_problem(response, 409, "upload_incomplete")


async def test_expired_upload(
    client: httpx.AsyncClient, sign_up: SignUp, clip: Path, engine: AsyncEngine
) -> None:
    mina = await sign_up("mina")
    upload_id = await upload(client, mina, clip, "video/mp4")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE uploads SET expires_at = now() - interval '1 second'"))
    body = {"clips": [{"upload_id": upload_id}], "visibility": "public"}
    response = await client.post("/v1/memories", json=body, headers=mina.headers)
    assert_problem(response, 409, "upload_expired")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"purpose": "clip", "content_type": "video/x-msvideo", "size_bytes": 10},
            "unsupported_content_type",
        ),
        (
            {"purpose": "avatar", "content_type": "video/mp4", "size_bytes": 10},
            "unsupported_content_type",
        ),
        (
            {"purpose": "clip", "content_type": "video/mp4", "size_bytes": 200 * 1024 * 1024 + 1},
            "upload_too_large",
        ),
        ({"purpose": "clip", "content_type": "video/mp4", "size_bytes": 0}, "validation_error"),
        ({"purpose": "poster", "content_type": "video/mp4", "size_bytes": 10}, "validation_error"),
    ],
)
async def test_upload_creation_refusals(
    client: httpx.AsyncClient, sign_up: SignUp, body: dict[str, Any], code: str
) -> None:
    mina = await sign_up("mina")
    assert_problem(await client.post("/v1/uploads", json=body, headers=mina.headers), 422, code)


async def test_a_body_larger_than_declared_is_refused_and_nothing_kept(
    client: httpx.AsyncClient, sign_up: SignUp, data_dir: Path
) -> None:
    mina = await sign_up("mina")
    created = (
        await client.post(
            "/v1/uploads",
            json={"purpose": "clip", "content_type": "video/mp4", "size_bytes": 100},
            headers=mina.headers,
        )
    ).json()
    response = await client.put(
        local_path(created["upload_url"]), content=b"x" * 101, headers=created["headers"]
    )
    assert_problem(response, 413, "upload_too_large")
    assert not list((data_dir / "media" / "uploads" / mina.id).glob("*"))
    body = {"clips": [{"upload_id": created["id"]}], "visibility": "public"}
    memory = await client.post("/v1/memories", json=body, headers=mina.headers)
    assert_problem(memory, 409, "upload_incomplete")


async def test_unknown_music_track(client: httpx.AsyncClient, sign_up: SignUp, clip: Path) -> None:
    mina = await sign_up("mina")
    upload_id = await upload(client, mina, clip, "video/mp4")
    body = {
        "clips": [{"upload_id": upload_id}],
        "visibility": "public",
        "music_track_id": "00000000-0000-4000-8000-000000000009",
    }
    response = await client.post("/v1/memories", json=body, headers=mina.headers)
    assert_problem(response, 422, "music_track_not_found")
    # Nothing half-written: the upload is still free to use.
    del body["music_track_id"]
    assert (await client.post("/v1/memories", json=body, headers=mina.headers)).status_code == 202


async def test_idempotency_key_creates_once(
    client: httpx.AsyncClient, sign_up: SignUp, clip: Path, engine: AsyncEngine
) -> None:
    mina = await sign_up("mina")
    upload_id = await upload(client, mina, clip, "video/mp4")
    body = {"clips": [{"upload_id": upload_id}], "visibility": "public"}
    headers = {**mina.headers, "Idempotency-Key": "create-1"}
    first = await client.post("/v1/memories", json=body, headers=headers)
    second = await client.post("/v1/memories", json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert await _memory_count(engine) == 1
    other = await client.post(
        "/v1/memories", json={**body, "caption": "different"}, headers=headers
    )
    assert_problem(other, 422, "idempotency_key_reused")


async def _follow(client: httpx.AsyncClient, who: Member, whom: Member) -> None:
    response = await client.post(f"/v1/users/{whom.handle}/follow", headers=who.headers)
    assert response.status_code == 200


@pytest.mark.usefixtures("worker")
async def test_visibility_of_memories_and_their_media(
    client: httpx.AsyncClient, sign_up: SignUp, clip: Path
) -> None:
    mina, friend, stranger = (
        await sign_up("mina"),
        await sign_up("friend"),
        await sign_up("stranger"),
    )
    await _follow(client, friend, mina)
    made = await create_memory(
        client, mina, [await upload(client, mina, clip, "video/mp4")], visibility="followers"
    )
    memory = await wait_processed(client, mina, made["id"])
    video_url = memory["clips"][0]["video_url"]

    seen = await client.get(f"/v1/memories/{made['id']}", headers=friend.headers)
    assert seen.status_code == 200
    assert "clap_total" not in seen.json()
    assert (await client.get(local_path(seen.json()["clips"][0]["video_url"]))).status_code == 200

    hidden = await client.get(f"/v1/memories/{made['id']}", headers=stranger.headers)
    assert_problem(hidden, 404, "memory_not_found")
    # The media itself needs a signature that only a permitted read hands out.
    signed = local_path(video_url)
    tampered = signed[:-4] + ("AAAA" if not signed.endswith("AAAA") else "BBBB")
    assert_problem(await client.get(tampered), 403, "invalid_signature")
    assert (await client.get(signed.split("?")[0])).status_code == 422
    listed = await client.get("/v1/users/mina/memories", headers=stranger.headers)
    assert listed.json() == {"items": [], "next_cursor": None}

    await client.patch(
        f"/v1/memories/{made['id']}", json={"visibility": "only_me"}, headers=mina.headers
    )
    assert_problem(
        await client.get(f"/v1/memories/{made['id']}", headers=friend.headers),
        404,
        "memory_not_found",
    )
    await client.post("/v1/users/friend/block", headers=mina.headers)
    await client.patch(
        f"/v1/memories/{made['id']}", json={"visibility": "public"}, headers=mina.headers
    )
    assert_problem(
        await client.get(f"/v1/memories/{made['id']}", headers=friend.headers),
        404,
        "memory_not_found",
    )
    assert (
        await client.get(f"/v1/memories/{made['id']}", headers=stranger.headers)
    ).status_code == 200


async def test_processing_memories_are_only_the_authors(
    client: httpx.AsyncClient, sign_up: SignUp, clip: Path
) -> None:
    mina, friend = await sign_up("mina"), await sign_up("friend")
    await _follow(client, friend, mina)
    made = await create_memory(
        client, mina, [await upload(client, mina, clip, "video/mp4")], visibility="public"
    )
    assert (await client.get(f"/v1/memories/{made['id']}", headers=mina.headers)).status_code == 200
    assert_problem(
        await client.get(f"/v1/memories/{made['id']}", headers=friend.headers),
        404,
        "memory_not_found",
    )
    own = await client.get("/v1/users/mina/memories", headers=mina.headers)
    assert [m["id"] for m in own.json()["items"]] == [made["id"]]
    theirs = await client.get("/v1/users/mina/memories", headers=friend.headers)
    assert theirs.json()["items"] == []


async def test_edit_and_delete_are_the_authors(
    client: httpx.AsyncClient, sign_up: SignUp, clip: Path, data_dir: Path, engine: AsyncEngine
) -> None:
    mina, friend = await sign_up("mina"), await sign_up("friend")
    made = await create_memory(
        client, mina, [await upload(client, mina, clip, "video/mp4")], visibility="public"
    )
    path = f"/v1/memories/{made['id']}"
    edited = await client.patch(path, json={"caption": "Now #눈사람"}, headers=mina.headers)
    assert edited.status_code == 200
    assert edited.json()["hashtags"] == ["눈사람"]
    assert edited.json()["visibility"] == "public"
    assert_problem(
        await client.patch(path, json={"visibility": "nope"}, headers=mina.headers),
        422,
        "validation_error",
    )
    assert_problem(
        await client.patch(path, json={"caption": "x"}, headers=friend.headers),
        404,
        "memory_not_found",
    )
    assert_problem(await client.delete(path, headers=friend.headers), 404, "memory_not_found")

    assert (await client.delete(path, headers=mina.headers)).status_code == 204
    assert_problem(await client.get(path, headers=mina.headers), 404, "memory_not_found")
    assert_problem(await client.delete(path, headers=mina.headers), 404, "memory_not_found")
    async with engine.connect() as conn:
        jobs = await conn.scalar(
            text(
                # The memory's folder; creating it deferred the deletion of the raw uploads.
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'memories:delete_media'"
                " AND args->>'prefix' IS NOT NULL"
            )
        )
    assert jobs == 1


async def test_unknown_and_malformed_memory_ids(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    assert_problem(
        await client.get("/v1/memories/not-an-id", headers=mina.headers), 422, "validation_error"
    )
    assert_problem(
        await client.get("/v1/memories/00000000-0000-4000-8000-000000000000", headers=mina.headers),
        404,
        "memory_not_found",
    )
    assert_problem(
        await client.get("/v1/memories/00000000-0000-4000-8000-000000000000"),
        401,
        "not_authenticated",
    )


async def test_person_memories_paginate(
    client: httpx.AsyncClient, sign_up: SignUp, clip: Path
) -> None:
    mina = await sign_up("mina")
    made = [
        (await create_memory(client, mina, [await upload(client, mina, clip, "video/mp4")]))["id"]
        for _ in range(5)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/v1/users/mina/memories", params=params, headers=mina.headers)
        ).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
