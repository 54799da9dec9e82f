"""Problem details follow the request's `Accept-Language`; their `code` never changes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from keepsake.i18n.validation import field_message
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import PASSWORD

SignUp = Callable[..., Any]
KO = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}


async def test_an_app_error_speaks_the_requests_language(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    path = f"/v1/memories/{uuid.uuid4()}"
    korean = assert_problem(
        await client.get(path, headers={**mina.headers, **KO}), 404, "memory_not_found"
    )
    assert (korean["title"], korean["detail"]) == ("찾을 수 없어요", "그런 추억을 찾을 수 없어요.")
    for header in ({}, {"Accept-Language": "fr-FR, de;q=0.8"}, {"Accept-Language": "ko;q=0"}):
        english = assert_problem(
            await client.get(path, headers={**mina.headers, **header}), 404, "memory_not_found"
        )
        assert (english["title"], english["detail"]) == ("Not found", "No such memory.")


async def test_a_detail_with_placeholders_is_filled_after_translation(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    body = {"note": "x" * 81}
    korean = assert_problem(
        await client.patch("/v1/me", json=body, headers={**mina.headers, **KO}), 422, "invalid_note"
    )
    assert korean["errors"] == [{"field": "note", "message": korean["detail"]}]
    assert korean["detail"] == "메모는 80자까지 쓸 수 있어요."
    english = assert_problem(
        await client.patch("/v1/me", json=body, headers=mina.headers), 422, "invalid_note"
    )
    assert english["detail"] == "The note is at most 80 characters."


async def test_pydantic_messages_are_translated_by_error_type(client: httpx.AsyncClient) -> None:
    body = {"password": PASSWORD, "handle": 7, "display_name": "Mina"}
    korean = assert_problem(
        await client.post("/v1/auth/signup", json=body, headers=KO), 422, "validation_error"
    )
    assert korean["title"] == "입력이 올바르지 않아요"
    assert korean["detail"] == "빠졌거나 올바르지 않은 항목이 있어요."
    messages = {error["field"]: error["message"] for error in korean["errors"]}
    assert messages == {"handle": "글자로 보내 주세요.", "email": "꼭 채워야 하는 항목이에요."}
    english = assert_problem(
        await client.post("/v1/auth/signup", json=body), 422, "validation_error"
    )
    by_field = {error["field"]: error["message"] for error in english["errors"]}
    assert by_field == {"handle": "Send text here.", "email": "This field is required."}


def test_count_limits_take_the_plural_form_and_unknown_types_the_general_message() -> None:
    def short(n: int) -> dict[str, Any]:
        return {"type": "string_too_short", "ctx": {"min_length": n}}

    assert field_message("en", short(1)) == "Use at least 1 character."
    assert field_message("en", short(3)) == "Use at least 3 characters."
    assert field_message("ko", short(3)) == "3자 이상 입력해 주세요."
    assert field_message("ko", {"type": "greater_than_equal", "ctx": {"ge": 1}}) == (
        "1 이상인 수를 보내 주세요."
    )
    assert field_message("ko", {"type": "made_up", "ctx": {}}) == "올바른 값이 아니에요."


async def test_malformed_json_and_unknown_routes_too(client: httpx.AsyncClient) -> None:
    malformed = assert_problem(
        await client.post(
            "/v1/auth/login",
            content=b"{",
            headers={**KO, "Content-Type": "application/json"},
        ),
        422,
        "malformed_json",
    )
    assert malformed["detail"] == "요청 본문이 올바른 JSON이 아니에요."
    missing = assert_problem(await client.get("/v1/nowhere", headers=KO), 404, "not_found")
    assert missing["detail"] == "이 주소에는 아무것도 없어요."
