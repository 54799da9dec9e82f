"""People search: what it finds, in what order, and whom it never shows."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.pagination import Page
from keepsake.profiles.schemas import UserPublic
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import Member
from tests.graph.test_graph import statements


async def _search(client: httpx.AsyncClient, viewer: Member, q: str, **params: Any) -> list[str]:
    response = await client.get(
        "/v1/search/people", params={"q": q, **params}, headers=viewer.headers
    )
    assert response.status_code == 200, response.text
    assert "counts" not in response.text
    return [item["handle"] for item in response.json()["items"]]


@pytest.fixture
async def people(sign_up: Callable[..., Any]) -> dict[str, Member]:
    names = {
        "viewer": "Viewer",
        "cheotnun": "첫눈",
        "kimminji": "김민지",
        "minjae": "이민재",
        "mina": "Mina Park",
        "minho": "Min_ho",
        "percent": "100% sure",
    }
    return {handle: await sign_up(handle, display_name=name) for handle, name in names.items()}


async def test_finds_hangul_parts_initials_decomposed_and_full_width(
    client: httpx.AsyncClient, people: dict[str, Member]
) -> None:
    viewer = people["viewer"]
    assert await _search(client, viewer, "민") == ["kimminji", "minjae"]
    assert await _search(client, viewer, "민지") == ["kimminji"]
    assert await _search(client, viewer, "ㅊㄴ") == ["cheotnun"]
    assert await _search(client, viewer, "ㄱㅁㅈ") == ["kimminji"]
    assert await _search(client, viewer, unicodedata.normalize("NFD", "첫눈")) == ["cheotnun"]
    assert await _search(client, viewer, "ＭＩＮＡ") == ["mina"]
    assert await _search(client, viewer, "park") == ["mina"]


async def test_handle_prefix_in_any_case_and_literal_wildcards(
    client: httpx.AsyncClient, people: dict[str, Member]
) -> None:
    viewer = people["viewer"]
    assert await _search(client, viewer, "MIN") == ["mina", "minho", "minjae"]
    assert await _search(client, viewer, "min_") == ["minho"]
    assert await _search(client, viewer, "%") == ["percent"]
    assert await _search(client, viewer, "0%") == ["percent"]
    assert await _search(client, viewer, "m%a") == []


async def test_ranking_exact_handle_then_circle(
    client: httpx.AsyncClient, people: dict[str, Member]
) -> None:
    viewer = people["viewer"]
    follow = await client.post("/v1/users/minjae/follow", headers=viewer.headers)
    assert follow.status_code == 200
    back = await client.post("/v1/users/viewer/follow", headers=people["minho"].headers)
    assert back.status_code == 200
    assert await _search(client, viewer, "min") == ["minho", "minjae", "mina"]
    assert await _search(client, viewer, "mina") == ["mina", "minho"][:1]
    first = await client.get(
        "/v1/search/people", params={"q": "min", "limit": 2}, headers=viewer.headers
    )
    body = first.json()
    assert [item["handle"] for item in body["items"]] == ["minho", "minjae"]
    assert await _search(client, viewer, "min", cursor=body["next_cursor"]) == ["mina"]


async def test_never_blocked_suspended_deleted_or_unsearchable(
    client: httpx.AsyncClient, people: dict[str, Member], engine: AsyncEngine
) -> None:
    viewer = people["viewer"]
    blocked = await client.post("/v1/users/mina/block", headers=viewer.headers)
    assert blocked.status_code in (200, 204)
    blocker = await client.post("/v1/users/viewer/block", headers=people["minho"].headers)
    assert blocker.status_code in (200, 204)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE users SET status = 'suspended' WHERE handle = 'minjae'"))
        await conn.execute(text("UPDATE users SET status = 'deleting' WHERE handle = 'kimminji'"))
    assert await _search(client, viewer, "min") == []
    assert await _search(client, viewer, "민") == []

    hide = await client.patch(
        "/v1/me", json={"searchable": False}, headers=people["cheotnun"].headers
    )
    assert hide.json()["searchable"] is False
    assert await _search(client, viewer, "첫눈") == []
    await client.post("/v1/users/cheotnun/follow", headers=viewer.headers)
    assert await _search(client, viewer, "첫눈") == ["cheotnun"]


@pytest.mark.parametrize("q", ["", "x" * 51, "   "])
async def test_queries_out_of_bounds_are_422(
    client: httpx.AsyncClient, people: dict[str, Member], q: str
) -> None:
    response = await client.get(
        "/v1/search/people", params={"q": q}, headers=people["viewer"].headers
    )
    assert_problem(response, 422, "invalid_query" if q.strip() == "" and q else "validation_error")


async def test_search_needs_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/search/people", params={"q": "min"})
    assert response.status_code == 401


async def test_page_is_what_its_model_makes_of_it(
    client: httpx.AsyncClient, people: dict[str, Member], engine: AsyncEngine
) -> None:
    viewer = people["viewer"]
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET avatar_key = 'avatars/x/y' WHERE handle = 'mina'")
        )
        await conn.execute(text("UPDATE users SET is_private = true WHERE handle = 'minho'"))
    await client.post("/v1/users/minjae/follow", headers=viewer.headers)
    await client.post("/v1/users/minho/follow", headers=viewer.headers)
    await client.post("/v1/users/viewer/follow", headers=people["mina"].headers)
    await client.post("/v1/users/mina/mute", headers=viewer.headers)
    response = await client.get(
        "/v1/search/people", params={"q": "min", "limit": 2}, headers=viewer.headers
    )
    page = Page[UserPublic].model_validate_json(response.content)
    assert page.model_dump_json() == response.text
    mina, minjae = page.items
    assert (mina.handle, minjae.handle) == ("mina", "minjae")
    assert mina.avatar is not None
    assert (mina.relationship, mina.follows_you, mina.muted) == ("none", True, True)
    assert (minjae.relationship, minjae.follows_you, minjae.muted) == ("following", False, False)
    assert page.next_cursor is not None
    rest = await client.get(
        "/v1/search/people",
        params={"q": "min", "cursor": page.next_cursor},
        headers=viewer.headers,
    )
    last = Page[UserPublic].model_validate_json(rest.content)
    assert last.model_dump_json() == rest.text
    assert [(p.handle, p.relationship, p.is_private) for p in last.items] == [
        ("minho", "requested", True)
    ]


async def test_a_page_is_one_statement(
    client: httpx.AsyncClient, app: FastAPI, people: dict[str, Member]
) -> None:
    viewer = people["viewer"]
    # The first search claims a lease of rate-limit hits and caches the viewer's session.
    assert await _search(client, viewer, "민") == ["kimminji", "minjae"]
    with statements(app) as seen:
        assert await _search(client, viewer, "mi") == ["mina", "minho", "minjae"]
    assert len([sql for sql in seen if "rate_limit_counters" not in sql]) == 1, seen
