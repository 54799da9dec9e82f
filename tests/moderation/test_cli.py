"""`keepsake admin reports | suspend | unsuspend | hide-memory` act as the API does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.cli import main
from tests.conftest import PASSWORD
from tests.fixtures.feed_helpers import seed_memory
from tests.moderation.helpers import moderator, report
from tests.profiles.test_profiles import assert_problem

SignUp = Callable[..., Any]


async def test_operator_commands(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    sign_up: SignUp,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KEEPSAKE_DATABASE_URL", database_url)
    mina, theo = await sign_up("mina"), await sign_up("theo")
    mod = await moderator(engine, await sign_up("mod"))
    memory = await seed_memory(engine, mina)
    assert (await report(client, theo, "memory", memory, "illegal")).status_code == 201

    async def run(*args: str) -> int:
        return await asyncio.to_thread(main, ["admin", *args])

    assert await run("reports", "--as", "mod") == 0
    assert memory in capsys.readouterr().out
    assert await run("hide-memory", memory, "--reason", "Unlawful.", "--as", "@mod") == 0
    assert_problem(
        await client.get(f"/v1/memories/{memory}", headers=theo.headers), 404, "memory_not_found"
    )
    assert await run("suspend", "theo", "--reason", "Spam.", "--as", "mod") == 0
    login = {"email": theo.email, "password": PASSWORD}
    assert_problem(await client.post("/v1/auth/login", json=login), 403, "account_suspended")
    assert await run("unsuspend", "@theo", "--reason", "Appeal by mail.", "--as", "mod") == 0
    assert (await client.post("/v1/auth/login", json=login)).status_code == 200
    assert await run("suspend", "theo", "--reason", "x", "--as", "theo") == 1
    assert "not a moderator" in capsys.readouterr().err
    log = await client.get("/v1/admin/audit-log", headers=mod.headers)
    assert [(e["action"], e["actor"]["handle"]) for e in log.json()["items"]] == [
        ("unsuspend", "mod"),
        ("suspend", "mod"),
        ("hide", "mod"),
    ]
