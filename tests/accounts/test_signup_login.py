"""Sign-up and log-in, happy and unhappy paths."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD

SignUp = Callable[..., Any]


def signup_body(**overrides: Any) -> dict[str, Any]:
    return {
        "email": "mina@example.com",
        "password": PASSWORD,
        "handle": "mina",
        "display_name": "Mina",
        **overrides,
    }


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


async def test_signup_returns_profile_and_tokens(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/auth/signup", json=signup_body(handle="Mina.Lee"))
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["handle"] == "Mina.Lee"
    assert body["user"]["email"] == "mina@example.com"
    assert body["user"]["email_verified"] is False
    assert body["tokens"]["token_type"] == "bearer"
    assert body["tokens"]["expires_in"] == 900
    me = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {body['tokens']['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == body["user"]["id"]


async def test_login_with_any_email_case(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    member = await sign_up("mina")
    response = await client.post(
        "/v1/auth/login", json={"email": "MINA@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["user"]["id"] == member.id
    assert response.json()["tokens"]["refresh_token"] != member.refresh_token


@pytest.mark.parametrize(
    ("email", "password"),
    [("mina@example.com", "not the password"), ("nobody@example.com", PASSWORD)],
)
async def test_login_refuses_wrong_credentials_alike(
    client: httpx.AsyncClient, sign_up: SignUp, email: str, password: str
) -> None:
    await sign_up("mina")
    response = await client.post("/v1/auth/login", json={"email": email, "password": password})
    body = assert_problem(response, 401, "invalid_credentials")
    assert body["detail"] == "The email or password is wrong."


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"handle": "ab"}, "invalid_handle", "handle"),
        ({"handle": "has space"}, "invalid_handle", "handle"),
        ({"handle": "émile"}, "invalid_handle", "handle"),
        ({"handle": "x" * 31}, "validation_error", "handle"),
        ({"handle": "Admin"}, "handle_reserved", "handle"),
        ({"handle": "_support_"}, "handle_reserved", "handle"),
        ({"password": "short"}, "weak_password", "password"),
        ({"password": "1234567890"}, "weak_password", "password"),
        ({"password": "mina-is-my-name"}, "weak_password", "password"),
        ({"password": "a" * 257}, "validation_error", "password"),
        ({"email": "not-an-email"}, "validation_error", "email"),
        ({"display_name": ""}, "invalid_display_name", "display_name"),
        ({"display_name": "   "}, "invalid_display_name", "display_name"),
        ({"display_name": "x" * 61}, "invalid_display_name", "display_name"),
        ({"handle": 12345}, "validation_error", "handle"),
    ],
)
async def test_signup_validation(
    client: httpx.AsyncClient, overrides: dict[str, Any], code: str, field: str
) -> None:
    response = await client.post("/v1/auth/signup", json=signup_body(**overrides))
    body = assert_problem(response, 422, code)
    assert field in [error["field"] for error in body["errors"]]


async def test_signup_missing_fields_lists_each(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/auth/signup", json={"email": "mina@example.com"})
    body = assert_problem(response, 422, "validation_error")
    assert {e["field"] for e in body["errors"]} == {"password", "handle", "display_name"}


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/signup", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "malformed_json")


async def test_duplicate_email_and_handle(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    await sign_up("mina")
    same_email = await client.post(
        "/v1/auth/signup", json=signup_body(handle="other", email="MINA@example.com")
    )
    assert_problem(same_email, 409, "email_taken")
    same_handle = await client.post(
        "/v1/auth/signup", json=signup_body(handle="MINA", email="other@example.com")
    )
    assert_problem(same_handle, 409, "handle_taken")


@pytest.mark.parametrize("clash", ["email", "handle"])
async def test_simultaneous_signups_one_wins(client: httpx.AsyncClient, clash: str) -> None:
    bodies = [
        signup_body(email="a@example.com", handle="first_one"),
        signup_body(email="b@example.com", handle="second_one"),
    ]
    bodies[1][clash] = bodies[0][clash]
    responses = await asyncio.gather(*(client.post("/v1/auth/signup", json=b) for b in bodies))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] == f"{clash}_taken"
    login = await client.post(
        "/v1/auth/login", json={"email": bodies[0]["email"], "password": PASSWORD}
    )
    winner = next(r for r in responses if r.status_code == 201)
    if clash == "email":
        assert login.json()["user"]["id"] == winner.json()["user"]["id"]
