"""Suspensions: sessions end in every process, the account vanishes for others, sign-in
says why (with a token to appeal), `until` lifts it, an appeal can reverse it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from keepsake.config import Settings
from keepsake.moderation import service
from tests.accounts.test_auth_cache import WHOAMI, pod, until
from tests.conftest import PASSWORD
from tests.fixtures.feed_helpers import ids, seed_memory
from tests.graph.test_graph import follow, handles
from tests.moderation.helpers import act, moderator
from tests.profiles.test_profiles import assert_problem

SignUp = Callable[..., Any]


async def test_suspension_ends_sessions_in_another_process(
    make_settings: Callable[..., Settings], engine: AsyncEngine, sign_up: SignUp
) -> None:
    theo = await sign_up("theo")
    mod = await moderator(engine, await sign_up("mod"))
    settings = make_settings()
    async with pod(settings) as (_, _, pod_a), pod(settings) as (_, cache_b, pod_b):
        assert (await pod_b.get(WHOAMI, headers=theo.headers)).status_code == 200
        applied = cache_b.notifications_applied
        assert (await act(pod_a, mod, "/users/theo/suspend")).status_code == 200
        await until(cache_b, lambda c: c.notifications_applied > applied)
        assert_problem(await pod_b.get(WHOAMI, headers=theo.headers), 401, "session_revoked")


async def test_a_suspended_account_drops_out_and_comes_back(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    mod, judge = (
        await moderator(engine, await sign_up("mod")),
        await moderator(engine, await sign_up("judge")),
    )
    await follow(client, theo, "mina")
    await follow(client, mina, "theo")
    memory = await seed_memory(engine, mina)
    theirs = await seed_memory(engine, theo)
    clap = {"count": 3}
    assert (
        await client.post(f"/v1/memories/{memory}/claps", json=clap, headers=theo.headers)
    ).status_code == 200
    later = datetime.now(UTC) + timedelta(days=3)
    suspended = await act(client, mod, "/users/theo/suspend", until=later.isoformat())
    assert suspended.status_code == 200, suspended.text
    assert_problem(await act(client, mod, "/users/theo/suspend"), 409, "already_done")

    assert_problem(await client.get("/v1/users/theo", headers=mina.headers), 404, "user_not_found")
    assert_problem(
        await client.get(f"/v1/memories/{theirs}", headers=mina.headers), 404, "memory_not_found"
    )
    assert await handles(client, mina, "/v1/users/mina/followers") == []
    clappers = (await client.get(f"/v1/memories/{memory}/claps", headers=mina.headers)).json()
    assert clappers["items"] == []
    kinds = [
        n["kind"]
        for n in (await client.get("/v1/notifications", headers=mina.headers)).json()["items"]
    ]
    assert "claps" not in kinds
    assert "follow" not in kinds

    login = {"email": theo.email, "password": PASSWORD}
    refused = assert_problem(
        await client.post("/v1/auth/login", json=login), 403, "account_suspended"
    )
    assert datetime.fromisoformat(refused["until"]) == later
    appeal_auth = {"Authorization": f"Bearer {refused['appeal_token']}"}
    # The appeal token opens nothing else.
    assert (await client.get("/v1/me", headers=appeal_auth)).status_code == 401
    strikes = (await client.get("/v1/me/strikes", headers=appeal_auth)).json()["items"]
    assert [s["action"] for s in strikes] == ["suspend"]
    made = await client.post(
        f"/v1/me/strikes/{strikes[0]['id']}/appeal", json={"text": "Not me."}, headers=appeal_auth
    )
    assert made.status_code == 201, made.text
    again = await client.post(
        f"/v1/me/strikes/{strikes[0]['id']}/appeal", json={"text": "Again."}, headers=appeal_auth
    )
    assert_problem(again, 409, "appeal_exists")

    queue = (await client.get("/v1/admin/appeals", headers=judge.headers)).json()["items"]
    assert [a["id"] for a in queue] == [made.json()["id"]]
    decision = {"decision": "reversed", "reason": "A shared device."}
    same = await client.post(
        f"/v1/admin/appeals/{queue[0]['id']}/decide", json=decision, headers=mod.headers
    )
    assert_problem(same, 403, "same_moderator")
    decided = await client.post(
        f"/v1/admin/appeals/{queue[0]['id']}/decide", json=decision, headers=judge.headers
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "reversed"
    back = await client.post("/v1/auth/login", json=login)
    assert back.status_code == 200, back.text
    assert await handles(client, mina, "/v1/users/mina/followers") == ["theo"]
    assert theirs in await ids(client, mina, "/v1/users/theo/memories")
    log = (
        await client.get("/v1/admin/audit-log", params={"target": theo.id}, headers=judge.headers)
    ).json()
    assert [e["action"] for e in log["items"]] == ["appeal_reversed", "suspend"]


async def test_a_suspension_lifts_itself(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine, sign_up: SignUp
) -> None:
    theo = await sign_up("theo")
    mod = await moderator(engine, await sign_up("mod"))
    end = datetime.now(UTC) + timedelta(hours=1)
    assert (await act(client, mod, "/users/theo/suspend", until=end.isoformat())).status_code == 200
    async with AsyncSession(app.state.engine) as db, db.begin():
        assert await service.lift_due(db, now=end - timedelta(seconds=1)) == 0
    async with AsyncSession(app.state.engine) as db, db.begin():
        assert await service.lift_due(db, now=end) == 1
    login = {"email": theo.email, "password": PASSWORD}
    assert (await client.post("/v1/auth/login", json=login)).status_code == 200
    log = (
        await client.get("/v1/admin/audit-log", params={"target": theo.id}, headers=mod.headers)
    ).json()
    assert [(e["action"], e["actor"]) for e in log["items"]] == [
        ("lift", None),
        ("suspend", {"id": mod.id, "handle": "mod"}),
    ]


async def test_sign_in_after_until_needs_no_sweep(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    theo = await sign_up("theo")
    mod = await moderator(engine, await sign_up("mod"))
    soon = datetime.now(UTC) + timedelta(minutes=5)
    assert (
        await act(client, mod, "/users/theo/suspend", until=soon.isoformat())
    ).status_code == 200
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET suspended_until = now() - interval '1 second' WHERE id = :id"),
            {"id": uuid.UUID(theo.id)},
        )
    login = {"email": theo.email, "password": PASSWORD}
    assert (await client.post("/v1/auth/login", json=login)).status_code == 200


async def test_the_audit_log_only_grows(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    await sign_up("theo")
    mod = await moderator(engine, await sign_up("mod"))
    assert (await act(client, mod, "/users/theo/suspend")).status_code == 200
    for statement in ("UPDATE audit_log SET reason = 'nothing'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    async with engine.begin() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM audit_log"))).scalar_one() == 1


async def test_normal_users_get_403_on_every_admin_route(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp
) -> None:
    theo = await sign_up("theo")
    spec = app.openapi()
    routes = [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/admin/")
        for method in item
    ]
    assert len(routes) >= 12
    fill = {"{id}": str(uuid.uuid4()), "{handle}": "theo", "{track_id}": str(uuid.uuid4())}
    for method, path in routes:
        for name, value in fill.items():
            path = path.replace(name, value)
        response = await client.request(method, path, json={}, headers=theo.headers)
        assert_problem(response, 403, "forbidden_role")
