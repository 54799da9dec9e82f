"""The privacy policy, from every read path: blocks, private accounts, hidden numbers, and
who may see a memory (the Python rule and its SQL twin, checked against each other)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from itertools import product
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import literal, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from keepsake.accounts.models import AccountStatus, User
from keepsake.graph import service as graph
from keepsake.graph.models import FollowState
from keepsake.memories.models import Memory, MemoryStatus, Visibility
from keepsake.privacy import (
    Person,
    Relation,
    can_see_lists,
    can_see_memory,
    can_see_profile,
    memory_visible,
    relationship,
)
from tests.conftest import Member
from tests.graph.test_close_friends import add as add_close_friend
from tests.graph.test_graph import follow, handles, statements
from tests.profiles.test_profiles import assert_problem, patch_me

SignUp = Callable[..., Any]

PROFILE_PATHS = ("/v1/users/{h}", "/v1/users/{h}/followers", "/v1/users/{h}/following")


def numbers_in(value: Any, path: str = "$") -> list[str]:
    """Every number, and every key that names a count, anywhere in a JSON document."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "count" in key.lower() or key.lower() in {"followers", "following", "total"}:
                found.append(f"{path}.{key}")
            found += numbers_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += numbers_in(item, f"{path}[{index}]")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        found.append(path)
    return found


async def found_by_search(client: httpx.AsyncClient, viewer: Member, handle: str) -> bool:
    """Whether people search by the handle's prefix finds the account."""
    response = await client.get(
        "/v1/search/people", params={"q": handle[:3]}, headers=viewer.headers
    )
    assert response.status_code == 200, response.text
    return handle in [item["handle"] for item in response.json()["items"]]


async def assert_hidden(client: httpx.AsyncClient, viewer: Member, handle: str) -> None:
    for path in PROFILE_PATHS:
        response = await client.get(path.format(h=handle), headers=viewer.headers)
        assert_problem(response, 404, "user_not_found")
    assert not await found_by_search(client, viewer, handle)


