"""The operator console: who may sign in, CSRF on every form, no page without a session."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from keepsake.security import AccessClaims, utcnow
from keepsake.web.console import session, totp
from tests.conftest import PASSWORD, Member
from tests.fixtures.console import cookie_header, form, operator, sign_in

SignUp = Callable[..., Any]


def test_codes_match_rfc_6238() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    # RFC 6238 appendix B (SHA-1), cut to six digits.
    assert totp.code_at(secret, 59 // 30) == "287082"
    assert totp.code_at(secret, 1111111109 // 30) == "081804"
    assert totp.verify(secret, "081804", now=1111111109 + 30)
    assert not totp.verify(secret, "081804", now=1111111109 + 90)


async def _sessions(client: httpx.AsyncClient, member: Member) -> list[dict[str, Any]]:
    listed = await client.get("/v1/me/sessions", headers=member.headers)
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


async def test_a_moderator_signs_in_with_the_second_factor(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    mod = await sign_up("mod")
    await operator(engine, mod, "moderator")

    wrong, _ = await sign_in(client, mod, code="000000")
    assert wrong.status_code == 403
    assert len(await _sessions(client, mod)) == 1

    response, cookies = await sign_in(client, mod)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("keepsake_console=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" in cookie
    assert "Max-Age=28800" in cookie
    home = await client.get("/admin", headers=cookie_header(cookies))
    assert home.status_code == 200
    assert "Signed in as mod (moderator)" in home.text
    assert home.headers["content-security-policy"].startswith("default-src 'self'")

    # The console session is a row of the account's sessions: ending it ends the console.
    console_session = next(s for s in await _sessions(client, mod) if not s["current"])
    ended = await client.delete(f"/v1/me/sessions/{console_session['id']}", headers=mod.headers)
    assert ended.status_code == 204
    after = await client.get("/admin", headers=cookie_header(cookies))
    assert (after.status_code, after.headers["location"]) == (303, "/admin/login")


async def test_a_normal_user_cannotsign_in(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    mina = await sign_up("mina")
    await operator(engine, mina, "user")

    response, _ = await sign_in(client, mina)

    assert response.status_code == 403
    assert "cannot use the console" in response.text
    assert "keepsake_console=" not in response.headers.get("set-cookie", "")
    assert len(await _sessions(client, mina)) == 1


async def test_forms_without_their_csrf_token_are_refused(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    admin = await sign_up("boss")
    await operator(engine, admin, "admin")
    held = await form(client, "/admin/login", {})
    held.pop("csrf")
    data = {"email": admin.email, "password": PASSWORD, "code": "000000"}
    refused = await client.post("/admin/login", data=data, headers=cookie_header(held))
    assert refused.status_code == 403

    _, cookies = await sign_in(client, admin)
    held = await form(client, "/admin/music", cookies)
    track = uuid.uuid4()
    acts = ("memories/{}/hide", "memories/{}/restore", "reports/{}/dismiss", "appeals/{}/decide")
    paths = [f"/admin/{act.format(track)}" for act in acts]
    paths += ["/admin/users/boss/suspend", "/admin/users/boss/unsuspend"]
    for path in ("/admin/logout", f"/admin/music/{track}/remove", *paths):
        for token in (None, "0" * 64):
            data = {"reason": "Rule 3.", "decision": "upheld"}
            data |= {"csrf": token} if token else {}
            refused = await client.post(path, data=data, headers=cookie_header(cookies))
            assert refused.status_code == 403, path
    still = await client.get("/admin", headers=cookie_header(cookies))
    assert still.status_code == 200
    logout = await client.post(
        "/admin/logout", data={"csrf": held["csrf"]}, headers=cookie_header(cookies)
    )
    assert logout.status_code == 303


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # FastAPI keeps an included router whole, behind `original_router`.
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def console_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every console route of the app, its path parameters filled with some value."""
    values = {"action": "hide", "handle": "someone"}
    routes = []
    for route in _api_routes(app.routes):
        if route.path.startswith("/admin"):
            path = re.sub(
                r"\{(\w+)\}", lambda m: values.get(m.group(1), str(uuid.uuid4())), route.path
            )
            methods = route.methods or set()
            routes += [(method, path) for method in methods if path != "/admin/login"]
    return routes


async def test_no_console_page_without_a_console_session(
    app: FastAPI, client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    mina = await sign_up("mina")
    mod = await sign_up("mod")
    await operator(engine, mod, "moderator")
    _, moderator = await sign_in(client, mod)
    # A console cookie of a normal user: a moderator demoted since signing in.
    demoted = await sign_up("demoted")
    await operator(engine, demoted, "moderator")
    _, demoted_cookies = await sign_in(client, demoted)
    await operator(engine, demoted, "user")
    forged = session.issue(
        app.state.settings,
        AccessClaims(uuid.UUID(mina.id), uuid.uuid4()),
        now=utcnow(),
    )
    routes = console_routes(app)
    for page in ("/admin", "/admin/music", "/admin/reports", "/admin/audit", "/admin/missions"):
        assert ("GET", page) in routes

    for method, path in routes:
        anonymous = await client.request(method, path)
        assert anonymous.status_code == 303, (method, path)
        assert anonymous.headers["location"] == "/admin/login"
        with_api_token = await client.request(method, path, headers=mina.headers)
        assert with_api_token.status_code == 303, (method, path)
        unknown_session = await client.request(
            method, path, headers=cookie_header({session.COOKIE: forged})
        )
        assert unknown_session.status_code == 303, (method, path)
        as_user = await client.request(method, path, headers=cookie_header(demoted_cookies))
        assert as_user.status_code == 403, (method, path)
    for admins_only in ("/admin/music", "/admin/missions"):
        refused = await client.get(admins_only, headers=cookie_header(moderator))
        assert refused.status_code == 403


async def test_an_admin_renames_and_removes_a_track(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    admin = await sign_up("boss")
    await operator(engine, admin, "admin")
    track = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO music_tracks (id, title, artist, duration_s, storage_key)"
                " VALUES (:id, 'Slow Morning', 'Mina', 30, :key)"
            ),
            {"id": track, "key": f"music/{track}"},
        )
    _, cookies = await sign_in(client, admin)
    held = await form(client, "/admin/music", cookies)
    csrf, headers = held["csrf"], cookie_header(cookies)

    renamed = await client.post(
        f"/admin/music/{track}",
        data={"csrf": csrf, "title": "Slow <Evening>", "artist": "Mina"},
        headers=headers,
    )
    assert renamed.status_code == 303
    page = await client.get("/admin/music", headers=headers)
    assert 'value="Slow &lt;Evening&gt;"' in page.text
    removed = await client.post(
        f"/admin/music/{track}/remove", data={"csrf": csrf}, headers=headers
    )
    assert removed.status_code == 303
    assert str(track) not in (await client.get("/admin/music", headers=headers)).text
    again = await client.post(f"/admin/music/{track}/remove", data={"csrf": csrf}, headers=headers)
    assert again.status_code == 404
