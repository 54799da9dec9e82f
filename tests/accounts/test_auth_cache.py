"""The authentication cache: hits cost no database work, and revocation stays immediate."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from unittest.mock import patch

import httpx
import jwt
import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.auth_cache import LISTENER_NAME, AuthCache, Viewer
from keepsake.accounts.deps import CurrentViewer
from keepsake.accounts.models import Role
from keepsake.cli.admin import set_role
from keepsake.config import Settings
from keepsake.main import create_app
from keepsake.migrate import alembic_config
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import PASSWORD, Member, reset_token, running
from tests.graph.test_graph import statements

SignUp = Callable[..., Awaitable[Member]]
WHOAMI = "/test/whoami"
TRIGGERS = {
    "sessions_auth_changed",
    "sessions_auth_deleted",
    "sessions_auth_truncated",
    "users_auth_changed",
    "users_auth_deleted",
    "users_auth_truncated",
}


def viewer() -> Viewer:
    return Viewer(id=uuid.uuid4(), session_id=uuid.uuid4())


def listening_cache(max_entries: int = 10, now: list[float] | None = None) -> AuthCache:
    """A cache as if its listener were connected; `now[0]` is its clock when given."""
    clock = time.time if now is None else (lambda: now[0])
    cache = AuthCache(max_entries, clock=clock)
    cache.activate()
    return cache


def test_an_invalidation_between_the_read_and_the_store_stops_the_store() -> None:
    cache = listening_cache()
    far = time.time() + 60
    epoch = cache.epoch
    # The revocation's notification arrives while the request reads the database.
    cache.forget_session(uuid.uuid4())
    cache.put("token", viewer(), valid_until=far, epoch=epoch)
    assert cache.get("token") is None
    cache.put("token", seen := viewer(), valid_until=far, epoch=cache.epoch)
    assert cache.get("token") == seen


def test_an_entry_is_not_served_past_its_valid_until() -> None:
    now = [1000.0]
    cache = listening_cache(now=now)
    cache.put("token", seen := viewer(), valid_until=1060.0, epoch=cache.epoch)
    now[0] = 1059.9
    assert cache.get("token") == seen
    now[0] = 1060.0
    assert cache.get("token") is None
    assert len(cache) == 0
    cache.put("late", viewer(), valid_until=1060.0, epoch=cache.epoch)
    assert len(cache) == 0


def test_the_oldest_entry_goes_when_full() -> None:
    cache = listening_cache(max_entries=2)
    far = time.time() + 60
    for token in ("a", "b", "c"):
        cache.put(token, viewer(), valid_until=far, epoch=cache.epoch)
    assert [cache.get(t) is not None for t in ("a", "b", "c")] == [False, True, True]


def test_notifications_forget_a_session_a_user_or_everything() -> None:
    cache = listening_cache()
    far = time.time() + 60
    mina, theo, ada = viewer(), viewer(), viewer()
    mina_laptop = Viewer(id=mina.id, session_id=uuid.uuid4())
    for token, who in {"m1": mina, "m2": mina_laptop, "t": theo, "a": ada}.items():
        cache.put(token, who, valid_until=far, epoch=cache.epoch)

    cache.apply(f"s:{theo.session_id}")
    assert (cache.get("t"), len(cache)) == (None, 3)
    cache.apply(f"u:{mina.id}")
    assert (cache.get("m1"), cache.get("m2"), len(cache)) == (None, None, 1)
    cache.apply("something new")
    assert len(cache) == 0
    assert cache.notifications_applied == 3


def test_an_inactive_cache_serves_and_stores_nothing() -> None:
    cache = listening_cache()
    far = time.time() + 60
    cache.put("token", viewer(), valid_until=far, epoch=cache.epoch)
    cache.deactivate()
    assert (cache.get("token"), len(cache)) == (None, 0)
    cache.put("token", viewer(), valid_until=far, epoch=cache.epoch)
    assert len(cache) == 0


async def until(cache: AuthCache, predicate: Callable[[AuthCache], bool]) -> None:
    async with asyncio.timeout(5):
        await cache.wait_until(predicate)


@asynccontextmanager
async def pod(settings: Settings) -> AsyncIterator[tuple[FastAPI, AuthCache, httpx.AsyncClient]]:
    """An API process with a route behind `CurrentViewer`, its cache listening."""
    app = create_app(settings)

    @app.get(WHOAMI)
    async def whoami(viewer: CurrentViewer) -> dict[str, str]:
        return {"id": str(viewer.id), "session_id": str(viewer.session_id)}

    async with running(app) as client:
        cache: AuthCache = app.state.auth_cache
        if settings.auth_cache_enabled:
            await until(cache, lambda c: c.active)
        # The pool's first connection runs the dialect's own queries; keep them uncounted.
        assert (await client.get("/readyz")).status_code == 200
        yield app, cache, client


def session_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


async def test_a_hit_costs_no_database_statement(
    make_settings: Callable[..., Settings], sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    async with pod(make_settings()) as (app, cache, client):
        with statements(app) as first:
            miss = await client.get(WHOAMI, headers=mina.headers)
        assert miss.json() == {"id": mina.id, "session_id": session_of(mina.access_token)}
        assert len(first) == 1
        assert cache.get(mina.access_token) is not None
        with statements(app) as second:
            hit = await client.get(WHOAMI, headers=mina.headers)
        assert (hit.status_code, hit.json(), second) == (200, miss.json(), [])


async def test_bad_tokens_are_refused_as_before(
    make_settings: Callable[..., Settings], sign_up: SignUp
) -> None:
    await sign_up("mina")
    async with pod(make_settings()) as (_, cache, client):
        assert_problem(await client.get(WHOAMI), 401, "not_authenticated")
        bad = {"Authorization": "Bearer not-a-token"}
        assert_problem(await client.get(WHOAMI, headers=bad), 401, "invalid_access_token")
        assert len(cache) == 0


async def end_session(client: httpx.AsyncClient, member: Member, ending: str) -> None:
    """End the member's session: a log-out with it, or a revoke from another session."""
    if ending == "logout":
        ended = await client.post("/v1/auth/logout", headers=member.headers)
    else:
        login = {"email": member.email, "password": PASSWORD}
        other = (await client.post("/v1/auth/login", json=login)).json()["tokens"]
        ended = await client.delete(
            f"/v1/me/sessions/{session_of(member.access_token)}",
            headers={"Authorization": f"Bearer {other['access_token']}"},
        )
    assert ended.status_code == 204


