"""Refresh rotation under real concurrency: one of two racing refreshes wins, the other is reuse."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from tests.accounts.test_sessions import bearer

SignUp = Callable[..., Any]


async def test_racing_refreshes_with_one_token_leave_no_hidden_session(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    member = await sign_up("mina")
    token = member.refresh_token
    for _ in range(10):
        body = {"refresh_token": token}
        # Two requests at once, each on its own database connection.
        first, second = await asyncio.gather(
            client.post("/v1/auth/refresh", json=body), client.post("/v1/auth/refresh", json=body)
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 401], (first.text, second.text)
        winner, loser = (first, second) if first.status_code == 200 else (second, first)
        assert loser.json()["code"] == "refresh_token_reused"
        # The loser counts as reuse: the whole session ends, the winner's tokens included.
        fresh = winner.json()["tokens"]
        again = await client.post(
            "/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
        )
        assert again.json()["code"] == "invalid_refresh_token"
        me = await client.get("/v1/me", headers=bearer(fresh["access_token"]))
        assert me.status_code == 401
        signed_in = await client.post(
            "/v1/auth/login", json={"email": member.email, "password": "a quiet walk by the sea"}
        )
        token = signed_in.json()["tokens"]["refresh_token"]
