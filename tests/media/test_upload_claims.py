"""Once an upload is used its URL refuses writes; a person holds a bounded number of grants."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from keepsake.main import create_app
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import PASSWORD, running
from tests.fixtures.media_factory import write_photo
from tests.fixtures.memory_helpers import create_memory, local_path

SignUp = Callable[..., Any]
GRANT = {"purpose": "clip", "content_type": "image/jpeg"}


async def _granted(client: httpx.AsyncClient, headers: dict[str, str], size: int) -> httpx.Response:
    return await client.post("/v1/uploads", json={**GRANT, "size_bytes": size}, headers=headers)


async def test_a_used_uploads_url_refuses_writes(
    client: httpx.AsyncClient, sign_up: SignUp, data_dir: Path, tmp_path: Path
) -> None:
    mina = await sign_up()
    photo = write_photo(tmp_path / "photo.jpg").read_bytes()
    grant = (await _granted(client, mina.headers, len(photo))).json()
    url, headers = local_path(grant["upload_url"]), grant["headers"]
    assert (await client.put(url, content=photo, headers=headers)).status_code == 204
    # Before use, the same URL may send the bytes again (a retry after a dropped answer).
    assert (await client.put(url, content=photo, headers=headers)).status_code == 204

    await create_memory(client, mina, [grant["id"]])
    other = b"\xff" * len(photo)
    assert_problem(await client.put(url, content=other, headers=headers), 409, "upload_used")
    # The checked bytes were copied to a key no URL names.
    folder = data_dir / "media" / "uploads" / mina.id
    assert (folder / f"{grant['id']}.claimed").read_bytes() == photo


async def test_open_upload_grants_are_capped_per_person(
    make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    photo = write_photo(tmp_path / "photo.jpg").read_bytes()
    async with running(create_app(make_settings(max_open_uploads=2))) as client:
        signup = await client.post(
            "/v1/auth/signup",
            json={
                "email": "cap@example.com",
                "password": PASSWORD,
                "handle": "cap",
                "display_name": "Cap",
            },
        )
        assert signup.status_code == 201, signup.text
        headers = {"Authorization": f"Bearer {signup.json()['tokens']['access_token']}"}
        first = (await _granted(client, headers, len(photo))).json()
        assert (await _granted(client, headers, len(photo))).status_code == 201
        refused = await _granted(client, headers, len(photo))
        assert_problem(refused, 409, "too_many_open_uploads")

        # Using one frees its place.
        put = await client.put(
            local_path(first["upload_url"]), content=photo, headers=first["headers"]
        )
        assert put.status_code == 204
        body = {"clips": [{"upload_id": first["id"]}], "visibility": "public"}
        assert (await client.post("/v1/memories", json=body, headers=headers)).status_code == 202
        assert (await _granted(client, headers, len(photo))).status_code == 201
