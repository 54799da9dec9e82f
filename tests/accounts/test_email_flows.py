"""Email verification and password reset: single-use, expiring tokens sent by email."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.config import Settings
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import PASSWORD, emailed_token, reset_token
from tests.fixtures.polling import eventually

SignUp = Callable[..., Any]
NEW_PASSWORD = "lanterns over the harbour"


async def test_verify_email_once(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    member = await sign_up("mina")
    token = emailed_token(settings.outbox_dir, member.email, "Confirm your email")
    assert (await client.post("/v1/auth/email/verify", json={"token": token})).status_code == 204
    me = await client.get("/v1/me", headers=member.headers)
    assert me.json()["email_verified"] is True
    again = await client.post("/v1/auth/email/verify", json={"token": token})
    assert_problem(again, 400, "invalid_link_token")


async def test_resend_replaces_the_old_link(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    member = await sign_up("mina")
    old = emailed_token(settings.outbox_dir, member.email, "Confirm your email")
    response = await client.post("/v1/auth/email/resend", headers=member.headers)
    assert response.status_code == 202
    new = emailed_token(settings.outbox_dir, member.email, "Confirm your email")
    assert new != old
    assert_problem(
        await client.post("/v1/auth/email/verify", json={"token": old}), 400, "invalid_link_token"
    )
    assert (await client.post("/v1/auth/email/verify", json={"token": new})).status_code == 204


async def test_expired_verification_token(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings, engine: AsyncEngine
) -> None:
    member = await sign_up("mina")
    token = emailed_token(settings.outbox_dir, member.email, "Confirm your email")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE one_time_tokens SET expires_at = now() - interval '1s'"))
    assert_problem(
        await client.post("/v1/auth/email/verify", json={"token": token}), 400, "invalid_link_token"
    )


@pytest.mark.usefixtures("worker")
async def test_password_reset_flow(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    member = await sign_up("mina")
    token = await reset_token(
        client, settings.outbox_dir, member.email, asked_as="MINA@example.com"
    )

    weak = await client.post(
        "/v1/auth/password/reset", json={"token": token, "new_password": "password12"}
    )
    assert_problem(weak, 422, "weak_password")

    done = await client.post(
        "/v1/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    # Every old session ends; the old password no longer works; the new one does.
    assert_problem(await client.get("/v1/me", headers=member.headers), 401, "session_revoked")
    old = await client.post("/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert_problem(old, 401, "invalid_credentials")
    new = await client.post(
        "/v1/auth/login", json={"email": member.email, "password": NEW_PASSWORD}
    )
    assert new.status_code == 200
    assert new.json()["user"]["email_verified"] is True

    reused = await client.post(
        "/v1/auth/password/reset", json={"token": token, "new_password": "yet another phrase!"}
    )
    assert_problem(reused, 400, "invalid_link_token")


@pytest.mark.usefixtures("worker")
async def test_forgot_password_does_not_reveal_accounts(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings, app: FastAPI
) -> None:
    member = await sign_up("mina")
    await reset_token(client, settings.outbox_dir, member.email)
    before = set(settings.outbox_dir.glob("*.eml"))
    response = await client.post("/v1/auth/password/forgot", json={"email": "ghost@example.com"})
    assert response.status_code == 202
    # The same work as for an account, a job each (so the timing is alike); the ghost's
    # job sends nothing.

    async def both_done() -> bool:
        async with app.state.engine.connect() as conn:
            # Jobs deferred by the answered request; the worker may delete finished ones.
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
                    " AND task_name = 'accounts:send_reset_link'"
                )
            )
        return bool(waiting == 0)

    await eventually(both_done, what="the reset jobs done")
    assert set(settings.outbox_dir.glob("*.eml")) == before


async def test_reset_with_unknown_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/password/reset", json={"token": "made-up", "new_password": NEW_PASSWORD}
    )
    assert_problem(response, 400, "invalid_link_token")


@pytest.mark.usefixtures("worker")
async def test_reset_token_expires(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI, settings: Settings
) -> None:
    member = await sign_up("mina")
    token = await reset_token(client, settings.outbox_dir, member.email)
    assert settings.password_reset_ttl == timedelta(hours=1)
    async with app.state.engine.begin() as conn:
        await conn.execute(
            text("UPDATE one_time_tokens SET expires_at = now() WHERE purpose = 'reset_password'")
        )
    response = await client.post(
        "/v1/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert_problem(response, 400, "invalid_link_token")
