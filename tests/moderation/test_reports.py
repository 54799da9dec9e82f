"""Reports: who may report what, one open report per reporter and target, the queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.feed_helpers import seed_memory
from tests.moderation.helpers import act, moderator, report
from tests.profiles.test_profiles import assert_problem

SignUp = Callable[..., Any]


async def test_report_rules(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    memory = await seed_memory(engine, mina)
    private = await seed_memory(engine, mina, visibility="only_me")
    first = await report(client, theo, "memory", memory, "harassment")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "open"
    again = await report(client, theo, "memory", memory, "hate")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert_problem(await report(client, mina, "memory", memory), 422, "cannot_report_self")
    assert_problem(await report(client, mina, "user", mina.id), 422, "cannot_report_self")
    assert_problem(await report(client, theo, "memory", private), 404, "memory_not_found")
    assert_problem(await report(client, theo, "user", theo.id[:-4] + "0000"), 404, "user_not_found")
    assert_problem(await report(client, theo, "user", mina.id, "other"), 422, "detail_required")
    extra = await report(client, theo, "user", mina.id, "spam", extra=1)
    assert extra.status_code == 422
    mine = (await client.get("/v1/me/reports", headers=theo.headers)).json()["items"]
    assert [r["id"] for r in mine] == [first.json()["id"]]


async def test_concurrent_repeats_leave_one_report(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    memory = await seed_memory(engine, mina)
    answers = await asyncio.gather(*(report(client, theo, "memory", memory) for _ in range(20)))
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201]
    assert len({a.json()["id"] for a in answers}) == 1


async def test_queue_groups_by_target_urgent_first(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, ada = await sign_up("mina"), await sign_up("ada")
    mod = await moderator(engine, await sign_up("mod"))
    reporters = [await sign_up(f"reporter{i}") for i in range(3)]
    calm, urgent = await seed_memory(engine, mina), await seed_memory(engine, mina)
    for who in reporters:
        assert (await report(client, who, "memory", calm, "spam")).status_code == 201
    assert (await report(client, reporters[0], "user", ada.id, "harassment")).status_code == 201
    assert (await report(client, reporters[1], "memory", urgent, "self_harm")).status_code == 201
    queue = (await client.get("/v1/admin/reports", headers=mod.headers)).json()
    assert [i["target"]["id"] for i in queue["items"]] == [urgent, calm, ada.id]
    assert queue["items"][1]["reports_count"] == 3
    assert queue["items"][0]["urgent"] is True
    paged = (await client.get("/v1/admin/reports?limit=1", headers=mod.headers)).json()
    rest = await client.get(
        "/v1/admin/reports",
        params={"limit": 5, "cursor": paged["next_cursor"]},
        headers=mod.headers,
    )
    assert [i["target"]["id"] for i in rest.json()["items"]] == [calm, ada.id]
    case = await client.get(f"/v1/admin/reports/{queue['items'][1]['id']}", headers=mod.headers)
    assert case.status_code == 200, case.text
    assert len(case.json()["reports"]) == 3
    assert case.json()["memory"]["clips"][0]["video_url"]


async def test_dismissed_target_keeps_later_reports_out_until_edited(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    mod = await moderator(engine, await sign_up("mod"))
    memory = await seed_memory(engine, mina)
    made = (await report(client, theo, "memory", memory)).json()
    dismissed = await act(client, mod, f"/reports/{made['id']}/dismiss")
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "dismissed"
    assert_problem(await act(client, mod, f"/reports/{made['id']}/dismiss"), 409, "report_not_open")
    assert (await report(client, ada, "memory", memory)).status_code == 201
    queue = (await client.get("/v1/admin/reports", headers=mod.headers)).json()["items"]
    assert queue == []
    edit = await client.patch(
        f"/v1/memories/{memory}", json={"caption": "new"}, headers=mina.headers
    )
    assert edit.status_code == 200, edit.text
    assert (await report(client, theo, "memory", memory)).status_code == 201
    queue = (await client.get("/v1/admin/reports", headers=mod.headers)).json()["items"]
    assert [i["reports_count"] for i in queue] == [1]


async def test_a_muted_reporter_is_kept_out_of_the_queue(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    mod = await moderator(engine, await sign_up("mod"))
    assert (await report(client, theo, "user", mina.id)).status_code == 201
    assert (await act(client, mod, "/users/theo/mute-reports")).status_code == 200
    assert (await client.get("/v1/admin/reports", headers=mod.headers)).json()["items"] == []
    mine = (await client.get("/v1/me/reports", headers=theo.headers)).json()["items"]
    assert [r["status"] for r in mine] == ["open"]
