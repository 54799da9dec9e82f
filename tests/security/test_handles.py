"""Handles are ASCII, checked before any case folding, with dots only between characters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.accounts.test_signup_login import assert_problem, signup_body

SignUp = Callable[..., Any]


@pytest.mark.parametrize(
    ("handle", "code"),
    [
        ("\u212akk", "invalid_handle"),  # the Kelvin sign, which lower() turns into `k`
        ("...", "invalid_handle"),
        (".mina", "invalid_handle"),
        ("mina.", "invalid_handle"),
        ("mi..na", "invalid_handle"),
        ("ad.min", "handle_reserved"),
        ("sup_port", "handle_reserved"),
    ],
)
async def test_lookalike_and_dotted_handles_are_refused(
    client: httpx.AsyncClient, handle: str, code: str
) -> None:
    response = await client.post("/v1/auth/signup", json=signup_body(handle=handle))
    assert_problem(response, 422, code)


async def test_a_kelvin_sign_does_not_resolve_to_kkk(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    await client.post("/v1/auth/signup", json=signup_body(handle="\u212akk", email="k@x.org"))
    found = await client.get("/v1/users/kkk", headers=mina.headers)
    assert_problem(found, 404, "user_not_found")
    dotted = await sign_up("mi.na")
    assert dotted.handle == "mi.na"
