"""A memory's media URL stops working the moment its viewer loses access (local storage)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.models import Role
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import Member
from tests.fixtures.feed_helpers import seed_memory, set_status
from tests.fixtures.memory_helpers import local_path
from tests.graph.test_graph import follow
from tests.moderation.helpers import act, moderator, report
from tests.profiles.test_profiles import patch_me

SignUp = Callable[..., Any]


async def _poster_url(
    app: FastAPI, client: httpx.AsyncClient, viewer: Member, memory_id: str, tmp_path: Path
) -> str:
    """The poster URL `viewer` is given, with a file behind it, fetched once successfully."""
    shown = await client.get(f"/v1/memories/{memory_id}", headers=viewer.headers)
    assert shown.status_code == 200, shown.text
    url = local_path(shown.json()["clips"][0]["poster_url"])
    source = tmp_path / "poster.jpg"
    source.write_bytes(b"a poster")
    await app.state.storage.upload_file(
        url.split("?")[0].removeprefix("/media/"), source, "image/jpeg"
    )
    assert (await client.get(url)).content == b"a poster"
    return url


async def _gone(client: httpx.AsyncClient, url: str) -> None:
    assert_problem(await client.get(url), 404, "object_not_found")


async def _pair(client: httpx.AsyncClient, sign_up: SignUp) -> tuple[Member, Member]:
    author, viewer = await sign_up(), await sign_up()
    assert (await follow(client, viewer, author.handle)).status_code == 200
    return author, viewer


async def test_a_block_revokes_the_url_either_way(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, tmp_path: Path
) -> None:
    author, viewer = await _pair(client, sign_up)
    memory = await seed_memory(engine, author, visibility="followers")
    url = await _poster_url(app, client, viewer, memory, tmp_path)
    # The author's own URL is another one, and keeps working.
    own = await _poster_url(app, client, author, memory, tmp_path)
    assert own != url

    await client.post(f"/v1/users/{author.handle}/block", headers=viewer.headers)
    await _gone(client, url)
    assert (await client.get(own)).status_code == 200


async def test_removing_a_follower_revokes_a_followers_memory(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, tmp_path: Path
) -> None:
    author, viewer = await _pair(client, sign_up)
    memory = await seed_memory(engine, author, visibility="followers")
    url = await _poster_url(app, client, viewer, memory, tmp_path)

    removed = await client.delete(f"/v1/me/followers/{viewer.handle}", headers=author.headers)
    assert removed.status_code == 204
    await _gone(client, url)


async def test_only_me_revokes_everyone_but_the_author(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, tmp_path: Path
) -> None:
    author, viewer = await _pair(client, sign_up)
    memory = await seed_memory(engine, author, visibility="public")
    url = await _poster_url(app, client, viewer, memory, tmp_path)
    own = await _poster_url(app, client, author, memory, tmp_path)

    edited = await client.patch(
        f"/v1/memories/{memory}", json={"visibility": "only_me"}, headers=author.headers
    )
    assert edited.status_code == 200, edited.text
    await _gone(client, url)
    assert (await client.get(own)).status_code == 200


async def test_going_private_revokes_strangers(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, tmp_path: Path
) -> None:
    author, stranger = await sign_up(), await sign_up()
    memory = await seed_memory(engine, author, visibility="public")
    url = await _poster_url(app, client, stranger, memory, tmp_path)

    await patch_me(client, author, is_private=True)
    await _gone(client, url)


async def test_a_suspended_author_revokes_viewers(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, tmp_path: Path
) -> None:
    author, viewer = await _pair(client, sign_up)
    memory = await seed_memory(engine, author, visibility="public")
    url = await _poster_url(app, client, viewer, memory, tmp_path)

    await set_status(engine, author, "suspended")
    await _gone(client, url)


async def test_a_moderators_hide_revokes_viewers_but_not_moderators(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, tmp_path: Path
) -> None:
    author, viewer = await _pair(client, sign_up)
    mod = await moderator(engine, await sign_up())
    memory = await seed_memory(engine, author, visibility="public")
    url = await _poster_url(app, client, viewer, memory, tmp_path)
    filed = await report(client, viewer, "memory", memory)
    assert filed.is_success, filed.text

    assert (await act(client, mod, f"/memories/{memory}/hide")).is_success
    await _gone(client, url)
    # The moderator judging the report still sees the hidden memory's media...
    case = await client.get(f"/v1/admin/reports/{filed.json()['id']}", headers=mod.headers)
    judged = local_path(case.json()["memory"]["clips"][0]["poster_url"])
    assert (await client.get(judged)).content == b"a poster"
    # ...while they hold the role.
    await moderator(engine, mod, Role.user)
    await _gone(client, judged)


async def test_deleting_the_memory_revokes_every_url(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, tmp_path: Path
) -> None:
    author, viewer = await _pair(client, sign_up)
    memory = await seed_memory(engine, author, visibility="followers")
    url = await _poster_url(app, client, viewer, memory, tmp_path)
    own = await _poster_url(app, client, author, memory, tmp_path)

    assert (
        await client.delete(f"/v1/memories/{memory}", headers=author.headers)
    ).status_code == 204
    await _gone(client, url)
    await _gone(client, own)


async def test_a_url_for_one_viewer_is_no_use_to_another(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, tmp_path: Path
) -> None:
    author, viewer = await _pair(client, sign_up)
    memory = await seed_memory(engine, author, visibility="followers")
    url = await _poster_url(app, client, viewer, memory, tmp_path)
    stranger = await sign_up()
    swapped = url.replace(f"v={viewer.id.replace('-', '')}", f"v={stranger.id.replace('-', '')}")
    assert swapped != url
    assert_problem(await client.get(swapped), 403, "invalid_signature")
