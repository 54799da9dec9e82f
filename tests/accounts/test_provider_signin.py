"""Sign in with Apple and Google against local JWKS servers holding our own test keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.providers import InvalidIdToken, JwksCache, ProviderUnavailable
from keepsake.config import Settings
from keepsake.main import create_app
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import PASSWORD, running
from tests.fixtures.jwks_server import (
    APPLE_CLIENT,
    APPLE_KEY,
    APPLE_NEXT_KEY,
    GOOGLE_CLIENT,
    GOOGLE_KEY,
    IMPOSTOR_KEY,
    UNPUBLISHED_KEY,
    JwksServer,
    apple_token,
    google_token,
    unreachable_url,
)


@pytest.fixture
def apple_jwks() -> Iterator[JwksServer]:
    with JwksServer(APPLE_KEY).running() as server:
        yield server


@pytest.fixture
def google_jwks() -> Iterator[JwksServer]:
    with JwksServer(GOOGLE_KEY).running() as server:
        yield server


@pytest.fixture
def provider_settings(
    make_settings: Callable[..., Settings], apple_jwks: JwksServer, google_jwks: JwksServer
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return make_settings(
            **{
                "apple_jwks_url": apple_jwks.url,
                "apple_client_ids": [APPLE_CLIENT],
                "google_jwks_url": google_jwks.url,
                "google_client_ids": ["web-client", GOOGLE_CLIENT],
                **overrides,
            }
        )

    return make


@pytest.fixture
async def api(provider_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(provider_settings())) as client:
        yield client


async def _sign_in(api: httpx.AsyncClient, provider: str, token: str) -> dict[str, Any]:
    response = await api.post(f"/v1/auth/{provider}", json={"id_token": token})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_apple_creates_the_account_then_signs_into_it(api: httpx.AsyncClient) -> None:
    first = await _sign_in(api, "apple", apple_token())
    assert first["created"] is True
    user = first["user"]
    assert user["email"] == "x7dk2ha8@privaterelay.appleid.com"
    assert user["email_verified"] is True
    assert user["handle"] == user["display_name"] == "x7dk2ha8"
    me = await api.get(
        "/v1/me", headers={"Authorization": f"Bearer {first['tokens']['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]

    again = await _sign_in(api, "apple", apple_token())
    assert again["created"] is False
    assert again["user"]["id"] == user["id"]


async def test_new_handles_are_valid_and_unique(
    api: httpx.AsyncClient, sign_up: Callable[..., Any]
) -> None:
    await sign_up("mina")
    body = await _sign_in(
        api, "google", google_token(sub="g-mina", email="Mina+news@gmail.com", name="Mīna\nŌta")
    )
    assert body["user"]["handle"] == "mina_2"
    assert body["user"]["display_name"] == "Mīna Ōta"
    assert body["user"]["email"] == "mina+news@gmail.com"
    short = await _sign_in(api, "google", google_token(sub="g-jo", email="jo@example.org"))
    assert short["user"]["handle"] == "jo_2"
    reserved = await _sign_in(api, "google", google_token(sub="g-adm", email="admin@example.org"))
    assert reserved["user"]["handle"] == "admin_2"


async def test_google_links_a_verified_email_to_the_existing_account(
    api: httpx.AsyncClient, sign_up: Callable[..., Any]
) -> None:
    member = await sign_up("lena")
    body = await _sign_in(api, "google", google_token(email="Lena@Example.com"))
    assert body["created"] is False
    assert body["user"]["id"] == member.id
    assert body["user"]["email_verified"] is True
    # The password account never proved the address, so it may have been planted by
    # someone else: its password and sessions end when the real owner claims it.
    assert (await api.get("/v1/me", headers=member.headers)).status_code == 401
    login = await api.post("/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert_problem(login, 401, "invalid_credentials")
    again = await _sign_in(api, "google", google_token(email="other@example.com"))
    assert (again["created"], again["user"]["id"]) == (False, member.id)


async def test_linking_keeps_the_password_of_a_verified_account(
    api: httpx.AsyncClient, sign_up: Callable[..., Any], engine: AsyncEngine
) -> None:
    member = await sign_up("lena")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE users SET email_verified_at = now()"))
    body = await _sign_in(api, "google", google_token())
    assert body["user"]["id"] == member.id
    assert (await api.get("/v1/me", headers=member.headers)).status_code == 200
    login = await api.post("/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert login.status_code == 200


@pytest.mark.parametrize("flag", [False, "false", None])
async def test_an_unverified_email_is_never_linked(
    api: httpx.AsyncClient, sign_up: Callable[..., Any], engine: AsyncEngine, flag: Any
) -> None:
    await sign_up("lena")
    response = await api.post(
        "/v1/auth/google", json={"id_token": google_token(email_verified=flag)}
    )
    assert_problem(response, 409, "email_in_use")
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM identities")) == 0
        assert await conn.scalar(text("SELECT count(*) FROM users")) == 1


async def test_a_token_without_email_needs_a_linked_account(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/auth/apple", json={"id_token": apple_token(email=None)})
    assert_problem(response, 422, "email_required")


async def test_a_suspended_account_is_refused(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await _sign_in(api, "apple", apple_token())
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE users SET status = 'suspended'"))
    response = await api.post("/v1/auth/apple", json={"id_token": apple_token()})
    assert_problem(response, 403, "account_suspended")


async def test_google_accepts_its_bare_issuer(api: httpx.AsyncClient) -> None:
    body = await _sign_in(api, "google", google_token(iss="accounts.google.com"))
    assert body["created"] is True


def _hs256_token() -> str:
    secret = "a-shared-secret-of-at-least-32-bytes"
    return jwt.encode({"sub": "x"}, secret, headers={"kid": "apple-1"})


def _no_kid_token() -> str:
    claims = jwt.decode(apple_token(), options={"verify_signature": False})
    return jwt.encode(claims, APPLE_KEY.private, algorithm="RS256")


def _tampered_token() -> str:
    header, _, signature = apple_token().split(".")
    other_payload = apple_token(sub="someone-else").split(".")[1]
    return ".".join((header, other_payload, signature))


BAD_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "wrong audience": (lambda: apple_token(aud="com.someone.else"), "another app"),
    "expired": (lambda: apple_token(exp=int(time.time()) - 120), "expired"),
    "unpublished key": (lambda: apple_token(key=UNPUBLISHED_KEY), "does not publish"),
    "impostor key": (lambda: apple_token(key=IMPOSTOR_KEY), "signature"),
    "wrong issuer": (lambda: apple_token(iss="https://accounts.google.com"), "not issued by"),
    "issued in the future": (lambda: apple_token(iat=int(time.time()) + 3600), "iat"),
    "no expiry": (lambda: apple_token(exp=None), "`exp`"),
    "no kid": (_no_kid_token, "(kid)"),
    "HS256": (_hs256_token, "RS256"),
    "garbage": (lambda: "not-a-jwt", "malformed"),
    "three dots": (lambda: "a.b.c", "malformed"),
    "tampered payload": (_tampered_token, "signature"),
    "broken payload": (lambda: apple_token().split(".")[0] + ".!!!.c2ln", "malformed"),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
async def test_bad_tokens_are_refused(api: httpx.AsyncClient, case: str) -> None:
    make_token, why = BAD_TOKENS[case]
    response = await api.post("/v1/auth/apple", json={"id_token": make_token()})
    assert why in assert_problem(response, 401, "invalid_id_token")["detail"]


async def test_keys_are_cached_and_rotation_refetches_once(
    api: httpx.AsyncClient, apple_jwks: JwksServer
) -> None:
    for _ in range(3):
        await _sign_in(api, "apple", apple_token())
    assert apple_jwks.requests == 1

    apple_jwks.keys = [APPLE_NEXT_KEY]
    body = await _sign_in(api, "apple", apple_token(key=APPLE_NEXT_KEY))
    assert body["created"] is False
    assert apple_jwks.requests == 2
    # Junk kids right after get no refetch of their own.
    for kid in ("junk-1", "junk-2"):
        response = await api.post("/v1/auth/apple", json={"id_token": apple_token(kid=kid)})
        assert_problem(response, 401, "invalid_id_token")
    assert apple_jwks.requests == 2


async def test_unreachable_keys_answer_503(
    provider_settings: Callable[..., Settings], google_jwks: JwksServer
) -> None:
    google_jwks.status = 500
    settings = provider_settings(apple_jwks_url=unreachable_url())
    async with running(create_app(settings)) as api:
        for provider, token in (("apple", apple_token()), ("google", google_token())):
            response = await api.post(f"/v1/auth/{provider}", json={"id_token": token})
            assert_problem(response, 503, "provider_unavailable")
        google_jwks.status = 200
        await _sign_in(api, "google", google_token())


async def test_a_provider_without_client_ids_is_disabled(
    provider_settings: Callable[..., Settings],
) -> None:
    async with running(create_app(provider_settings(google_client_ids=[]))) as api:
        response = await api.post("/v1/auth/google", json={"id_token": google_token()})
        assert_problem(response, 404, "provider_disabled")


async def test_concurrent_first_sign_ins_make_one_account(api: httpx.AsyncClient) -> None:
    token = google_token()
    responses = await asyncio.gather(
        *(api.post("/v1/auth/google", json={"id_token": token}) for _ in range(6))
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert sorted(r.json()["created"] for r in responses) == [False] * 5 + [True]
    assert len({r.json()["user"]["id"] for r in responses}) == 1


async def test_concurrent_new_users_get_distinct_handles(api: httpx.AsyncClient) -> None:
    tokens = [google_token(sub=f"g-{n}", email=f"sam@example{n}.com") for n in range(4)]
    responses = await asyncio.gather(
        *(api.post("/v1/auth/google", json={"id_token": token}) for token in tokens)
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    handles = {r.json()["user"]["handle"] for r in responses}
    assert len(handles) == 4
    assert "sam" in handles
    assert all(handle.startswith("sam") for handle in handles)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_cache_refreshes_after_its_ttl_and_survives_an_outage() -> None:
    clock = _Clock()
    server = JwksServer(APPLE_KEY)
    with server.running():
        async with httpx.AsyncClient() as http:
            cache = JwksCache(http, ttl=timedelta(minutes=10), clock=clock)
            await cache.signing_key(server.url, "apple-1", title="Apple")
            clock.now = 599
            await cache.signing_key(server.url, "apple-1", title="Apple")
            assert server.requests == 1
            clock.now = 600
            server.status = 503
            # The refresh fails; the last good keys still serve, and no retry for a while.
            await cache.signing_key(server.url, "apple-1", title="Apple")
            await cache.signing_key(server.url, "apple-1", title="Apple")
            assert server.requests == 2
            # An unknown kid earns one refetch a minute, however many arrive.
            for kid in ("junk-1", "junk-2"):
                with pytest.raises(InvalidIdToken):
                    await cache.signing_key(server.url, kid, title="Apple")
            assert server.requests == 3
            clock.now = 700
            server.status = 200
            server.keys = [APPLE_NEXT_KEY]
            await cache.signing_key(server.url, "apple-2", title="Apple")
            assert server.requests == 4
            with pytest.raises(InvalidIdToken):
                await cache.signing_key(server.url, "apple-1", title="Apple")
            assert server.requests == 5


async def test_cache_without_keys_retries_on_the_next_request() -> None:
    server = JwksServer(APPLE_KEY)
    server.status = 500
    with server.running():
        async with httpx.AsyncClient() as http:
            cache = JwksCache(http, ttl=timedelta(minutes=10), clock=_Clock())
            with pytest.raises(ProviderUnavailable):
                await cache.signing_key(server.url, "apple-1", title="Apple")
            server.status = 200
            key = await cache.signing_key(server.url, "apple-1", title="Apple")
            assert key.key_id == "apple-1"
