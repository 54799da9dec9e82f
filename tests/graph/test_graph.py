"""Follows, follow requests, blocks, mutes and the lists (close friends: test_close_friends)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from keepsake.accounts.auth_cache import AuthCache
from keepsake.readdb import ReadDb, ReadQuery
from tests.conftest import Member
from tests.profiles.test_profiles import assert_problem, patch_me

SignUp = Callable[..., Any]
Json = dict[str, Any]


async def profile(client: httpx.AsyncClient, viewer: Member, handle: str) -> Json:
    response = await client.get(f"/v1/users/{handle}", headers=viewer.headers)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def follow(client: httpx.AsyncClient, viewer: Member, handle: str) -> httpx.Response:
    return await client.post(f"/v1/users/{handle}/follow", headers=viewer.headers)


async def handles(client: httpx.AsyncClient, viewer: Member, path: str) -> list[str]:
    response = await client.get(path, headers=viewer.headers)
    assert response.status_code == 200, response.text
    return [item["handle"] for item in response.json()["items"]]


async def requests_of(client: httpx.AsyncClient, owner: Member) -> list[Json]:
    response = await client.get("/v1/me/follow-requests", headers=owner.headers)
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


async def counts(client: httpx.AsyncClient, member: Member) -> Json:
    body: Json = (await client.get("/v1/me", headers=member.headers)).json()["counts"]
    return body


async def test_follow_a_public_account(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    response = await follow(client, theo, "MINA")
    assert response.status_code == 200
    assert response.json() == {"relationship": "following"}
    # Repeating changes nothing.
    assert (await follow(client, theo, "mina")).json() == {"relationship": "following"}

    seen_by_theo = await profile(client, theo, "mina")
    assert seen_by_theo["relationship"] == "following"
    assert seen_by_theo["follows_you"] is False
    seen_by_mina = await profile(client, mina, "theo")
    assert seen_by_mina["relationship"] == "none"
    assert seen_by_mina["follows_you"] is True
    assert await handles(client, theo, "/v1/users/mina/followers") == ["theo"]
    assert await handles(client, theo, "/v1/users/theo/following") == ["mina"]
    assert await counts(client, mina) == {"followers": 1, "following": 0, "follow_requests": 0}
    assert await counts(client, theo) == {"followers": 0, "following": 1, "follow_requests": 0}


async def test_follow_yourself_or_nobody(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    body = assert_problem(await follow(client, mina, "Mina"), 422, "cannot_follow_self")
    assert body["errors"][0]["field"] == "handle"
    assert_problem(await follow(client, mina, "nobody"), 404, "user_not_found")
    assert_problem(await follow(client, mina, "no-such"), 422, "validation_error")


async def test_unfollow_is_idempotent(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    await sign_up("mina")
    theo = await sign_up("theo")
    await follow(client, theo, "mina")
    for _ in range(2):
        response = await client.delete("/v1/users/mina/follow", headers=theo.headers)
        assert response.status_code == 204
        assert response.content == b""
    assert (await profile(client, theo, "mina"))["relationship"] == "none"
    assert await handles(client, theo, "/v1/users/mina/followers") == []
    gone = await client.delete("/v1/users/nobody/follow", headers=theo.headers)
    assert_problem(gone, 404, "user_not_found")


async def test_private_account_turns_follows_into_requests(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await patch_me(client, mina, is_private=True)
    for _ in range(2):
        response = await follow(client, theo, "mina")
        assert response.status_code == 200
        assert response.json() == {"relationship": "requested"}
    assert (await profile(client, theo, "mina"))["relationship"] == "requested"
    assert await counts(client, mina) == {"followers": 0, "following": 0, "follow_requests": 1}

    pending = await requests_of(client, mina)
    assert len(pending) == 1
    assert pending[0]["user"]["handle"] == "theo"
    assert pending[0]["user"]["relationship"] == "none"
    assert "counts" not in pending[0]["user"]

    approve = f"/v1/me/follow-requests/{pending[0]['id']}/approve"
    assert (await client.post(approve, headers=mina.headers)).status_code == 204
    assert (await profile(client, theo, "mina"))["relationship"] == "following"
    assert (await profile(client, mina, "theo"))["follows_you"] is True
    assert await requests_of(client, mina) == []
    assert await handles(client, theo, "/v1/users/mina/followers") == ["theo"]
    # A follow already granted stays granted.
    assert (await follow(client, theo, "mina")).json() == {"relationship": "following"}
    again = await client.post(approve, headers=mina.headers)
    assert_problem(again, 404, "follow_request_not_found")


async def test_deny_a_follow_request(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await patch_me(client, mina, is_private=True)
    await follow(client, theo, "mina")
    request_id = (await requests_of(client, mina))[0]["id"]
    deny = f"/v1/me/follow-requests/{request_id}/deny"
    assert (await client.post(deny, headers=mina.headers)).status_code == 204
    assert (await profile(client, theo, "mina"))["relationship"] == "none"
    assert await requests_of(client, mina) == []
    assert_problem(await client.post(deny, headers=mina.headers), 404, "follow_request_not_found")
    # Theo may ask again.
    assert (await follow(client, theo, "mina")).json() == {"relationship": "requested"}


async def test_only_the_addressee_answers_a_request(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    await patch_me(client, mina, is_private=True)
    await follow(client, theo, "mina")
    request_id = (await requests_of(client, mina))[0]["id"]
    for member in (theo, ada):
        for action in ("approve", "deny"):
            response = await client.post(
                f"/v1/me/follow-requests/{request_id}/{action}", headers=member.headers
            )
            assert_problem(response, 404, "follow_request_not_found")
    unknown = f"/v1/me/follow-requests/{uuid.uuid4()}/approve"
    assert_problem(
        await client.post(unknown, headers=mina.headers), 404, "follow_request_not_found"
    )
    malformed = "/v1/me/follow-requests/not-a-uuid/deny"
    assert_problem(await client.post(malformed, headers=mina.headers), 422, "validation_error")
    assert len(await requests_of(client, mina)) == 1


async def test_unfollow_withdraws_a_request(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await patch_me(client, mina, is_private=True)
    await follow(client, theo, "mina")
    assert (await client.delete("/v1/users/mina/follow", headers=theo.headers)).status_code == 204
    assert await requests_of(client, mina) == []


async def test_going_public_approves_pending_requests(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    await patch_me(client, mina, is_private=True)
    await follow(client, theo, "mina")
    await follow(client, ada, "mina")
    response = await patch_me(client, mina, is_private=False)
    assert response.json()["counts"] == {"followers": 2, "following": 0, "follow_requests": 0}
    assert (await profile(client, theo, "mina"))["relationship"] == "following"
    assert sorted(await handles(client, mina, "/v1/users/mina/followers")) == ["ada", "theo"]


async def test_going_private_keeps_existing_followers(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, theo, "mina")
    await patch_me(client, mina, is_private=True)
    assert (await profile(client, theo, "mina"))["relationship"] == "following"
    assert await handles(client, theo, "/v1/users/mina/followers") == ["theo"]


async def test_remove_a_follower(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, theo, "mina")
    for _ in range(2):
        response = await client.delete("/v1/me/followers/THEO", headers=mina.headers)
        assert response.status_code == 204
    assert (await profile(client, theo, "mina"))["relationship"] == "none"
    assert await counts(client, mina) == {"followers": 0, "following": 0, "follow_requests": 0}
    gone = await client.delete("/v1/me/followers/nobody", headers=mina.headers)
    assert_problem(gone, 404, "user_not_found")


async def test_remove_a_follower_drops_their_request(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await patch_me(client, mina, is_private=True)
    await follow(client, theo, "mina")
    assert (await client.delete("/v1/me/followers/theo", headers=mina.headers)).status_code == 204
    assert await requests_of(client, mina) == []


async def test_block_ends_follows_and_requests_both_ways(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, mina, "theo")
    await patch_me(client, mina, is_private=True)
    await follow(client, theo, "mina")
    for _ in range(2):
        assert (await client.post("/v1/users/theo/block", headers=mina.headers)).status_code == 204
    assert await counts(client, mina) == {"followers": 0, "following": 0, "follow_requests": 0}
    assert await counts(client, theo) == {"followers": 0, "following": 0, "follow_requests": 0}
    assert await handles(client, mina, "/v1/me/blocks") == ["theo"]
    # Neither can follow the other while the block stands.
    assert_problem(await follow(client, theo, "mina"), 404, "user_not_found")
    assert_problem(await follow(client, mina, "theo"), 404, "user_not_found")

    assert (await client.delete("/v1/users/theo/block", headers=mina.headers)).status_code == 204
    assert await handles(client, mina, "/v1/me/blocks") == []
    # Unblocking does not bring the old follows back.
    assert (await profile(client, mina, "theo"))["relationship"] == "none"
    assert (await profile(client, theo, "mina"))["relationship"] == "none"
    assert (await follow(client, mina, "theo")).json() == {"relationship": "following"}


async def test_block_yourself_or_nobody(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    response = await client.post("/v1/users/mina/block", headers=mina.headers)
    assert_problem(response, 422, "cannot_block_self")
    response = await client.post("/v1/users/nobody/block", headers=mina.headers)
    assert_problem(response, 404, "user_not_found")
    response = await client.delete("/v1/users/nobody/block", headers=mina.headers)
    assert_problem(response, 404, "user_not_found")


async def test_unblock_works_even_when_blocked_back(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await client.post("/v1/users/theo/block", headers=mina.headers)
    # Theo cannot see Mina, so cannot block her either: the answer reveals nothing.
    assert_problem(
        await client.post("/v1/users/mina/block", headers=theo.headers), 404, "user_not_found"
    )
    assert_problem(
        await client.delete("/v1/users/mina/block", headers=theo.headers), 404, "user_not_found"
    )
    assert (await client.delete("/v1/users/theo/block", headers=mina.headers)).status_code == 204
    assert (await profile(client, theo, "mina"))["relationship"] == "none"


async def test_mute_keeps_the_profile_visible(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, mina, "theo")
    for _ in range(2):
        assert (await client.post("/v1/users/theo/mute", headers=mina.headers)).status_code == 204
    seen = await profile(client, mina, "theo")
    assert seen["muted"] is True
    assert seen["relationship"] == "following"
    # Theo is not told.
    assert (await profile(client, theo, "mina"))["muted"] is False
    assert await handles(client, mina, "/v1/me/mutes") == ["theo"]
    for _ in range(2):
        assert (await client.delete("/v1/users/theo/mute", headers=mina.headers)).status_code == 204
    assert (await profile(client, mina, "theo"))["muted"] is False
    assert await handles(client, mina, "/v1/me/mutes") == []


async def test_mute_yourself_or_nobody(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    response = await client.post("/v1/users/mina/mute", headers=mina.headers)
    assert_problem(response, 422, "cannot_mute_self")
    response = await client.post("/v1/users/nobody/mute", headers=mina.headers)
    assert_problem(response, 404, "user_not_found")
    response = await client.delete("/v1/users/nobody/mute", headers=mina.headers)
    assert_problem(response, 404, "user_not_found")


async def walk(client: httpx.AsyncClient, viewer: Member, path: str, limit: int) -> list[Json]:
    items: list[Json] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=params, headers=viewer.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("limit", [1, 3])
async def test_lists_page_through_without_duplicates(
    client: httpx.AsyncClient, sign_up: SignUp, limit: int
) -> None:
    mina = await sign_up("mina")
    await patch_me(client, mina, is_private=True)
    fans = [await sign_up(f"fan{i}") for i in range(5)]
    for fan in fans:
        await follow(client, fan, "mina")
        await follow(client, mina, fan.handle)
    requests = await walk(client, mina, "/v1/me/follow-requests", limit)
    assert [r["user"]["handle"] for r in requests] == [f"fan{i}" for i in reversed(range(5))]
    assert len({r["id"] for r in requests}) == 5
    for request in requests:
        url = f"/v1/me/follow-requests/{request['id']}/approve"
        await client.post(url, headers=mina.headers)
    followers = await walk(client, mina, "/v1/users/mina/followers", limit)
    assert len({p["id"] for p in followers}) == 5
    for fan in fans:
        await client.post(f"/v1/users/{fan.handle}/mute", headers=mina.headers)
        await client.post(f"/v1/users/{fan.handle}/block", headers=mina.headers)

    newest_first = [f"fan{i}" for i in reversed(range(5))]
    assert [p["handle"] for p in await walk(client, mina, "/v1/me/blocks", limit)] == newest_first
    assert [p["handle"] for p in await walk(client, mina, "/v1/me/mutes", limit)] == newest_first


@pytest.mark.parametrize("limit", [2, 100])
async def test_follower_lists_page_newest_first(
    client: httpx.AsyncClient, sign_up: SignUp, limit: int
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    fans = [await sign_up(f"fan{i}") for i in range(5)]
    for fan in fans:
        await follow(client, fan, "mina")
        await follow(client, mina, fan.handle)
    await follow(client, theo, "fan2")
    newest_first = [f"fan{i}" for i in reversed(range(5))]
    followers = await walk(client, theo, "/v1/users/mina/followers", limit)
    assert [p["handle"] for p in followers] == newest_first
    assert {p["relationship"] for p in followers if p["handle"] != "fan2"} == {"none"}
    assert next(p for p in followers if p["handle"] == "fan2")["relationship"] == "following"
    following = await walk(client, theo, "/v1/users/mina/following", limit)
    assert [p["handle"] for p in following] == newest_first


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "validation_error"),
        ({"limit": 101}, "validation_error"),
        ({"limit": "many"}, "validation_error"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": "x" * 201}, "validation_error"),
    ],
)
async def test_list_parameters_are_checked(
    client: httpx.AsyncClient, sign_up: SignUp, params: Json, code: str
) -> None:
    mina = await sign_up("mina")
    for path in (
        "/v1/users/mina/followers",
        "/v1/users/mina/following",
        "/v1/me/follow-requests",
        "/v1/me/blocks",
        "/v1/me/mutes",
        "/v1/me/close-friends",
        "/v1/me/notes",
    ):
        response = await client.get(path, params=params, headers=mina.headers)
        assert_problem(response, 422, code)


# A fixed id: pytest-xdist workers must collect the same test names.
SOME_ID = "0b0e5a4e-1b7a-4c5e-9f3a-2d8c6e1f7a90"
GRAPH_ROUTES = [
    ("POST", "/v1/users/mina/follow"),
    ("DELETE", "/v1/users/mina/follow"),
    ("GET", "/v1/users/mina/followers"),
    ("GET", "/v1/users/mina/following"),
    ("DELETE", "/v1/me/followers/mina"),
    ("GET", "/v1/me/follow-requests"),
    ("POST", f"/v1/me/follow-requests/{SOME_ID}/approve"),
    ("POST", f"/v1/me/follow-requests/{SOME_ID}/deny"),
    ("POST", "/v1/users/mina/block"),
    ("DELETE", "/v1/users/mina/block"),
    ("POST", "/v1/users/mina/mute"),
    ("DELETE", "/v1/users/mina/mute"),
    ("GET", "/v1/me/blocks"),
    ("GET", "/v1/me/mutes"),
    ("PUT", "/v1/me/close-friends/mina"),
    ("DELETE", "/v1/me/close-friends/mina"),
    ("GET", "/v1/me/close-friends"),
]


@pytest.mark.parametrize(("method", "path"), GRAPH_ROUTES)
async def test_graph_routes_need_a_token(
    client: httpx.AsyncClient, sign_up: SignUp, method: str, path: str
) -> None:
    await sign_up("mina")
    response = await client.request(method, path)
    assert_problem(response, 401, "not_authenticated")


@pytest.mark.parametrize(("method", "path"), [r for r in GRAPH_ROUTES if "mina" in r[1]])
async def test_graph_routes_check_the_handle_format(
    client: httpx.AsyncClient, sign_up: SignUp, method: str, path: str
) -> None:
    mina = await sign_up("mina")
    response = await client.request(method, path.replace("mina", "mi"), headers=mina.headers)
    assert_problem(response, 422, "validation_error")


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs, through either pool."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    read = ReadQuery.all

    async def read_and_record(query: ReadQuery, db: ReadDb, **values: Any) -> list[Any]:
        seen.append(query.sql)
        return await read(query, db, **values)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        with patch.object(ReadQuery, "all", read_and_record):
            yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_reads_cost_the_same_few_queries_at_any_size(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp
) -> None:
    await sign_up("mina")
    theo = await sign_up("theo")
    await follow(client, theo, "mina")
    cache: AuthCache = app.state.auth_cache
    async with asyncio.timeout(5):
        await cache.wait_until(lambda c: c.active)
    # Theo's session is cached from his first read on (`tests/accounts/test_auth_cache.py`).
    assert (await client.get("/v1/users/mina", headers=theo.headers)).status_code == 200
    paths = ("/v1/users/mina", "/v1/users/mina/followers", "/v1/me")

    async def cost(path: str) -> int:
        with statements(app) as seen:
            assert (await client.get(path, headers=theo.headers)).status_code == 200
        return len(seen)

    few = {path: await cost(path) for path in paths}
    for i in range(12):
        fan = await sign_up(f"fan{i}")
        await follow(client, fan, "mina")
        await follow(client, theo, fan.handle)
    many = {path: await cost(path) for path in paths}
    assert few == many
    # Authentication, then at most the person and the page.
    assert all(count <= 3 for count in many.values()), many
    # A profile: the person, one statement on the read pool.
    assert many["/v1/users/mina"] == 1
