"""Tokens and sessions: rotation, reuse detection, log-out, revocation, bad tokens."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from keepsake.config import Settings
from keepsake.security import AccessClaims, issue_access_token
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import PASSWORD, TEST_JWT_KEY

SignUp = Callable[..., Any]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_refresh_rotates(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    member = await sign_up("mina")
    first = await client.post("/v1/auth/refresh", json={"refresh_token": member.refresh_token})
    assert first.status_code == 200
    tokens = first.json()["tokens"]
    assert tokens["refresh_token"] != member.refresh_token
    second = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert second.status_code == 200
    me = await client.get("/v1/me", headers=bearer(second.json()["tokens"]["access_token"]))
    assert me.status_code == 200


async def test_reused_refresh_token_revokes_the_session(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    member = await sign_up("mina")
    rotated = await client.post("/v1/auth/refresh", json={"refresh_token": member.refresh_token})
    fresh = rotated.json()["tokens"]

    replay = await client.post("/v1/auth/refresh", json={"refresh_token": member.refresh_token})
    assert_problem(replay, 401, "refresh_token_reused")

    # The legitimate holder's newer tokens die with the session.
    after = await client.post("/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert_problem(after, 401, "invalid_refresh_token")
    me = await client.get("/v1/me", headers=bearer(fresh["access_token"]))
    assert_problem(me, 401, "session_revoked")


async def test_reuse_leaves_other_sessions_alone(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    member = await sign_up("mina")
    other = await client.post("/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert other.status_code == 200, other.text
    rotated = await client.post("/v1/auth/refresh", json={"refresh_token": member.refresh_token})
    assert rotated.status_code == 200, rotated.text
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": member.refresh_token})
    assert_problem(replay, 401, "refresh_token_reused")

    me = await client.get("/v1/me", headers=bearer(other.json()["tokens"]["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == member.id
    # The replayed session is gone, the other one still refreshes.
    again = await client.post(
        "/v1/auth/refresh", json={"refresh_token": other.json()["tokens"]["refresh_token"]}
    )
    assert again.status_code == 200, again.text


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 201])
async def test_bad_refresh_tokens(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post("/v1/auth/refresh", json={"refresh_token": token})
    expected = "invalid_refresh_token" if token == "nonsense" else "validation_error"
    assert_problem(response, 401 if token == "nonsense" else 422, expected)


async def test_logout_ends_only_this_session(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    member = await sign_up("mina")
    other = await client.post("/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    response = await client.post("/v1/auth/logout", headers=member.headers)
    assert response.status_code == 204
    assert_problem(await client.get("/v1/me", headers=member.headers), 401, "session_revoked")
    refresh = await client.post("/v1/auth/refresh", json={"refresh_token": member.refresh_token})
    assert_problem(refresh, 401, "invalid_refresh_token")
    still = await client.get("/v1/me", headers=bearer(other.json()["tokens"]["access_token"]))
    assert still.status_code == 200


async def test_list_and_revoke_sessions(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    member = await sign_up("mina")
    for agent in ("phone-a", "phone-b"):
        await client.post(
            "/v1/auth/login",
            json={"email": member.email, "password": PASSWORD},
            headers={"User-Agent": agent},
        )
    first = await client.get("/v1/me/sessions?limit=2", headers=member.headers)
    assert first.status_code == 200
    page = first.json()
    assert [s["user_agent"] for s in page["items"]] == ["phone-b", "phone-a"]
    assert page["next_cursor"]
    rest = await client.get(
        "/v1/me/sessions",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=member.headers,
    )
    assert rest.json()["next_cursor"] is None
    [own] = rest.json()["items"]
    assert own["current"] is True
    assert not any(s["current"] for s in page["items"])

    target = page["items"][0]["id"]
    assert (
        await client.delete(f"/v1/me/sessions/{target}", headers=member.headers)
    ).status_code == 204
    listed = await client.get("/v1/me/sessions", headers=member.headers)
    assert target not in [s["id"] for s in listed.json()["items"]]
    again = await client.delete(f"/v1/me/sessions/{target}", headers=member.headers)
    assert_problem(again, 404, "session_not_found")


async def test_cannot_revoke_someone_elses_session(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    theirs = (await client.get("/v1/me/sessions", headers=theo.headers)).json()["items"][0]["id"]
    response = await client.delete(f"/v1/me/sessions/{theirs}", headers=mina.headers)
    assert_problem(response, 404, "session_not_found")
    assert (await client.get("/v1/me", headers=theo.headers)).status_code == 200


async def test_session_path_must_be_an_id(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    member = await sign_up("mina")
    response = await client.delete("/v1/me/sessions/not-a-uuid", headers=member.headers)
    assert_problem(response, 422, "validation_error")


async def test_bad_cursor_is_422(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    member = await sign_up("mina")
    response = await client.get("/v1/me/sessions?cursor=%%%", headers=member.headers)
    assert_problem(response, 422, "invalid_cursor")


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer", "not_authenticated"),
        ("Basic dXNlcjpwYXNz", "not_authenticated"),
        ("Bearer not.a.jwt", "invalid_access_token"),
        ("Bearer " + "a" * 5000, "invalid_access_token"),
    ],
)
async def test_missing_or_malformed_access_tokens(
    client: httpx.AsyncClient, header: str | None, code: str
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    assert_problem(await client.get("/v1/me", headers=headers), 401, code)


async def test_expired_wrong_key_and_unknown_session_tokens(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    member = await sign_up("mina")
    now = datetime.now(UTC)
    payload = jwt.decode(member.access_token, options={"verify_signature": False})

    expired = jwt.encode(
        {
            **payload,
            "iat": int((now - timedelta(hours=1)).timestamp()),
            "exp": int((now - timedelta(minutes=1)).timestamp()),
        },
        TEST_JWT_KEY,
        algorithm="HS256",
        headers={"kid": "test"},
    )
    wrong_key = jwt.encode(
        payload, "another-key-" + "y" * 32, algorithm="HS256", headers={"kid": "test"}
    )
    unknown_kid = jwt.encode(payload, TEST_JWT_KEY, algorithm="HS256", headers={"kid": "old"})
    # An "alg: none" token: header and claims with an empty signature.
    unsigned = (
        ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"alg": "none", "kid": "test"}, payload)
        )
        + "."
    )
    for token in (expired, wrong_key, unknown_kid, unsigned):
        assert_problem(
            await client.get("/v1/me", headers=bearer(token)), 401, "invalid_access_token"
        )

    claims = AccessClaims(uuid.UUID(member.id), uuid.uuid4())
    no_such_session = issue_access_token(settings, claims, now=now)
    assert_problem(
        await client.get("/v1/me", headers=bearer(no_such_session)), 401, "session_revoked"
    )
