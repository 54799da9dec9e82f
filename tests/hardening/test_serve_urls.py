"""`keepsake serve` without KEEPSAKE_PUBLIC_URL hands out URLs on the address it serves."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx

from keepsake.serve_address import network_address
from tests.conftest import PASSWORD
from tests.fixtures.keepsake_cli import Keepsake


def test_every_interface_on_any_port_hands_out_urls_that_work(keepsake: Keepsake) -> None:
    server = keepsake.serve("--host", "0.0.0.0")  # noqa: S104 (the case under test)
    announced = urlsplit(server.base_url)
    assert announced.hostname == network_address(socket.AF_INET)
    assert announced.port not in (None, 8000)
    assert f"URLs handed out start with {server.base_url}" in server.output()

    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        body = {"email": "ana@example.com", "password": PASSWORD, "handle": "ana"}
        tokens = http.post("/v1/auth/signup", json={**body, "display_name": "Ana"}).json()
        headers = {"Authorization": f"Bearer {tokens['tokens']['access_token']}"}
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 56
        grant = http.post(
            "/v1/uploads",
            json={"purpose": "avatar", "content_type": "image/png", "size_bytes": len(png)},
            headers=headers,
        )
        assert grant.status_code == 201, grant.text
        upload_url = grant.json()["upload_url"]
        assert upload_url.startswith(f"{server.base_url}/"), upload_url

        put = httpx.put(upload_url, content=png, headers=grant.json()["headers"], timeout=10)

    assert put.status_code == 204, put.text
