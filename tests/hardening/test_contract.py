"""The contract as generated clients read it: path templates, bodies, error codes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

# Every parameterised path API.md names (the contract lives outside the repository).
CONTRACT_PATHS = {
    "/v1/admin/appeals/{id}/decide",
    "/v1/admin/memories/{id}/hide",
    "/v1/admin/missions/{id}",
    "/v1/admin/missions/{id}/close",
    "/v1/admin/missions/{id}/winners",
    "/v1/admin/reports/{id}",
    "/v1/admin/reports/{id}/dismiss",
    "/v1/admin/users/{handle}/suspend",
    "/v1/devices/{id}",
    "/v1/hashtags/{tag}/memories",
    "/v1/me/follow-requests/{id}/approve",
    "/v1/me/sessions/{id}",
    "/v1/me/strikes/{id}/appeal",
    "/v1/memories/{id}",
    "/v1/memories/{id}/claps",
    "/v1/missions/{id}",
    "/v1/missions/{id}/entries",
    "/v1/users/{handle}",
    "/v1/users/{handle}/block",
    "/v1/users/{handle}/follow",
    "/v1/users/{handle}/followers",
    "/v1/users/{handle}/memories",
    "/v1/users/{handle}/mute",
}
TEMPLATE = re.compile(r"\{[^}]*\}")


def test_path_parameters_are_named_as_the_contract_names_them(app: FastAPI) -> None:
    by_shape = {TEMPLATE.sub("{}", path): path for path in CONTRACT_PATHS}

    served = [path for path in app.openapi()["paths"] if "{" in path]
    compared = [path for path in served if TEMPLATE.sub("{}", path) in by_shape]

    assert len(compared) >= 10, compared
    assert [p for p in compared if p != by_shape[TEMPLATE.sub("{}", p)]] == []
    # Paths API.md does not name follow its convention: a resource's id is `{id}`.
    assert [p for p in served if re.search(r"\{\w+_id\}", p)] == []


async def test_a_body_that_is_not_utf8_is_malformed_json(
    client: httpx.AsyncClient, sign_up: Callable[..., Any]
) -> None:
    member = await sign_up()
    for path, headers in (("/v1/auth/signup", {}), ("/v1/uploads", member.headers)):
        response = await client.post(
            path,
            content=b'{"handle": "\xff\xfe"}',
            headers={**headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "malformed_json"


async def test_accepted_email_requests_answer_an_empty_body_as_documented(
    app: FastAPI, client: httpx.AsyncClient, sign_up: Callable[..., Any]
) -> None:
    member = await sign_up()
    forgot = await client.post("/v1/auth/password/forgot", json={"email": member.email})
    resend = await client.post("/v1/auth/email/resend", headers=member.headers)

    paths = app.openapi()["paths"]
    for response, path in ((forgot, "/v1/auth/password/forgot"), (resend, "/v1/auth/email/resend")):
        assert response.status_code == 202, response.text
        assert response.content == b""
        assert paths[path]["post"]["responses"]["202"]["content"] == {}
