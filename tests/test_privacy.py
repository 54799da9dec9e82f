"""The privacy policy, from every read path: blocks, private accounts, hidden numbers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.models import AccountStatus
from keepsake.graph.models import FollowState
from keepsake.privacy import (
    Person,
    Relation,
    can_see_lists,
    can_see_profile,
    relationship,
)
from tests.conftest import Member
from tests.test_graph import follow, handles
from tests.test_profiles import assert_problem, patch_me

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


async def assert_hidden(client: httpx.AsyncClient, viewer: Member, handle: str) -> None:
    for path in PROFILE_PATHS:
        response = await client.get(path.format(h=handle), headers=viewer.headers)
        assert_problem(response, 404, "user_not_found")


async def test_a_block_hides_both_accounts_from_each_other(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
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
