"""Running a mission from the console: create, close, judge with the entries playing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.security import utcnow
from tests.fixtures.console import cookie_header, form, operator, sign_in
from tests.missions.helpers import post_ready
from tests.web.html_checks import parse_strict

SignUp = Callable[..., Any]


def _local(minutes: int) -> str:
    """A `datetime-local` value, UTC, `minutes` from now."""
    return (utcnow() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


async def test_an_admin_runs_a_mission_from_the_console(
    app: FastAPI, client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    mina, theo, boss = await sign_up("mina"), await sign_up("theo"), await sign_up("boss")
    await operator(engine, boss, "admin")
    _, cookies = await sign_in(client, boss)
    held = await form(client, "/admin/missions", cookies)
    headers = cookie_header(cookies)
    fields = {
        "csrf": held["csrf"],
        "title": "First snow",
        "description": "Where you are.",
        "hashtag": "#snow",
        "starts_at": _local(-60),
        "ends_at": _local(-120),
        "winners_count": "1",
        "entry_points": "10",
        "winner_points": "100",
    }
    backwards = await client.post("/admin/missions", data=fields, headers=headers)
    assert backwards.status_code == 422
    assert "ends_at must be after starts_at" in backwards.text
    made = await client.post(
        "/admin/missions", data={**fields, "ends_at": _local(7 * 24 * 60)}, headers=headers
    )
    assert made.status_code == 303, made.text
    path = made.headers["location"]
    listed = await client.get("/admin/missions", headers=headers)
    assert path in listed.text
    now = utcnow()
    entries = [
        await post_ready(app, engine, who, "in the #snow", made=now, ready=now)
        for who in (mina, theo)
    ]

    page = await client.get(path, headers=headers)
    parse_strict(page.text)
    assert len(re.findall(r'<video class="clip" src="[^"]+\.mp4', page.text)) == 2
    assert 'id="winners"' not in page.text
    closed = await client.post(f"{path}/close", data={"csrf": held["csrf"]}, headers=headers)
    assert (closed.status_code, closed.headers["location"]) == (303, path)
    judging = await client.get(path, headers=headers)
    assert '<span id="status">judging</span>' in judging.text
    too_many = await client.post(
        f"{path}/winners", data={"csrf": held["csrf"], "memory_ids": entries}, headers=headers
    )
    assert too_many.status_code == 422
    assert "at most 1 winners" in too_many.text
    chosen = await client.post(
        f"{path}/winners", data={"csrf": held["csrf"], "memory_ids": [entries[1]]}, headers=headers
    )
    assert chosen.status_code == 303
    mission_id = path.rsplit("/", 1)[1]
    seen = await client.get(f"/v1/missions/{mission_id}/entries", headers=theo.headers)
    winners = {e["memory"]["id"]: e["winner"] for e in seen.json()["items"]}
    assert winners == {entries[0]: False, entries[1]: True}
    again = await client.post(
        f"{path}/winners", data={"csrf": held["csrf"], "memory_ids": [entries[0]]}, headers=headers
    )
    assert again.status_code == 409
    assert "already chosen" in again.text
