"""`/docs` needs nothing but this server."""

from __future__ import annotations

import re

import httpx


async def test_docs_load_every_asset_from_this_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200

    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert len(assets) >= 3, page.text
    assert [url for url in assets if "//" in url] == [], "docs must not load from elsewhere"
    for url in assets:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    assert "openapi.json" in page.text