async def test_a_block_hides_both_accounts_from_each_other(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    assert await found_by_search(client, theo, "mina")
    assert await found_by_search(client, mina, "theo")
    await client.post("/v1/users/theo/block", headers=mina.headers)
    await assert_hidden(client, theo, "mina")
    await assert_hidden(client, mina, "theo")
    # The answers match those for an account that never existed.
    nobody = await client.get("/v1/users/nobody", headers=theo.headers)
    blocked = await client.get("/v1/users/mina", headers=theo.headers)
    assert blocked.json() == nobody.json()
    for member, handle in ((theo, "mina"), (mina, "theo")):
        assert_problem(await follow(client, member, handle), 404, "user_not_found")
        response = await client.post(f"/v1/users/{handle}/mute", headers=member.headers)
        assert_problem(response, 404, "user_not_found")

    await client.delete("/v1/users/theo/block", headers=mina.headers)
    assert (await client.get("/v1/users/mina", headers=theo.headers)).status_code == 200
    assert await found_by_search(client, theo, "mina")


async def test_an_unsearchable_account_is_left_out_of_search_only(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    assert await found_by_search(client, theo, "mina")
    assert (await patch_me(client, mina, searchable=False)).status_code == 200
    assert not await found_by_search(client, theo, "mina")
    assert (await client.get("/v1/users/mina", headers=theo.headers)).status_code == 200


async def test_lists_leave_out_people_blocked_with_the_viewer(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    await follow(client, theo, "mina")
    await follow(client, ada, "mina")
    await follow(client, mina, "theo")
    await client.post("/v1/users/ada/block", headers=theo.headers)
    assert await handles(client, theo, "/v1/users/mina/followers") == ["theo"]
    assert sorted(await handles(client, mina, "/v1/users/mina/followers")) == ["ada", "theo"]
    # Ada, blocked by Theo, no longer sees him in Mina's lists either.
    assert await handles(client, ada, "/v1/users/mina/followers") == ["ada"]
    assert await handles(client, ada, "/v1/users/mina/following") == []


async def test_another_users_views_never_carry_a_number(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    await follow(client, theo, "mina")
    await follow(client, ada, "mina")
    await follow(client, mina, "ada")
    await patch_me(client, theo, is_private=True)
    await follow(client, mina, "theo")
    views = [
        await client.get("/v1/users/mina", headers=theo.headers),
        await client.get("/v1/users/mina/followers", headers=theo.headers),
        await client.get("/v1/users/mina/following", headers=theo.headers),
        await client.get("/v1/users/mina/followers", headers=mina.headers),
        await client.get("/v1/users/mina", headers=mina.headers),
        await client.get("/v1/me/follow-requests", headers=theo.headers),
        await follow(client, ada, "mina"),
        await follow(client, ada, "theo"),
    ]
    for response in views:
        assert response.status_code == 200, response.text
        assert numbers_in(response.json()) == [], response.json()
    # Only the owner's own /v1/me has counts.
    me = (await client.get("/v1/me", headers=mina.headers)).json()
    assert set(numbers_in(me)) == {
        "$.counts",
        "$.counts.followers",
        "$.counts.following",
        "$.counts.follow_requests",
    }


async def test_private_lists_are_for_accepted_followers(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    await follow(client, ada, "mina")
    await patch_me(client, mina, is_private=True)
    await follow(client, theo, "mina")  # only a request so far
    for path in PROFILE_PATHS[1:]:
        url = path.format(h="mina")
        body = assert_problem(await client.get(url, headers=theo.headers), 403, "private_account")
        assert "private" in body["detail"]
        assert (await client.get(url, headers=ada.headers)).status_code == 200
        assert (await client.get(url, headers=mina.headers)).status_code == 200
    # The profile itself stays visible, so the app can offer to follow.
    seen = (await client.get("/v1/users/mina", headers=theo.headers)).json()
    assert seen["is_private"] is True
    assert seen["relationship"] == "requested"

    request_id = (await client.get("/v1/me/follow-requests", headers=mina.headers)).json()
    await client.post(
        f"/v1/me/follow-requests/{request_id['items'][0]['id']}/approve", headers=mina.headers
    )
    assert sorted(await handles(client, theo, "/v1/users/mina/followers")) == ["ada", "theo"]


async def test_public_lists_are_for_everyone(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    await sign_up("mina")
    theo = await sign_up("theo")
    assert await handles(client, theo, "/v1/users/mina/followers") == []
    assert await handles(client, theo, "/v1/users/mina/following") == []


@pytest.mark.parametrize("status", ["suspended", "deleting"])
async def test_suspended_and_deleting_accounts_disappear(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, status: str
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, theo, "mina")
    await follow(client, mina, "theo")
    assert await found_by_search(client, theo, "mina")
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET status = CAST(:status AS account_status) WHERE handle = 'mina'"),
            {"status": status},
        )
    await assert_hidden(client, theo, "mina")
    assert await handles(client, theo, "/v1/users/theo/followers") == []
    assert await handles(client, theo, "/v1/users/theo/following") == []
    assert (await client.get("/v1/me", headers=theo.headers)).json()["counts"] == {
        "followers": 0,
        "following": 0,
        "follow_requests": 0,
    }


def person(
    status: AccountStatus = AccountStatus.active, *, is_private: bool = False, **flags: Any
) -> Person:
    return Person(
        id=uuid.uuid4(),
        handle="mina",
        display_name="Mina",
        bio="",
        note="",
        is_private=is_private,
        status=status,
        relation=Relation(**flags),
    )


def test_policy_blocks_hide_everything_except_from_the_owner() -> None:
    viewer = uuid.uuid4()
    for target in (person(blocking=True), person(blocked_by=True)):
        assert not can_see_profile(viewer, target)
        assert not can_see_lists(viewer, target)
        assert can_see_profile(target.id, target)
    suspended = person(AccountStatus.suspended)
    assert not can_see_profile(viewer, suspended)
    assert not can_see_profile(None, suspended)


def test_policy_private_lists() -> None:
    viewer = uuid.uuid4()
    assert can_see_lists(None, person())
    assert not can_see_lists(None, person(is_private=True))
    assert not can_see_lists(viewer, person(is_private=True, following=FollowState.requested))
    assert can_see_lists(viewer, person(is_private=True, following=FollowState.active))
    owner = person(is_private=True)
    assert can_see_lists(owner.id, owner)


def test_policy_relationship_labels() -> None:
    viewer = uuid.uuid4()
    assert relationship(viewer, person()) == "none"
    assert relationship(None, person()) == "none"
    assert relationship(viewer, person(following=FollowState.active)) == "following"
    assert relationship(viewer, person(following=FollowState.requested)) == "requested"
    target = person()
    assert relationship(target.id, target) == "self"


def test_policy_memories_of_an_invisible_or_unready_author() -> None:
    viewer = uuid.uuid4()
    for visibility in Visibility:
        following = person(following=FollowState.active, close_friend=True)
        assert can_see_memory(
            viewer, following, visibility=visibility, ready=True, hidden=False
        ) == (visibility != Visibility.only_me)
        assert not can_see_memory(
            viewer, following, visibility=visibility, ready=False, hidden=False
        )
        assert not can_see_memory(viewer, following, visibility=visibility, ready=True, hidden=True)
        blocked = person(following=FollowState.active, close_friend=True, blocked_by=True)
        assert not can_see_memory(viewer, blocked, visibility=visibility, ready=True, hidden=False)
        gone = person(AccountStatus.deleting)
        assert can_see_memory(gone.id, gone, visibility=visibility, ready=False, hidden=True)


def test_policy_memories_for_a_signed_out_viewer() -> None:
    seen = {
        v
        for v in Visibility
        if can_see_memory(None, person(), visibility=v, ready=True, hidden=False)
    }
    assert seen == {Visibility.public}
    private = person(is_private=True)
    assert not any(
        can_see_memory(None, private, visibility=v, ready=True, hidden=False) for v in Visibility
    )


V = Visibility
# What each viewer (named by handle) sees of a ready memory by Mina, an active account,
# by visibility: (while her account is public, while it is private).
EXPECTED: dict[str, tuple[set[Visibility], set[Visibility]]] = {
    "mina": (set(V), set(V)),
    "stranger": ({V.public}, set()),
    "requested": ({V.public}, set()),
    "follower": ({V.followers, V.public}, {V.followers, V.public}),
    "pal": ({V.close_friends, V.public}, {V.close_friends}),
    "close_follower": ({V.close_friends, V.followers, V.public},) * 2,
    "blocked": (set(), set()),
    "blocking": (set(), set()),
    "stale_pal": (set(), set()),
}
CASES = list(product(Visibility, (False, True), MemoryStatus, AccountStatus, (False, True)))


async def _viewers_of_mina(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> dict[str, Member]:
    """One account per row of `EXPECTED`, related to Mina through the API."""
    members = {name: await sign_up(name) for name in EXPECTED}
    mina = members["mina"]
    for name in ("follower", "close_follower"):
        await follow(client, members[name], "mina")
    for name in ("pal", "close_follower", "stale_pal"):
        assert (await add_close_friend(client, mina, name)).status_code == 204
    await client.post("/v1/users/blocked/block", headers=mina.headers)
    for name in ("blocking", "stale_pal"):
        await client.post("/v1/users/mina/block", headers=members[name].headers)
    # A block racing an add can leave a close-friends row behind; it must grant nothing.
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO close_friends (owner_id, friend_id) VALUES (:owner, :friend)"),
            {"owner": mina.id, "friend": members["stale_pal"].id},
        )
    await patch_me(client, mina, is_private=True)
    await follow(client, members["requested"], "mina")
    return members


async def test_memory_visibility_agrees_in_python_and_sql(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine, sign_up: SignUp
) -> None:
    members = await _viewers_of_mina(client, engine, sign_up)
    mina = uuid.UUID(members["mina"].id)
    # The memory and author columns as literals of the real column types, so the SQL
    # compares the real enums while its EXISTS probes read the rows made above.
    columns = Memory.__table__.c
    users = User.__table__.c
    for name, member in members.items():
        viewer = uuid.UUID(member.id)
        async with AsyncSession(app.state.engine) as db:
            author = await graph.person_by_id(db, viewer_id=viewer, user_id=mina)
            assert author is not None
            query = select(
                *(
                    memory_visible(
                        viewer,
                        author_id=literal(mina, users.id.type),
                        visibility=literal(visibility, columns.visibility.type),
                        status=literal(status, columns.status.type),
                        hidden_at=literal(
                            datetime.now(UTC) if hidden else None, columns.hidden_at.type
                        ),
                        author_status=literal(author_status, users.status.type),
                        author_is_private=literal(private, users.is_private.type),
                    )
                    for visibility, private, status, author_status, hidden in CASES
                )
            )
            in_sql = (await db.execute(query)).one()
        for case, sql_says in zip(CASES, in_sql, strict=True):
            visibility, private, status, author_status, hidden = case
            ready = status == MemoryStatus.ready
            as_case = replace(author, is_private=private, status=author_status)
            python_says = can_see_memory(
                viewer, as_case, visibility=visibility, ready=ready, hidden=hidden
            )
            expected = name == "mina" or (
                ready
                and not hidden
                and author_status == AccountStatus.active
                and visibility in EXPECTED[name][private]
            )
            assert (python_says, sql_says) == (expected, expected), (name, case)


async def test_people_by_ids_loads_each_relation_in_one_query(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    await follow(client, theo, "mina")
    await add_close_friend(client, mina, "theo")
    await client.post("/v1/users/ada/mute", headers=theo.headers)
    viewer, mina_id, ada_id = uuid.UUID(theo.id), uuid.UUID(mina.id), uuid.UUID(ada.id)
    async with AsyncSession(app.state.engine) as db:
        with statements(app) as seen:
            people = await graph.people_by_ids(
                db, viewer_id=viewer, user_ids=[mina_id, ada_id, uuid.uuid4()]
            )
        assert len(seen) == 1
        with statements(app) as seen:
            assert await graph.people_by_ids(db, viewer_id=viewer, user_ids=[]) == {}
        assert seen == []
        assert set(people) == {mina_id, ada_id}
        assert people[mina_id].handle == "mina"
        assert people[mina_id].relation == Relation(following=FollowState.active, close_friend=True)
        assert people[ada_id].relation == Relation(muting=True)
        by_id = await graph.person_by_id(db, viewer_id=viewer, user_id=mina_id)
        assert by_id == people[mina_id]
        # Mina sees Theo without learning anything: the flag is about the viewer's place.
        seen_by_mina = await graph.person_by_id(db, viewer_id=mina_id, user_id=viewer)
        assert seen_by_mina is not None
        assert seen_by_mina.relation == Relation(follows_viewer=True)
        assert await graph.person_by_id(db, viewer_id=viewer, user_id=uuid.uuid4()) is None
