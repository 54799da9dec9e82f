"""Moderating from the console: the queue, a target's page, each action with its reason
through the same service as `/v1/admin/...`, appeals and the audit log."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Member
from tests.fixtures.console import cookie_header, form, operator, sign_in
from tests.fixtures.feed_helpers import seed_memory
from tests.moderation.helpers import report
from tests.web.html_checks import parse_strict

SignUp = Callable[..., Any]


async def _audit(client: httpx.AsyncClient, mod: Member) -> list[tuple[str, str]]:
    log = await client.get("/v1/admin/audit-log?limit=100", headers=mod.headers)
    assert log.status_code == 200, log.text
    return [(e["action"], e["reason"]) for e in log.json()["items"]]


async def _post(
    client: httpx.AsyncClient, cookies: dict[str, str], path: str, **data: str
) -> httpx.Response:
    return await client.post(path, data=data, headers=cookie_header(cookies))


async def test_a_moderator_works_the_queue_and_every_action_is_audited(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    mod = await sign_up("mod")
    await operator(engine, mod, "moderator")
    memory = await seed_memory(engine, mina, caption="at the <b>sea</b>")
    urgent = await seed_memory(engine, mina, caption="later")
    for who, reason in ((theo, "violence"), (ada, "spam")):
        assert (await report(client, who, "memory", memory, reason)).status_code == 201
    assert (await report(client, ada, "memory", urgent, "self_harm")).status_code == 201
    _, cookies = await sign_in(client, mod)
    headers = cookie_header(cookies)

    queue = await client.get("/admin/reports", headers=headers)
    assert queue.status_code == 200
    parse_strict(queue.text)
    rows = re.findall(r'<a href="/admin/reports/([0-9a-f-]+)">', queue.text)
    assert len(rows) == 2
    # Urgent first; then one row per target with its count and reasons.
    assert "self_harm" in queue.text.split(rows[1])[0]
    assert "<td>2</td>" in queue.text
    assert "spam, violence" in queue.text
    case_path = f"/admin/reports/{rows[1]}"
    held = await form(client, case_path, cookies)
    case = await client.get(case_path, headers=headers)
    assert f'action="/admin/memories/{memory}/hide"' in case.text
    assert "at the &lt;b&gt;sea&lt;/b&gt;" in case.text
    assert re.search(r'<video class="clip" src="[^"]+\.mp4', case.text)
    csrf = held["csrf"]

    # Errors are pages: a missing reason, then an action already done.
    missing = await _post(client, cookies, f"/admin/memories/{memory}/hide", csrf=csrf)
    assert missing.status_code == 422
    assert missing.headers["content-type"].startswith("text/html")
    assert "reason" in missing.text
    hidden = await _post(
        client,
        cookies,
        f"/admin/memories/{memory}/hide",
        csrf=csrf,
        reason="Shows an address.",
        report=rows[1],
    )
    assert (hidden.status_code, hidden.headers["location"]) == (303, case_path)
    assert (await client.get(f"/v1/memories/{memory}", headers=theo.headers)).status_code == 404
    again = await _post(client, cookies, f"/admin/memories/{memory}/hide", csrf=csrf, reason="x")
    assert again.status_code == 409
    assert "already hidden" in parse_strict(again.text).findtext(".//li", "")
    assert 'id="hidden"' in (await client.get(case_path, headers=headers)).text

    restored = await _post(
        client, cookies, f"/admin/memories/{memory}/restore", csrf=csrf, reason="Address blurred."
    )
    assert restored.status_code == 303
    assert (await client.get(f"/v1/memories/{memory}", headers=theo.headers)).status_code == 200
    dismissed = await _post(
        client, cookies, f"/admin/reports/{rows[0]}/dismiss", csrf=csrf, reason="Not self-harm."
    )
    assert (dismissed.status_code, dismissed.headers["location"]) == (303, "/admin/reports")
    suspended = await _post(
        client,
        cookies,
        "/admin/users/mina/suspend",
        csrf=csrf,
        reason="Spam run.",
        until="2999-01-01T00:00",
    )
    assert suspended.status_code == 303
    me = await client.get("/v1/me", headers=mina.headers)
    assert me.status_code == 401
    unsuspended = await _post(
        client, cookies, "/admin/users/mina/unsuspend", csrf=csrf, reason="Lifted early."
    )
    assert unsuspended.status_code == 303

    assert await _audit(client, mod) == [
        ("unsuspend", "Lifted early."),
        ("suspend", "Spam run."),
        ("dismiss", "Not self-harm."),
        ("restore", "Address blurred."),
        ("hide", "Shows an address."),
    ]
    # The console's audit page: newest first, keyset-paged.
    first = await client.get("/admin/audit?limit=3", headers=headers)
    parse_strict(first.text)
    assert first.text.index("Lifted early.") < first.text.index("Spam run.")
    assert "Shows an address." not in first.text
    older = re.search(r'href="(/admin/audit\?cursor=[^"]+)" rel="next"', first.text)
    assert older
    second = await client.get(older.group(1).replace("&amp;", "&") + "&limit=3", headers=headers)
    assert "Shows an address." in second.text
    assert "Spam run." not in second.text
    bad = await client.get("/admin/audit?cursor=nonsense", headers=headers)
    assert bad.status_code == 422
    assert "<h1>" in bad.text


async def test_an_appeal_is_decided_in_the_console(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    mod, other = await sign_up("mod"), await sign_up("other")
    await operator(engine, mod, "moderator")
    await operator(engine, other, "moderator")
    memory = await seed_memory(engine, mina)
    assert (await report(client, theo, "memory", memory, "spam")).status_code == 201
    _, cookies = await sign_in(client, mod)
    held = await form(client, "/admin/reports", cookies)
    hidden = await _post(
        client, cookies, f"/admin/memories/{memory}/hide", csrf=held["csrf"], reason="Spam."
    )
    assert hidden.status_code == 303
    strikes = (await client.get("/v1/me/strikes", headers=mina.headers)).json()["items"]
    appealed = await client.post(
        f"/v1/me/strikes/{strikes[0]['id']}/appeal",
        json={"text": "It is my own <garden>."},
        headers=mina.headers,
    )
    assert appealed.status_code == 201, appealed.text

    held = await form(client, "/admin/appeals", cookies)
    page = await client.get("/admin/appeals", headers=cookie_header(cookies))
    assert "It is my own &lt;garden&gt;." in page.text
    appeal = re.search(r'action="/admin/appeals/([0-9a-f-]+)/decide"', page.text)
    assert appeal
    path = f"/admin/appeals/{appeal.group(1)}/decide"
    same = await _post(
        client, cookies, path, csrf=held["csrf"], decision="reversed", reason="Mine."
    )
    assert same.status_code == 403
    assert "Another moderator" in same.text

    _, second = await sign_in(client, other)
    held = await form(client, "/admin/appeals", second)
    decided = await _post(
        client, second, path, csrf=held["csrf"], decision="reversed", reason="A garden, fine."
    )
    assert (decided.status_code, decided.headers["location"]) == (303, "/admin/appeals")
    assert (await client.get(f"/v1/memories/{memory}", headers=theo.headers)).status_code == 200
    assert (await _audit(client, mod))[0] == ("appeal_reversed", "A garden, fine.")
    done = await client.get("/admin/appeals?status=reversed", headers=cookie_header(second))
    assert "A garden, fine." in done.text
