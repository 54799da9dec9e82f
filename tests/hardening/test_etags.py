"""`ETag` / `If-None-Match` on the polled reads: 304 on a repeat, 200 after a change,
never a match across viewers, and documented in OpenAPI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from keepsake.etags import CACHE_CONTROL, POLLED
from tests.conftest import Member
from tests.graph.test_graph import follow
from tests.profiles.test_profiles import patch_me

SignUp = Callable[..., Any]


async def poll(
    client: httpx.AsyncClient, member: Member, path: str, tag: str | None = None
) -> httpx.Response:
    headers = member.headers | ({"If-None-Match": tag} if tag else {})
    return await client.get(path, headers=headers)


@pytest.mark.parametrize("path", sorted(POLLED))
async def test_a_repeat_is_304_without_a_body(
    client: httpx.AsyncClient, sign_up: SignUp, path: str
) -> None:
    mina = await sign_up("mina")
    first = await poll(client, mina, path)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert tag.startswith('W/"')
    assert first.headers["cache-control"] == CACHE_CONTROL
    again = await poll(client, mina, path, tag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert "content-type" not in again.headers
    # Any of several tags, strong or weak spelling, matches.
    listed = await poll(client, mina, path, f'"other", {tag.removeprefix("W/")}')
    assert listed.status_code == 304


async def test_a_change_answers_200_with_a_new_tag(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    inbox = (await poll(client, mina, "/v1/notifications")).headers["etag"]
    me = (await poll(client, mina, "/v1/me")).headers["etag"]
    await follow(client, theo, "mina")
    changed = await poll(client, mina, "/v1/notifications", inbox)
    assert changed.status_code == 200
    assert [item["kind"] for item in changed.json()["items"]] == ["follow"]
    assert changed.headers["etag"] != inbox
    # Her follower count moved, so her own profile did too.
    moved = await poll(client, mina, "/v1/me", me)
    assert moved.status_code == 200
    assert moved.headers["etag"] != me
    assert (await patch_me(client, mina, display_name="Mina K")).status_code == 200
    renamed = await poll(client, mina, "/v1/me", moved.headers["etag"])
    assert (renamed.status_code, renamed.json()["display_name"]) == (200, "Mina K")


async def test_a_tag_never_matches_for_another_viewer(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    for path in ("/v1/notifications", "/v1/feed/home"):
        hers, his = await poll(client, mina, path), await poll(client, theo, path)
        # Both empty: the same body, yet not the same tag.
        assert hers.json() == his.json()
        assert hers.headers["etag"] != his.headers["etag"]
        stolen = await poll(client, theo, path, hers.headers["etag"])
        assert stolen.status_code == 200


async def test_no_tag_without_a_viewer_or_past_the_first_page(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    anonymous = await client.get("/v1/notifications", headers={"If-None-Match": "*"})
    assert anonymous.status_code == 401
    assert "etag" not in anonymous.headers
    first = await poll(client, mina, "/v1/feed/home")
    later = await client.get(
        "/v1/feed/home",
        params={"cursor": "bm90LWEtY3Vyc29y"},
        headers=mina.headers | {"If-None-Match": first.headers["etag"]},
    )
    assert later.status_code != 304
    assert "etag" not in later.headers


async def test_the_polled_reads_document_their_tags(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in POLLED:
        operation = spec["paths"][path]["get"]
        assert "If-None-Match" in {p["name"] for p in operation["parameters"]}
        assert "ETag" in operation["responses"]["200"]["headers"]
        assert "ETag" in operation["responses"]["304"]["headers"]