@pytest.mark.parametrize("ending", ["logout", "revoke"])
async def test_a_session_ended_on_one_pod_is_refused_by_another(
    make_settings: Callable[..., Settings], sign_up: SignUp, ending: str
) -> None:
    mina = await sign_up("mina")
    settings = make_settings()
    async with pod(settings) as (_, _, pod_a), pod(settings) as (_, cache_b, pod_b):
        assert (await pod_b.get(WHOAMI, headers=mina.headers)).status_code == 200
        assert cache_b.get(mina.access_token) is not None
        applied = cache_b.notifications_applied
        await end_session(pod_a, mina, ending)
        await until(cache_b, lambda c: c.notifications_applied > applied)
        assert cache_b.get(mina.access_token) is None
        assert_problem(await pod_b.get(WHOAMI, headers=mina.headers), 401, "session_revoked")


@pytest.mark.parametrize("ending", ["logout", "revoke"])
async def test_a_session_ended_here_is_refused_here_at_once(
    make_settings: Callable[..., Settings], sign_up: SignUp, ending: str
) -> None:
    mina = await sign_up("mina")
    async with pod(make_settings()) as (_, cache, client):
        assert (await client.get(WHOAMI, headers=mina.headers)).status_code == 200
        assert cache.get(mina.access_token) is not None
        # However late the notification: this process forgets when its commit returns.
        with patch.object(cache, "apply", lambda payload: None):
            await end_session(client, mina, ending)
            assert cache.get(mina.access_token) is None
            refused = await client.get(WHOAMI, headers=mina.headers)
        assert_problem(refused, 401, "session_revoked")


async def reset_password(client: httpx.AsyncClient, member: Member, settings: Settings) -> None:
    token = await reset_token(client, settings.outbox_dir, member.email)
    body = {"token": token, "new_password": "an entirely new phrase"}
    assert (await client.post("/v1/auth/password/reset", json=body)).status_code == 204


async def suspend(engine: AsyncEngine, member: Member) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET status = 'suspended' WHERE id = :id"), {"id": member.id}
        )


