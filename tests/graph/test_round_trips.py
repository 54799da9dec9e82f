"""What a follow, an unfollow and a profile read cost in statements, once the viewer's
session is in the process's cache and a lease of write-limit hits is held (as from a
token's second write on)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from tests.graph.test_graph import statements

SignUp = Callable[..., Any]


async def test_follow_unfollow_and_profile_statement_budgets(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    # The first write also claims the token's session into the cache and a lease of
    # write-limit hits; both are then spent without a round trip.
    await client.post("/v1/users/mina/follow", headers=theo.headers)
    await client.delete("/v1/users/mina/follow", headers=theo.headers)
    costs = {}
    for name, method, path, expected in (
        ("follow", "POST", "/v1/users/mina/follow", 200),
        ("unfollow", "DELETE", "/v1/users/mina/follow", 204),
        ("profile", "GET", "/v1/users/mina", 200),
    ):
        with statements(app) as seen:
            response = await client.request(method, path, headers=theo.headers)
        assert response.status_code == expected, response.text
        costs[name] = len(seen)
    # Follow: the person, the edge, the recipient's preferences and the notification (it
    # joins the unread one of the warm-up, so no push job). Unfollow: the person and the
    # edge. A profile: the person.
    assert costs == {"follow": 4, "unfollow": 2, "profile": 1}
    followers = await client.get("/v1/users/mina/followers", headers=mina.headers)
    assert followers.json()["items"] == []
