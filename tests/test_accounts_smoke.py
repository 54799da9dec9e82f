from collections.abc import Callable
from typing import Any

import httpx


async def test_signup_then_me(client: httpx.AsyncClient, sign_up: Callable[..., Any]) -> None:
    member = await sign_up("mina")
    response = await client.get("/v1/me", headers=member.headers)
    assert response.status_code == 200
    assert response.json()["handle"] == "mina"
    assert response.json()["counts"] == {"followers": 0, "following": 0}