@pytest.mark.usefixtures("worker")
async def test_account_changes_reach_every_pod(
    make_settings: Callable[..., Settings],
    sign_up: SignUp,
    engine: AsyncEngine,
    database_url: str,
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    settings = make_settings()
    async with pod(settings) as (_, cache, client):
        for member in (mina, theo, ada):
            assert (await client.get(WHOAMI, headers=member.headers)).status_code == 200

        async def after(change: Awaitable[Any], member: Member) -> httpx.Response:
            applied = cache.notifications_applied
            await change
            await until(cache, lambda c: c.notifications_applied > applied)
            assert cache.get(member.access_token) is None
            return await client.get(WHOAMI, headers=member.headers)

        reset = await after(reset_password(client, mina, settings), mina)
        assert_problem(reset, 401, "session_revoked")
        assert_problem(await after(suspend(engine, theo), theo), 403, "account_suspended")
        # Suspended accounts are never cached: each request meets the database's answer.
        assert cache.get(theo.access_token) is None
        # A role change is checked again too (routes needing a role load the user anyway).
        promoted = await after(set_role(database_url, "ada", Role.admin), ada)
        assert promoted.status_code == 200
        assert cache.get(ada.access_token) == Viewer(
            id=uuid.UUID(ada.id), session_id=uuid.UUID(session_of(ada.access_token))
        )


async def test_a_truncate_makes_every_pod_forget_everything(
    make_settings: Callable[..., Settings], sign_up: SignUp, engine: AsyncEngine
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    async with pod(make_settings()) as (_, cache, client):
        for member in (mina, theo):
            assert (await client.get(WHOAMI, headers=member.headers)).status_code == 200
        assert len(cache) == 2
        applied = cache.notifications_applied
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE sessions CASCADE"))
        await until(cache, lambda c: c.notifications_applied > applied)
        assert len(cache) == 0
        assert_problem(await client.get(WHOAMI, headers=mina.headers), 401, "session_revoked")


async def test_a_lost_listener_stops_trusting_the_cache_until_it_is_back(
    make_settings: Callable[..., Settings],
    sign_up: SignUp,
    engine: AsyncEngine,
    client: httpx.AsyncClient,
) -> None:
    mina = await sign_up("mina")
    async with pod(make_settings()) as (app, cache, api):
        assert (await api.get(WHOAMI, headers=mina.headers)).status_code == 200
        async with engine.begin() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": LISTENER_NAME},
            )
        assert killed
        await until(cache, lambda c: not c.active)
        assert len(cache) == 0
        # Revoked while nobody listens: the notification is lost, the database still knows.
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE sessions SET revoked_at = now() WHERE id = :id"),
                {"id": session_of(mina.access_token)},
            )
        assert_problem(await api.get(WHOAMI, headers=mina.headers), 401, "session_revoked")

        await until(cache, lambda c: c.active)
        login = {"email": mina.email, "password": PASSWORD}
        fresh = (await client.post("/v1/auth/login", json=login)).json()["tokens"]
        headers = {"Authorization": f"Bearer {fresh['access_token']}"}
        assert (await api.get(WHOAMI, headers=headers)).status_code == 200
        with statements(app) as seen:
            assert (await api.get(WHOAMI, headers=headers)).status_code == 200
        assert seen == []


async def test_no_entry_outlives_its_access_token(
    make_settings: Callable[..., Settings], sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    expires = float(jwt.decode(mina.access_token, options={"verify_signature": False})["exp"])
    async with pod(make_settings()) as (app, _, client):
        # The cache's own clock, not the wall clock: the request path must store the
        # token's `exp` as the entry's end, and a slow machine must not change the answer.
        now = [time.time()]
        cache = listening_cache(now=now)
        app.state.auth_cache = cache
        assert (await client.get(WHOAMI, headers=mina.headers)).status_code == 200

        now[0] = expires - 0.001
        assert cache.get(mina.access_token) is not None
        now[0] = expires
        assert cache.get(mina.access_token) is None


async def test_disabled_every_request_checks_the_database(
    make_settings: Callable[..., Settings], sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    async with pod(make_settings(auth_cache_enabled=False)) as (app, cache, client):
        for _ in range(2):
            with statements(app) as seen:
                response = await client.get(WHOAMI, headers=mina.headers)
            assert (response.json()["id"], len(seen)) == (mina.id, 1)
        assert (cache.active, len(cache)) == (False, 0)


async def installed_triggers(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.scalars(
            text("SELECT tgname FROM pg_trigger WHERE tgname LIKE '%\\_auth\\_%'")
        )
        return set(rows)


async def test_the_migration_downgrades_and_upgrades(
    database_url: str, engine: AsyncEngine
) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0007")
    try:
        assert await installed_triggers(engine) == set()
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
    assert await installed_triggers(engine) == TRIGGERS


async def test_refresh_rotation_notifies_nobody(
    make_settings: Callable[..., Settings], sign_up: SignUp, engine: AsyncEngine
) -> None:
    mina = await sign_up("mina")
    async with pod(make_settings()) as (_, cache, client):
        assert (await client.get(WHOAMI, headers=mina.headers)).status_code == 200
        applied = cache.notifications_applied
        body = {"refresh_token": mina.refresh_token}
        assert (await client.post("/v1/auth/refresh", json=body)).status_code == 200
        # Notifications arrive in commit order: once this marker is in, a notification
        # of the refresh would have been too.
        marker = uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_notify('keepsake_auth', :p)"), {"p": f"s:{marker}"})
        await until(cache, lambda c: c.notifications_applied > applied)
        assert cache.notifications_applied == applied + 1
        assert cache.get(mina.access_token) is not None
