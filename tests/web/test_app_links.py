"""The app-link files Apple and Google fetch: JSON, straight, from the settings."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from keepsake.config import Settings
from keepsake.main import create_app
from tests.conftest import running

APPLE = "/.well-known/apple-app-site-association"
GOOGLE = "/.well-known/assetlinks.json"


async def test_app_links_come_from_the_settings(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        ios_app_ids=["ABCDE12345.com.example.keepsake"],
        android_package="com.example.keepsake",
        android_cert_sha256=["AB:CD:EF"],
    )
    async with running(create_app(settings)) as client:
        apple, google = await client.get(APPLE), await client.get(GOOGLE)

    for response in (apple, google):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
    [details] = apple.json()["applinks"]["details"]
    assert details["appIDs"] == ["ABCDE12345.com.example.keepsake"]
    paths = [c["/"] for c in details["components"]]
    assert {"/m/*", "/u/*", "/verify-email", "/reset-password*"} <= set(paths)
    [statement] = google.json()
    assert statement["target"] == {
        "namespace": "android_app",
        "package_name": "com.example.keepsake",
        "sha256_cert_fingerprints": ["AB:CD:EF"],
    }


async def test_without_apps_the_files_say_so(client: httpx.AsyncClient) -> None:
    assert (await client.get(APPLE)).json() == {"applinks": {"details": []}}
    assert (await client.get(GOOGLE)).json() == []
