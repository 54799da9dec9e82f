"""A hidden memory is gone from every read path for everyone but its author."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Member
from tests.fixtures.feed_helpers import EXPLORE, HOME, ids, seed_memory
from tests.graph.test_graph import follow, statements
from tests.moderation.helpers import act, moderator, report
from tests.profiles.test_profiles import assert_problem

SignUp = Callable[..., Any]
TAG = "/v1/hashtags/sea/memories"


async def _paths(client: httpx.AsyncClient, viewer: Member, memory: str) -> dict[str, bool]:
    """Whether the memory shows on each read path, for the viewer."""
    one = await client.get(f"/v1/memories/{memory}", headers=viewer.headers)
    return {
        "home": memory in await ids(client, viewer, HOME),
        "explore": memory in await ids(client, viewer, EXPLORE),
        "hashtag": memory in await ids(client, viewer, TAG),
        "person": memory in await ids(client, viewer, "/v1/users/mina/memories"),
        "read": one.status_code == 200,
    }


async def test_hide_and_restore_walk_every_read_path(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    mod = await moderator(engine, await sign_up("mod"))
    await follow(client, theo, "mina")
    memory = await seed_memory(engine, mina, caption="at the #sea")
    everywhere = dict.fromkeys(("home", "explore", "hashtag", "person", "read"), True)
    assert await _paths(client, theo, memory) == everywhere
    for who in (theo, ada):
        assert (await report(client, who, "memory", memory, "violence")).status_code == 201

    hidden = await act(client, mod, f"/memories/{memory}/hide", reason="Shows an address.")
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["action"] == "hide"
    assert_problem(await act(client, mod, f"/memories/{memory}/hide"), 409, "already_done")
    assert await _paths(client, theo, memory) == dict.fromkeys(everywhere, False)
    assert_problem(
        await client.post(f"/v1/memories/{memory}/claps", json={"count": 1}, headers=theo.headers),
        404,
        "memory_not_found",
    )
    # The author still sees it, marked, without media.
    own = (await client.get(f"/v1/memories/{memory}", headers=mina.headers)).json()
    assert own["moderation"] == {"status": "hidden", "reason": "Shows an address."}
    assert own["clips"][0]["video_url"] is None
    assert memory in await ids(client, mina, "/v1/users/mina/memories")
    # The reports were resolved; each reporter is told once, never how.
    for who in (theo, ada):
        mine = (await client.get("/v1/me/reports", headers=who.headers)).json()["items"]
        assert [r["status"] for r in mine] == ["actioned"]
        told = (await client.get("/v1/notifications", headers=who.headers)).json()["items"]
        assert [n["kind"] for n in told] == ["reports_resolved"]
        assert told[0]["memory"] is None
    strikes = (await client.get("/v1/me/strikes", headers=mina.headers)).json()["items"]
    assert [(s["action"], s["target"]["id"]) for s in strikes] == [("hide", memory)]
    kinds = [
        n["kind"]
        for n in (await client.get("/v1/notifications", headers=mina.headers)).json()["items"]
    ]
    assert kinds == ["moderation", "follow"]
    # The moderator still sees it, media included.
    queue_case = await client.get(
        "/v1/admin/audit-log", params={"target": memory}, headers=mod.headers
    )
    assert [e["action"] for e in queue_case.json()["items"]] == ["hide"]

    restored = await act(client, mod, f"/memories/{memory}/restore")
    assert restored.status_code == 200, restored.text
    assert await _paths(client, theo, memory) == everywhere
    strikes = (await client.get("/v1/me/strikes", headers=mina.headers)).json()["items"]
    assert strikes[0]["ended_at"] is not None


async def test_who_may_act_on_whom(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    from keepsake.accounts.models import Role

    mod = await moderator(engine, await sign_up("mod"))
    await moderator(engine, await sign_up("othermod"))
    boss = await moderator(engine, await sign_up("boss"), Role.admin)
    own = await seed_memory(engine, mod)
    assert_problem(await act(client, mod, f"/memories/{own}/hide"), 403, "cannot_moderate")
    assert_problem(await act(client, mod, "/users/boss/suspend"), 403, "cannot_moderate")
    assert_problem(await act(client, mod, "/users/mod/suspend"), 403, "cannot_moderate")
    assert (await act(client, boss, "/users/othermod/suspend")).status_code == 200


async def test_a_hide_takes_few_statements(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    mod = await moderator(engine, await sign_up("mod"))
    memory = await seed_memory(engine, mina)
    assert (await report(client, theo, "memory", memory)).status_code == 201
    with statements(app) as seen:
        assert (await act(client, mod, f"/memories/{memory}/hide")).status_code == 200
    writes = [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    # The moderator (auth), the memory locked, its author, the update, its mission entry
    # (none here), the audit entry, the strike, the author's notification and its push job,
    # resolving the reports, the reporter's notification and its push job.
    assert len(writes) == 12, "\n".join(w.split("\n")[0][:60] for w in writes)
