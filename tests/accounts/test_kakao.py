"""Sign in with Kakao against a local key server holding keys this test makes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest

from keepsake.config import Settings
from keepsake.main import create_app
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import running
from tests.fixtures.jwks_server import JwksServer, SigningKey

KAKAO_KEY = SigningKey.generate("kakao-1")
KAKAO_NEXT_KEY = SigningKey.generate("kakao-2")
IMPOSTOR = SigningKey.generate("kakao-1")
UNPUBLISHED = SigningKey.generate("kakao-unpublished")
NATIVE_APP_KEY, REST_API_KEY = "a1b2c3-native-app-key", "d4e5f6-rest-api-key"


def kakao_token(*, key: SigningKey = KAKAO_KEY, **claims: Any) -> str:
    """An OpenID Connect ID token shaped like Kakao's; a claim given as None is left out."""
    now = int(time.time())
    base = {
        "iss": "https://kauth.kakao.com",
        "aud": NATIVE_APP_KEY,
        "sub": "3141592653",
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "nickname": "지민",
        "email": "jimin@kakao.com",
        "email_verified": True,
    }
    merged = {k: v for k, v in {**base, **claims}.items() if v is not None}
    return key.sign(merged)


@pytest.fixture
def kakao_jwks() -> Iterator[JwksServer]:
    with JwksServer(KAKAO_KEY).running() as server:
        yield server


@pytest.fixture
async def api(
    make_settings: Callable[..., Settings], kakao_jwks: JwksServer
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        kakao_jwks_url=kakao_jwks.url, kakao_client_ids=[NATIVE_APP_KEY, REST_API_KEY]
    )
    async with running(create_app(settings)) as client:
        yield client


async def _sign_in(api: httpx.AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    response = await api.post("/v1/auth/kakao", json={"id_token": token, **body})
    assert response.status_code == 200, response.text
    signed_in: dict[str, Any] = response.json()
    return signed_in


async def test_a_good_token_creates_the_account_once(api: httpx.AsyncClient) -> None:
    first = await _sign_in(api, kakao_token(), locale="ko")
    assert first["created"] is True
    assert first["user"]["email"] == "jimin@kakao.com"
    assert first["user"]["handle"] == "jimin"
    assert first["user"]["locale"] == "ko"
    again = await _sign_in(api, kakao_token(aud=REST_API_KEY))
    assert (again["created"], again["user"]["id"]) == (False, first["user"]["id"])


async def test_the_locale_falls_back_to_accept_language(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/auth/kakao",
        json={"id_token": kakao_token()},
        headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"},
    )
    assert response.json()["user"]["locale"] == "ko"


def _alg_none_token() -> str:
    claims = jwt.decode(kakao_token(), options={"verify_signature": False})
    return jwt.encode(claims, "", algorithm="none", headers={"kid": KAKAO_KEY.kid})


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "wrong audience": lambda: kakao_token(aud="someone-elses-app"),
    "wrong issuer": lambda: kakao_token(iss="https://accounts.google.com"),
    "expired": lambda: kakao_token(exp=int(time.time()) - 600),
    "bad signature": lambda: kakao_token(key=IMPOSTOR),
    "alg none": _alg_none_token,
    "unknown key": lambda: kakao_token(key=UNPUBLISHED),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
async def test_bad_tokens_answer_401(api: httpx.AsyncClient, case: str) -> None:
    response = await api.post("/v1/auth/kakao", json={"id_token": BAD_TOKENS[case]()})
    assert_problem(response, 401, "invalid_id_token")


async def test_a_key_rotation_is_picked_up(api: httpx.AsyncClient, kakao_jwks: JwksServer) -> None:
    await _sign_in(api, kakao_token())
    assert kakao_jwks.requests == 1
    kakao_jwks.keys = [KAKAO_NEXT_KEY]
    body = await _sign_in(api, kakao_token(key=KAKAO_NEXT_KEY))
    assert body["created"] is False
    assert kakao_jwks.requests == 2
