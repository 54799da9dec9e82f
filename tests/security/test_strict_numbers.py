"""Request numbers are strict: apps send JSON numbers, and nothing else is coerced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.accounts.test_signup_login import assert_problem
from tests.fixtures.feed_helpers import seed_memory

SignUp = Callable[..., Any]


@pytest.mark.parametrize("count", ["3", 3.0, True])
async def test_clap_count_must_be_an_integer(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine, count: object
) -> None:
    mina, jun = await sign_up("mina"), await sign_up("jun")
    memory_id = await seed_memory(engine, mina)
    response = await client.post(
        f"/v1/memories/{memory_id}/claps", json={"count": count}, headers=jun.headers
    )
    assert_problem(response, 422, "validation_error")
    fine = await client.post(
        f"/v1/memories/{memory_id}/claps", json={"count": 3}, headers=jun.headers
    )
    assert fine.status_code < 300, fine.text
