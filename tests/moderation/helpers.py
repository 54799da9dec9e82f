"""Shared steps of the safety tests: moderators, reports and actions through the API."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.models import Role
from tests.accounts.test_roles import grant_role
from tests.conftest import Member


async def moderator(engine: AsyncEngine, member: Member, role: Role = Role.moderator) -> Member:
    await grant_role(engine, member, role)
    return member


async def report(
    client: httpx.AsyncClient,
    who: Member,
    kind: str,
    target: str,
    reason: str = "spam",
    **extra: Any,
) -> httpx.Response:
    body = {"target": {"kind": kind, "id": target}, "reason": reason, **extra}
    return await client.post("/v1/reports", json=body, headers=who.headers)


async def act(client: httpx.AsyncClient, who: Member, path: str, **body: Any) -> httpx.Response:
    return await client.post(
        f"/v1/admin{path}", json={"reason": "Rule 3.", **body}, headers=who.headers
    )
