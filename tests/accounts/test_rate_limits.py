"""Rate limits are counted in PostgreSQL, so several API pods share them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keepsake.main import create_app
from tests.accounts.test_signup_login import assert_problem, signup_body
from tests.conftest import PASSWORD, running

SignUp = Callable[..., Any]


def from_ip(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


async def test_login_limited_per_ip_across_two_pods(
    make_settings: Callable[..., Any], sign_up: SignUp
) -> None:
    await sign_up("mina")
    settings = make_settings(rate_limit_login_per_ip=3, trust_forwarded_for=True)
    wrong = {"email": "mina@example.com", "password": "not the password"}
    async with running(create_app(settings)) as pod_a, running(create_app(settings)) as pod_b:
        statuses = []
        for pod in (pod_a, pod_b, pod_a):
            statuses.append(
                (
                    await pod.post("/v1/auth/login", json=wrong, headers=from_ip("10.0.0.7"))
                ).status_code
            )
        assert statuses == [401, 401, 401]
        limited = await pod_b.post("/v1/auth/login", json=wrong, headers=from_ip("10.0.0.7"))
        body = assert_problem(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["Retry-After"]) <= 15 * 60
        assert body["detail"].startswith("Too many attempts")
        # Even the right password waits: the limit is on attempts, not failures.
        right = {"email": "mina@example.com", "password": PASSWORD}
        again = await pod_a.post("/v1/auth/login", json=right, headers=from_ip("10.0.0.7"))
        assert again.status_code == 429
        other_ip = await pod_a.post("/v1/auth/login", json=right, headers=from_ip("10.0.0.8"))
        assert other_ip.status_code == 200


async def test_wrong_passwords_from_elsewhere_never_lock_the_owner_out(
    make_settings: Callable[..., Any], sign_up: SignUp
) -> None:
    await sign_up("mina")
    settings = make_settings(rate_limit_login_per_account_ip=3, trust_forwarded_for=True)
    wrong = {"email": "MINA@example.com", "password": "not the password"}
    right = {"email": "mina@example.com", "password": PASSWORD}
    async with running(create_app(settings)) as client:
        statuses = [
            (
                await client.post("/v1/auth/login", json=wrong, headers=from_ip("10.1.0.66"))
            ).status_code
            for _ in range(5)
        ]
        assert statuses == [401, 401, 401, 429, 429]
        # The guesser's address waits even with the right password...
        guesser = await client.post("/v1/auth/login", json=right, headers=from_ip("10.1.0.66"))
        assert_problem(guesser, 429, "rate_limited")
        # ...the owner's does not.
        owner = await client.post("/v1/auth/login", json=right, headers=from_ip("10.1.0.1"))
        assert owner.status_code == 200, owner.text


async def test_login_failures_per_account_have_a_ceiling_across_addresses(
    make_settings: Callable[..., Any], sign_up: SignUp
) -> None:
    await sign_up("mina")
    settings = make_settings(
        rate_limit_login_per_account=4, rate_limit_login_per_account_ip=3, trust_forwarded_for=True
    )
    wrong = {"email": "mina@example.com", "password": "not the password"}
    right = {**wrong, "password": PASSWORD}

    async def attempt(body: dict[str, str], ip: str) -> int:
        response = await client.post("/v1/auth/login", json=body, headers=from_ip(ip))
        return response.status_code

    async with running(create_app(settings)) as client:
        assert [await attempt(wrong, f"10.3.0.{n}") for n in range(4)] == [401] * 4
        # Past the ceiling an address with a recent failure is refused, right password or not,
        # well before its own limit of 3...
        assert await attempt(wrong, "10.3.0.0") == 429
        assert await attempt(right, "10.3.0.1") == 429
        # ...while an address without one still gets its answer: a wrong guess locks it out
        # next time, the owner's right password gets through.
        assert await attempt(wrong, "10.3.0.8") == 401
        assert await attempt(right, "10.3.0.8") == 429
        assert await attempt(right, "10.3.0.9") == 200


async def test_signup_limited_per_ip(make_settings: Callable[..., Any]) -> None:
    settings = make_settings(rate_limit_signup_per_ip=2)
    async with running(create_app(settings)) as client:
        for n in range(2):
            body = signup_body(email=f"p{n}@example.com", handle=f"person{n}")
            assert (await client.post("/v1/auth/signup", json=body)).status_code == 201
        body = signup_body(email="p9@example.com", handle="person9")
        assert_problem(await client.post("/v1/auth/signup", json=body), 429, "rate_limited")


async def test_password_reset_and_refresh_limited(make_settings: Callable[..., Any]) -> None:
    settings = make_settings(rate_limit_password_per_ip=1, rate_limit_refresh_per_ip=1)
    async with running(create_app(settings)) as client:
        email = {"email": "someone@example.com"}
        assert (await client.post("/v1/auth/password/forgot", json=email)).status_code == 202
        assert_problem(
            await client.post("/v1/auth/password/forgot", json=email), 429, "rate_limited"
        )
        token = {"refresh_token": "unknown"}
        assert (await client.post("/v1/auth/refresh", json=token)).status_code == 401
        assert_problem(await client.post("/v1/auth/refresh", json=token), 429, "rate_limited")


async def test_forwarded_for_is_ignored_unless_trusted(
    make_settings: Callable[..., Any], sign_up: SignUp
) -> None:
    await sign_up("mina")
    settings = make_settings(rate_limit_login_per_ip=1)
    wrong = {"email": "mina@example.com", "password": "not the password"}
    async with running(create_app(settings)) as client:
        await client.post("/v1/auth/login", json=wrong, headers=from_ip("10.2.0.1"))
        # A client cannot dodge the limit by inventing a new address.
        spoofed = await client.post("/v1/auth/login", json=wrong, headers=from_ip("10.2.0.2"))
        assert_problem(spoofed, 429, "rate_limited")
