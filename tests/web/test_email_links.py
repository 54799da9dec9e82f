"""The pages the emails link to: a GET never uses the token, a POST does, once; every
page they show, in either language, is valid HTML with no address off this server."""

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


def _checked(response: httpx.Response, settings: Settings, lang: str = "en") -> str:
    """The page's text, once its headers, its HTML and its addresses pass."""
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-robots-tag"] == "noindex"
    assert response.headers["vary"] == "Accept-Language"
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    document = parse_strict(response.text)
    assert document.get("lang") == lang
    assert meta(document, "robots") == "noindex"
    assert foreign_urls(response.text, settings.public_url) == []
    return response.text


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
        assert 'id="confirm"' in _checked(shown, settings)
    assert (await _me(client, mina.headers))["email_verified"] is False

    done = await client.post("/verify-email", data={"token": token})
    assert done.status_code == 200
    assert 'id="done"' in _checked(done, settings)
    assert (await _me(client, mina.headers))["email_verified"] is True

    again = await client.post("/verify-email", data={"token": token})
    assert again.status_code == 400
    used = _checked(again, settings)
    assert 'id="used"' in used
    assert "ask for a new" in used
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
    assert 'minlength="10"' in _checked(shown, settings)

    form = {"token": token, "new_password": NEW_PASSWORD, "new_password_again": "different"}
    differ = await client.post("/reset-password", data=form)
    assert differ.status_code == 400
    assert "differ" in _checked(differ, settings)
    weak = await client.post(
        "/reset-password",
        data={"token": token, "new_password": "password", "new_password_again": "password"},
    )
    assert weak.status_code == 400
    assert "at least 10" in _checked(weak, settings)

    form["new_password_again"] = NEW_PASSWORD
    done = await client.post("/reset-password", data=form)
    assert done.status_code == 200
    assert "signed out" in _checked(done, settings)
    # Every session ended; the new password signs in, the old one not.
    assert (await client.get("/v1/me", headers=mina.headers)).status_code == 401
    login = {"email": mina.email, "password": NEW_PASSWORD}
    assert (await client.post("/v1/auth/login", json=login)).status_code == 200
    old = {"email": mina.email, "password": PASSWORD}
    assert (await client.post("/v1/auth/login", json=old)).status_code == 401

    used = await client.post("/reset-password", data=form)
    assert used.status_code == 400
    assert 'id="used"' in _checked(used, settings)


async def test_an_expired_link_gets_a_clear_page(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings, engine: AsyncEngine
) -> None:
    mina = await sign_up("mina")
    token = emailed_token(settings.outbox_dir, mina.email, "Confirm")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE one_time_tokens SET expires_at = now()"))

    response = await client.post("/verify-email", data={"token": token})

    assert response.status_code == 400
    assert "expired" in _checked(response, settings)


async def test_link_pages_are_rate_limited(
    make_settings: Callable[..., Settings], sign_up: SignUp
) -> None:
    settings = make_settings(rate_limit_password_per_ip=2)
    app: FastAPI = create_app(settings)
    async with running(app) as client:
        answers = [
            (await client.post("/verify-email", data={"token": "nope"})).status_code
            for _ in range(3)
        ]
        assert answers == [400, 400, 429]
        limited = await client.post("/verify-email", data={"token": "nope"})
        assert int(limited.headers["retry-after"]) > 0
        assert "Too many attempts" in _checked(limited, settings)
        korean = {"Accept-Language": "ko-KR,ko;q=0.9"}
        limited = await client.post("/verify-email", data={"token": "nope"}, headers=korean)
        assert "시도가 너무 많아요" in _checked(limited, settings, "ko")


@pytest.mark.usefixtures("worker")
async def test_link_pages_speak_the_viewers_language(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    mina = await sign_up("mina")
    korean = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
    verify = emailed_token(settings.outbox_dir, mina.email, "Confirm")
    reset = await reset_token(client, settings.outbox_dir, mina.email)

    shown = await client.get("/verify-email", params={"token": verify}, headers=korean)
    assert "이메일 주소 확인하기" in _checked(shown, settings, "ko")
    done = await client.post("/verify-email", data={"token": verify}, headers=korean)
    assert "이메일 주소가 확인되었어요" in _checked(done, settings, "ko")
    used = await client.post("/verify-email", data={"token": verify}, headers=korean)
    assert "확인 이메일을 다시 요청해" in _checked(used, settings, "ko")
    # A language the pages do not speak falls back to English.
    french = await client.get(
        "/verify-email", params={"token": verify}, headers={"Accept-Language": "fr"}
    )
    assert "Confirm my email address" in _checked(french, settings)

    form = await client.get("/reset-password", params={"token": reset}, headers=korean)
    assert "새 비밀번호 (10자 이상)" in _checked(form, settings, "ko")
    pair = {"token": reset, "new_password": NEW_PASSWORD}
    differ = await client.post(
        "/reset-password", data=pair | {"new_password_again": "x"}, headers=korean
    )
    assert "두 비밀번호가 서로 달라요" in _checked(differ, settings, "ko")
    short = {"token": reset, "new_password": "short", "new_password_again": "short"}
    weak = await client.post("/reset-password", data=short, headers=korean)
    assert "비밀번호는 10자 이상으로 정해 주세요." in _checked(weak, settings, "ko")
    pair["new_password_again"] = NEW_PASSWORD
    done = await client.post("/reset-password", data=pair, headers=korean)
    assert done.status_code == 200
    assert "모든 기기에서 로그아웃되었어요" in _checked(done, settings, "ko")
    used = await client.post("/reset-password", data=pair, headers=korean)
    assert "비밀번호 찾기" in _checked(used, settings, "ko")
