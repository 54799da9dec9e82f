"""The pages the emails link to: a GET never uses the token, a POST does, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.config import Settings
from keepsake.main import create_app
from tests.conftest import PASSWORD, emailed_token, reset_token, running
from tests.web.html_checks import foreign_urls, meta, parse_strict

SignUp = Callable[..., Any]
NEW_PASSWORD = "a brighter morning by the river"


def _link_page_headers(response: httpx.Response) -> None:
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-robots-tag"] == "noindex"
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/me", headers=headers)
    assert response.status_code == 200
    me: dict[str, Any] = response.json()
    return me


async def test_verify_email_page_confirms_on_post_only(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    mina = await sign_up("mina")
    token = emailed_token(settings.outbox_dir, mina.email, "Confirm")

    for _ in range(2):
        shown = await client.get("/verify-email", params={"token": token})
        assert shown.status_code == 200
        _link_page_headers(shown)
        document = parse_strict(shown.text)
        assert meta(document, "robots") == "noindex"
        assert document.get("lang") == "en"
        assert foreign_urls(shown.text, settings.public_url) == []
    assert (await _me(client, mina.headers))["email_verified"] is False

    done = await client.post("/verify-email", data={"token": token})
    assert done.status_code == 200
    _link_page_headers(done)
    parse_strict(done.text)
    assert 'id="done"' in done.text
    assert (await _me(client, mina.headers))["email_verified"] is True

    again = await client.post("/verify-email", data={"token": token})
    assert again.status_code == 400
    assert 'id="used"' in again.text
    assert "ask for a new" in again.text
    garbage = await client.post("/verify-email", data={"token": "x" * 500})
    assert garbage.status_code == 422


@pytest.mark.usefixtures("worker")
async def test_reset_password_page_keeps_the_api_rules(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    mina = await sign_up("mina")
    token = await reset_token(client, settings.outbox_dir, mina.email)

    shown = await client.get("/reset-password", params={"token": token})
    assert shown.status_code == 200
    _link_page_headers(shown)
    parse_strict(shown.text)
    assert foreign_urls(shown.text, settings.public_url) == []

    form = {"token": token, "new_password": NEW_PASSWORD, "new_password_again": "different"}
    differ = await client.post("/reset-password", data=form)
    assert differ.status_code == 400
    assert "differ" in differ.text
    weak = await client.post(
        "/reset-password",
        data={"token": token, "new_password": "password", "new_password_again": "password"},
    )
    assert weak.status_code == 400
    assert "at least 10" in weak.text
    parse_strict(weak.text)

    form["new_password_again"] = NEW_PASSWORD
    done = await client.post("/reset-password", data=form)
    assert done.status_code == 200
    assert "signed out" in done.text
    # Every session ended; the new password signs in, the old one not.
    assert (await client.get("/v1/me", headers=mina.headers)).status_code == 401
    login = {"email": mina.email, "password": NEW_PASSWORD}
    assert (await client.post("/v1/auth/login", json=login)).status_code == 200
    old = {"email": mina.email, "password": PASSWORD}
    assert (await client.post("/v1/auth/login", json=old)).status_code == 401

    used = await client.post("/reset-password", data=form)
    assert used.status_code == 400
    assert 'id="used"' in used.text


async def test_an_expired_link_gets_a_clear_page(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings, engine: AsyncEngine
) -> None:
    mina = await sign_up("mina")
    token = emailed_token(settings.outbox_dir, mina.email, "Confirm")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE one_time_tokens SET expires_at = now()"))

    response = await client.post("/verify-email", data={"token": token})

    assert response.status_code == 400
    assert "expired" in response.text


async def test_link_pages_are_rate_limited(
    make_settings: Callable[..., Settings], sign_up: SignUp
) -> None:
    app: FastAPI = create_app(make_settings(rate_limit_password_per_ip=2))
    async with running(app) as client:
        answers = [
            (await client.post("/verify-email", data={"token": "nope"})).status_code
            for _ in range(3)
        ]
        assert answers == [400, 400, 429]
        limited = await client.post("/verify-email", data={"token": "nope"})
        assert int(limited.headers["retry-after"]) > 0
        assert "Too many attempts" in limited.text
