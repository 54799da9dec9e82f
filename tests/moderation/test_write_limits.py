"""Every write kind is limited per account, counted in PostgreSQL, answered 429."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from keepsake.config import Settings
from keepsake.main import create_app
from keepsake.write_limits import Write
from tests.conftest import running
from tests.profiles.test_profiles import assert_problem

SignUp = Callable[..., Any]
SOMEONE = str(uuid.uuid4())
ROUTES = {
    Write.uploads: ("POST", "/v1/uploads"),
    Write.memories: ("POST", "/v1/memories"),
    Write.claps: ("POST", f"/v1/memories/{SOMEONE}/claps"),
    Write.follows: ("POST", "/v1/users/nobody/follow"),
    Write.reports: ("POST", "/v1/reports"),
    Write.blocks: ("POST", "/v1/users/nobody/block"),
    Write.profile_edits: ("PATCH", "/v1/me"),
    Write.devices: ("POST", "/v1/devices"),
    Write.appeals: ("POST", f"/v1/me/strikes/{SOMEONE}/appeal"),
}


def test_every_kind_has_a_route() -> None:
    assert set(ROUTES) == set(Write)


@pytest.mark.parametrize("kind", list(Write))
async def test_a_write_past_its_limit_gets_429(
    make_settings: Callable[..., Settings], sign_up: SignUp, kind: Write
) -> None:
    mina = await sign_up("mina")
    method, path = ROUTES[kind]
    app = create_app(make_settings(**{f"rate_limit_{kind.value}_per_hour": 2}))
    async with running(app) as client:
        for _ in range(2):
            response = await client.request(method, path, json={}, headers=mina.headers)
            assert response.status_code != 429
        refused = await client.request(method, path, json={}, headers=mina.headers)
        assert_problem(refused, 429, "rate_limited")
        assert int(refused.headers["Retry-After"]) > 0
        # Counted per account: someone else still gets through.
        theo = await sign_up("theo")
        assert (
            await client.request(method, path, json={}, headers=theo.headers)
        ).status_code != 429
