"""Operator roles: `require_role` lets only the named roles through, with a stable 403."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.models import Role
from keepsake.config import Settings
from keepsake.main import create_app
from keepsake.roles import AdminUser, ModeratorUser
from tests.conftest import Member, running

SignUp = Callable[..., Any]
ADMIN_ROUTES = (
    ("POST", "/v1/admin/music"),
    ("PATCH", "/v1/admin/music/{id}"),
    ("DELETE", "/v1/admin/music/{id}"),
)


async def grant_role(engine: AsyncEngine, member: Member, role: Role) -> None:
    """What `keepsake admin set-role` does; the next request already sees the role."""
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET role = CAST(:role AS user_role) WHERE id = :id"),
            {"role": role.value, "id": member.id},
        )


def assert_forbidden_role(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "forbidden_role"


def _probe_app(settings: Settings) -> FastAPI:
    """The real app plus one route per role dependency, as later operator routes use them."""
    app = create_app(settings)
    probe = APIRouter(prefix="/v1/admin/probe")

    @probe.get("/moderation")
    async def moderation(user: ModeratorUser) -> dict[str, str]:
        return {"role": user.role.value}

    @probe.get("/administration")
    async def administration(user: AdminUser) -> dict[str, str]:
        return {"role": user.role.value}

    app.include_router(probe)
    return app


async def test_each_role_reaches_exactly_its_routes(
    settings: Settings, engine: AsyncEngine, sign_up: SignUp
) -> None:
    user, moderator, admin = await sign_up("plain"), await sign_up("mod"), await sign_up("boss")
    await grant_role(engine, moderator, Role.moderator)
    await grant_role(engine, admin, Role.admin)
    async with running(_probe_app(settings)) as client:
        for member, allowed in (
            (user, ()),
            (moderator, ("moderation",)),
            (admin, ("moderation", "administration")),
        ):
            for path in ("moderation", "administration"):
                response = await client.get(f"/v1/admin/probe/{path}", headers=member.headers)
                if path in allowed:
                    assert response.status_code == 200, response.text
                else:
                    assert_forbidden_role(response)
        # Without a token it is a 401, as everywhere: the role is only checked once signed in.
        assert (await client.get("/v1/admin/probe/moderation")).status_code == 401


async def test_a_role_taken_away_stops_working_at_once(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    admin = await sign_up("boss")
    await grant_role(engine, admin, Role.admin)
    track = f"/v1/admin/music/{uuid.uuid4()}"
    assert (await client.delete(track, headers=admin.headers)).status_code == 404
    await grant_role(engine, admin, Role.user)
    assert_forbidden_role(await client.delete(track, headers=admin.headers))


async def test_music_is_managed_by_admins_only(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    user, moderator = await sign_up("plain"), await sign_up("mod")
    await grant_role(engine, moderator, Role.moderator)
    track = f"/v1/admin/music/{uuid.uuid4()}"
    body = {"title": "Slow Morning", "artist": "The Quiet Band", "upload_id": str(uuid.uuid4())}
    for member in (user, moderator):
        assert_forbidden_role(
            await client.post("/v1/admin/music", json=body, headers=member.headers)
        )
        assert_forbidden_role(
            await client.patch(track, json={"title": "Other"}, headers=member.headers)
        )
        assert_forbidden_role(await client.delete(track, headers=member.headers))
    # Everyone signed in may still list the library.
    for member in (user, moderator):
        assert (await client.get("/v1/music", headers=member.headers)).status_code == 200


async def test_admin_routes_document_the_role_check(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for method, path in ADMIN_ROUTES:
        operation = spec["paths"][path][method.lower()]
        assert operation["tags"] == ["admin"]
        assert "forbidden_role" in operation["responses"]["403"]["description"]
        assert "401" in operation["responses"]
    assert spec["paths"]["/v1/music"]["get"]["tags"] == ["music"]
