"""Share pages, read as a signed-out stranger: only what is public, else one 404 page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.config import Settings
from tests.fixtures.feed_helpers import seed_memory, set_status
from tests.moderation.helpers import act, moderator
from tests.profiles.test_profiles import patch_me
from tests.web.html_checks import foreign_urls, meta, parse_strict

SignUp = Callable[..., Any]


async def test_a_public_memory_is_shared_with_its_tags_and_escaped_caption(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, settings: Settings
) -> None:
    mina = await sign_up("mina")
    await patch_me(client, mina, note="by the <b>sea</b>")
    caption = 'A walk <script>alert("x")</script> & more'
    memory_id = await seed_memory(engine, mina, caption=caption, clips=2)

    response = await client.get(f"/m/{memory_id}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "public, max-age=60"
    csp = response.headers["content-security-policy"]
    assert csp.startswith("default-src 'self'")
    assert f"media-src 'self' {settings.public_url}" in csp
    page = response.text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    assert "&lt;b&gt;sea&lt;/b&gt;" in page
    document = parse_strict(page)
    assert meta(document, "og:title") == "Mina on Keepsake"
    assert meta(document, "og:description") == caption
    assert meta(document, "og:type") == "video.other"
    assert meta(document, "twitter:card") == "player"
    video, poster = meta(document, "og:video"), meta(document, "og:image")
    assert video
    assert f"memories/{memory_id}/0/" in video
    assert poster
    assert f"memories/{memory_id}/0/" in poster
    assert meta(document, "robots") == "noindex"
    assert response.headers["x-robots-tag"] == "noindex"
    assert f'href="keepsake://memory/{memory_id}"' in page
    [oembed] = [
        link.get("href") or ""
        for link in document.iter("link")
        if link.get("type") == "application/json+oembed"
    ]
    assert oembed.startswith(f"{settings.public_url}/oembed?")
    assert parse_qs(urlsplit(oembed).query) == {"url": [f"{settings.public_url}/m/{memory_id}"]}
    # Both clips, in order, for the player's script.
    clips = [li.get("data-video") or "" for li in document.iter("li")]
    assert [f"memories/{memory_id}/{n}/" in url for n, url in enumerate(clips)] == [True, True]
    assert foreign_urls(page, settings.public_url) == []
    # Every link of this server's on the page leads to a page (the profile), none to a 404.
    links = [a.get("href") or "" for a in document.iter("a")]
    local = [href for href in links if href.startswith("/")]
    assert local == ["/u/mina"]
    for href in local:
        assert (await client.get(href)).status_code == 200, href


async def test_everything_not_public_is_the_same_404_page(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    theo, pri, gone, leaving = [await sign_up(h) for h in ("theo", "pri", "gone", "leaving")]
    hidden_from_strangers = [
        await seed_memory(engine, theo, visibility=v)
        for v in ("only_me", "close_friends", "followers")
    ]
    hidden_from_strangers.append(await seed_memory(engine, theo, status="processing"))
    hidden_from_strangers.append(await seed_memory(engine, theo, status="failed"))
    await patch_me(client, pri, is_private=True)
    hidden_from_strangers.append(await seed_memory(engine, pri))
    hidden_from_strangers.append(await seed_memory(engine, gone))
    await set_status(engine, gone, "suspended")
    hidden_from_strangers.append(await seed_memory(engine, leaving))
    await set_status(engine, leaving, "deleting")
    deleted = await seed_memory(engine, theo)
    response = await client.delete(f"/v1/memories/{deleted}", headers=theo.headers)
    assert response.status_code == 204

    missing = await client.get("/m/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    parse_strict(missing.text)
    for memory_id in [*hidden_from_strangers, deleted, "not-a-uuid"]:
        response = await client.get(f"/m/{memory_id}")
        assert (response.status_code, response.text) == (404, missing.text), memory_id
    for handle in ("pri", "gone", "leaving", "nobody", "x" * 200):
        response = await client.get(f"/u/{handle}")
        assert (response.status_code, response.text) == (404, missing.text), handle


async def test_a_profile_shows_its_public_memories_and_never_a_count(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, settings: Settings
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await client.post("/v1/users/mina/follow", headers=theo.headers)
    await patch_me(client, mina, note="walking by the sea", bio="Slow <i>mornings</i>")
    public = await seed_memory(engine, mina, caption="public one")
    followers_only = await seed_memory(engine, mina, visibility="followers")

    response = await client.get("/u/MINA")

    assert response.status_code == 200
    page = response.text
    assert f'href="/m/{public}"' in page
    assert followers_only not in page
    assert "walking by the sea" in page
    assert "&lt;i&gt;mornings" in page
    assert "follower" not in page.lower()
    assert "clap" not in page.lower()
    assert foreign_urls(page, settings.public_url) == []
    assert meta(parse_strict(page), "robots") == "noindex"
    assert (await client.get("/u/mina?cursor=garbage")).status_code == 404


async def test_discoverable_accounts_may_be_indexed(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    me = await client.get("/v1/me", headers=mina.headers)
    assert me.json()["discoverable"] is False
    memory_id = await seed_memory(engine, mina)
    assert (await patch_me(client, mina, discoverable=True)).json()["discoverable"] is True

    for path in (f"/m/{memory_id}", "/u/mina"):
        response = await client.get(path)
        assert "x-robots-tag" not in response.headers
        assert meta(parse_strict(response.text), "robots") is None
    refused = await client.patch("/v1/me", json={"discoverable": None}, headers=mina.headers)
    assert refused.status_code == 422


async def test_oembed_describes_only_public_memories(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, settings: Settings
) -> None:
    mina = await sign_up("mina")
    public = await seed_memory(engine, mina, caption="sea")
    private = await seed_memory(engine, mina, visibility="followers")

    response = await client.get("/oembed", params={"url": f"{settings.public_url}/m/{public}"})

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "1.0"
    assert body["type"] == "video"
    assert body["title"] == "sea"
    assert body["author_name"] == "Mina"
    assert f'src="{settings.public_url}/m/{public}"' in body["html"]
    for url in (
        f"{settings.public_url}/m/{private}",
        f"https://elsewhere.example/m/{public}",
        f"{settings.public_url}/u/mina",
    ):
        refused = await client.get("/oembed", params={"url": url})
        assert refused.status_code == 404
        assert refused.json()["code"] == "memory_not_found"
    xml = await client.get(
        "/oembed", params={"url": f"{settings.public_url}/m/{public}", "format": "xml"}
    )
    assert xml.status_code == 422


async def test_a_hidden_memory_and_a_suspended_account_are_not_shared(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    mod = await moderator(engine, await sign_up("mod"))
    memory_id = await seed_memory(engine, mina, caption="at the sea")
    missing = await client.get("/m/00000000-0000-4000-8000-000000000000")
    assert (await client.get(f"/m/{memory_id}")).status_code == 200

    assert (await act(client, mod, f"/memories/{memory_id}/hide")).status_code == 200
    hidden = await client.get(f"/m/{memory_id}")
    assert (hidden.status_code, hidden.text) == (404, missing.text)
    assert memory_id not in (await client.get("/u/mina")).text
    assert (await act(client, mod, f"/memories/{memory_id}/restore")).status_code == 200
    assert (await client.get(f"/m/{memory_id}")).status_code == 200

    assert (await act(client, mod, "/users/mina/suspend")).status_code == 200
    for path in (f"/m/{memory_id}", "/u/mina"):
        response = await client.get(path)
        assert (response.status_code, response.text) == (404, missing.text), path
    assert (await act(client, mod, "/users/mina/unsuspend")).status_code == 200
    assert (await client.get("/u/mina")).status_code == 200


async def test_share_pages_speak_the_viewers_language(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    memory_id = await seed_memory(engine, mina)
    korean = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
    pages = (f"/m/{memory_id}", "/u/mina", "/m/00000000-0000-4000-8000-000000000000")
    for path in pages:
        response = await client.get(path, headers=korean)
        assert response.headers["vary"] == "Accept-Language"
        document = parse_strict(response.text)
        assert document.get("lang") == "ko", path
    shared = (await client.get(f"/m/{memory_id}", headers=korean)).text
    assert "앱에서 열기" in shared
    assert meta(parse_strict(shared), "og:title") == "Keepsake의 Mina"
    missing = await client.get(pages[2], headers=korean)
    assert "찾을 수 없어요" in missing.text
    for header in ({"Accept-Language": "fr-FR, en;q=0.8"}, {}):
        english = await client.get(f"/m/{memory_id}", headers=header)
        assert parse_strict(english.text).get("lang") == "en"
        assert "Open in the app" in english.text
