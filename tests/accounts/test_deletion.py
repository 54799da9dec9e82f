"""Account deletion: a grace period in which signing in cancels it, then everything goes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from keepsake.accounts.deletion import purge_due_accounts
from keepsake.config import Settings
from keepsake.jobs import Resources
from keepsake.worker import job_resources
from tests.conftest import PASSWORD, Member
from tests.exports.test_export import ready_export, ready_memory, set_avatar
from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import local_path, upload

SignUp = Callable[..., Any]

# Every foreign key: (table, column, referenced table, ON DELETE action).
FOREIGN_KEYS = text(
    """
    SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, c.confdeltype
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'f'
    """
)
CASCADE, SET_NULL = "c", "n"


def resources(app: FastAPI) -> Resources:
    state = app.state
    return job_resources(state.settings, state.sessionmaker, state.storage)


async def delete_account(client: httpx.AsyncClient, member: Member) -> None:
    response = await client.request(
        "DELETE", "/v1/me", json={"password": PASSWORD}, headers=member.headers
    )
    assert response.status_code == 202, response.text


async def requested_ago(engine: AsyncEngine, member: Member, ago: timedelta) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET deletion_requested_at = now() - :ago WHERE id = :id"),
            {"ago": ago, "id": member.id},
        )


async def ids(conn: AsyncConnection, query: str, **params: Any) -> list[str]:
    return [str(row[0]) for row in await conn.execute(text(query), params)]


async def rows_left(conn: AsyncConnection, owned: dict[str, list[str]]) -> dict[str, int]:
    """Rows of any table still pointing at the given rows, by `table.column`."""
    left = {}
    for name, column, target, _ in await conn.execute(FOREIGN_KEYS):
        if owned.get(target):
            reference = sa.cast(sa.column(column), sa.Text)
            query = sa.select(sa.func.count()).select_from(sa.table(name))
            count = await conn.scalar(query.where(reference.in_(owned[target])))
            left[f"{name}.{column}"] = count or 0
    return left


def files_under(root: Path, *prefixes: str) -> list[Path]:
    return [path for prefix in prefixes for path in (root / prefix).rglob("*") if path.is_file()]


@pytest.mark.usefixtures("worker")
async def test_after_the_grace_period_the_account_and_everything_it_owns_go(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    tmp_path: Path,
    engine: AsyncEngine,
    settings: Settings,
    data_dir: Path,
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    for follower, followee in ((mina, theo), (theo, mina)):
        response = await client.post(
            f"/v1/users/{followee.handle}/follow", headers=follower.headers
        )
        assert response.status_code == 200, response.text
    await client.patch("/v1/me", json={"note": "off soon"}, headers=mina.headers)
    await set_avatar(client, mina, tmp_path)
    memory = await ready_memory(client, mina, tmp_path, visibility="public")
    # An upload never used: its bytes are in storage, its row in `uploads`.
    await upload(client, mina, write_video(tmp_path / "spare.mp4"), "video/mp4")
    await ready_export(client, mina)
    theirs = await ready_memory(client, theo, tmp_path)

    media = data_dir / "media"
    minas = [f"uploads/{mina.id}", f"avatars/{mina.id}", f"exports/{mina.id}"]
    minas.append(f"memories/{memory['id']}")
    assert all(files_under(media, prefix) for prefix in minas)
    async with engine.connect() as conn:
        owned = {
            "users": [mina.id],
            "memories": await ids(conn, "SELECT id FROM memories WHERE author_id = :u", u=mina.id),
            "sessions": await ids(conn, "SELECT id FROM sessions WHERE user_id = :u", u=mina.id),
        }
        assert sum((await rows_left(conn, owned)).values()) > 0

    await delete_account(client, mina)
    await requested_ago(engine, mina, settings.account_deletion_grace + timedelta(minutes=1))
    async with asyncio.timeout(30):
        while True:
            if not files_under(media, *minas) and not await _exists(engine, mina):
                break
            await asyncio.sleep(0.2)

    async with engine.connect() as conn:
        left = await rows_left(conn, owned)
    assert left
    assert set(left.values()) == {0}, left
    # Theo, his memory and its media are untouched.
    me = await client.get("/v1/me", headers=theo.headers)
    assert me.status_code == 200
    assert me.json()["counts"]["followers"] == 0
    kept = await client.get(f"/v1/memories/{theirs['id']}", headers=theo.headers)
    assert kept.json()["status"] == "ready"
    video = await client.get(local_path(kept.json()["clips"][0]["video_url"]))
    assert video.status_code == 200
    assert files_under(media, f"memories/{theirs['id']}")


async def _exists(engine: AsyncEngine, member: Member) -> bool:
    async with engine.connect() as conn:
        found = await conn.scalar(text("SELECT 1 FROM users WHERE id = :id"), {"id": member.id})
    return found is not None


async def test_an_account_within_its_grace_period_is_kept(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    engine: AsyncEngine,
    settings: Settings,
    app: FastAPI,
) -> None:
    mina = await sign_up("mina")
    await delete_account(client, mina)
    await requested_ago(engine, mina, settings.account_deletion_grace - timedelta(minutes=1))
    await purge_due_accounts(resources(app))
    async with engine.connect() as conn:
        status = await conn.scalar(
            text("SELECT status::text FROM users WHERE id = :id"), {"id": mina.id}
        )
        jobs = await conn.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
    assert (status, jobs) == ("deleting", 0)


async def test_two_sweepers_purge_each_account_once(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    engine: AsyncEngine,
    settings: Settings,
    app: FastAPI,
) -> None:
    members = [await sign_up() for _ in range(3)]
    for member in members:
        await delete_account(client, member)
        await requested_ago(engine, member, settings.account_deletion_grace * 2)
    res = resources(app)
    await asyncio.gather(purge_due_accounts(res), purge_due_accounts(res))
    async with engine.connect() as conn:
        users = await conn.scalar(text("SELECT count(*) FROM users"))
        purges = (
            await conn.execute(
                text(
                    "SELECT args->'prefixes'->>0 FROM procrastinate_jobs"
                    " WHERE task_name = 'accounts:purge_media'"
                )
            )
        ).scalars()
        assert sorted(purges) == sorted(f"uploads/{m.id}/" for m in members)
    assert users == 0


async def test_signing_in_during_the_grace_period_cancels_the_deletion(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    engine: AsyncEngine,
    settings: Settings,
    app: FastAPI,
) -> None:
    mina = await sign_up("mina")
    await delete_account(client, mina)
    signed_out = await client.get("/v1/me", headers=mina.headers)
    assert signed_out.status_code == 401
    hidden = await client.get("/v1/users/mina", headers=(await sign_up("theo")).headers)
    assert hidden.status_code == 404

    login = await client.post("/v1/auth/login", json={"email": mina.email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['tokens']['access_token']}"}
    me = await client.get("/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["handle"] == "mina"
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT status::text, deletion_requested_at FROM users WHERE id = :id"),
                {"id": mina.id},
            )
        ).one()
    assert tuple(row) == ("active", None)
    # Long after the grace period would have ended, the sweep leaves the account alone.
    await purge_due_accounts(resources(app))
    assert await _exists(engine, mina)


async def test_every_reference_to_an_account_goes_with_it(engine: AsyncEngine) -> None:
    """Deleting a `users` row must remove or clear every row that points at it, however
    indirectly; a reference that blocks the DELETE would stall every purge behind it."""
    async with engine.connect() as conn:
        keys = list(await conn.execute(FOREIGN_KEYS))
    gone = {"users"}
    while True:
        more = {table for table, _, target, action in keys if target in gone and action == CASCADE}
        if more <= gone:
            break
        gone |= more
    blocking = [
        f"{table}.{column} -> {target}"
        for table, column, target, action in keys
        if target in gone and action not in (CASCADE, SET_NULL)
    ]
    assert blocking == []


async def test_an_account_that_cannot_go_does_not_hold_up_the_others(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    engine: AsyncEngine,
    settings: Settings,
    app: FastAPI,
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    for member in (mina, theo):
        await delete_account(client, member)
        await requested_ago(engine, member, settings.account_deletion_grace * 2)
    async with engine.begin() as conn:
        # A table someone added with a reference that neither cascades nor clears.
        await conn.execute(text("CREATE TABLE stray (user_id uuid REFERENCES users (id))"))
        await conn.execute(text("INSERT INTO stray VALUES (:id)"), {"id": mina.id})
    try:
        await purge_due_accounts(resources(app))
        async with engine.connect() as conn:
            users = await ids(conn, "SELECT id FROM users")
            purges = await conn.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE stray"))
    # Mina stays for an operator to look into (her media job went back with her rows).
    assert (users, purges) == ([mina.id], 1)
