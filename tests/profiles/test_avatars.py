"""Avatars: a real photo becomes square, upright JPEGs with no metadata, shown everywhere."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import ExifTags, Image

from keepsake.storage.base import Storage
from tests.conftest import Member
from tests.fixtures.media_factory import picture, write_photo, write_random_bytes, write_video
from tests.fixtures.memory_helpers import local_path, upload
from tests.fixtures.polling import eventually

SignUp = Callable[..., Any]
Json = dict[str, Any]
EDGES = {"small": 96, "medium": 320, "large": 640}


def write_phone_photo(path: Path, size: tuple[int, int] = (1000, 700)) -> Path:
    """A JPEG as a phone held upright writes it: landscape pixels, orientation 6, GPS."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Apple"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (37.0, 46.0, 29.64)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (122.0, 25.0, 9.84)
    picture(*size).save(path, exif=exif, comment=b"taken at home")
    return path


def write_png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that claims `width` x `height` pixels but holds a few bytes: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    return path


async def set_avatar(
    client: httpx.AsyncClient, member: Member, upload_id: str | None
) -> httpx.Response:
    return await client.patch(
        "/v1/me", json={"avatar_upload_id": upload_id}, headers=member.headers
    )


async def avatar_upload(
    client: httpx.AsyncClient, member: Member, path: Path, content_type: str = "image/jpeg"
) -> str:
    return await upload(client, member, path, content_type, purpose="avatar")


async def fetch_image(client: httpx.AsyncClient, url: str) -> Image.Image:
    response = await client.get(local_path(url))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    # No EXIF segment, so nothing from the camera can hide in the file.
    assert b"Exif" not in response.content
    image = Image.open(BytesIO(response.content))
    image.load()
    return image


def assert_problem(response: httpx.Response, status: int, code: str) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: Json = response.json()
    assert body["code"] == code, body
    return body


def storage_of(app: FastAPI) -> Storage:
    storage: Storage = app.state.storage
    return storage


async def until_gone(storage: Storage, *keys: str) -> None:
    """Old files are deleted by a job once the change commits: wait for the worker."""

    async def gone() -> bool:
        return all([await storage.stat(key) is None for key in keys])

    await eventually(gone, seconds=20, interval=0.1, what=f"deletion of {keys}")


def keys_of(avatar: Json) -> list[str]:
    return [local_path(url).split("?")[0].removeprefix("/media/") for url in avatar.values()]


async def test_a_phone_photo_becomes_upright_square_jpegs_without_metadata(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    photo = write_phone_photo(tmp_path / "me.jpg")
    with Image.open(photo) as source:
        assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)

    response = await set_avatar(client, mina, await avatar_upload(client, mina, photo))
    assert response.status_code == 200, response.text
    avatar = response.json()["avatar"]
    assert set(avatar) == set(EDGES)
    for name, edge in EDGES.items():
        image = await fetch_image(client, avatar[name])
        assert image.format == "JPEG"
        assert image.size == (edge, edge)
        assert not image.getexif()
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "icc_profile" not in image.info
        assert "comment" not in image.info
        # Turned upright: the band along the stored pixels' left edge is now at the top.
        rgb = image.convert("RGB")
        top = rgb.getpixel((edge // 2, 1))
        bottom = rgb.getpixel((edge // 2, edge - 2))
        assert isinstance(top, tuple)
        assert isinstance(bottom, tuple)
        assert min(top) > 200
        assert max(bottom) < 80
    me = await client.get("/v1/me", headers=mina.headers)
    assert keys_of(me.json()["avatar"]) == keys_of(avatar)


async def test_others_see_the_avatar_on_profiles_and_in_lists(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    photo = write_photo(tmp_path / "me.png", size=(200, 120))
    await set_avatar(client, mina, await avatar_upload(client, mina, photo, "image/png"))
    assert (await client.post("/v1/users/theo/follow", headers=mina.headers)).status_code == 200

    profile = (await client.get("/v1/users/mina", headers=theo.headers)).json()
    assert set(profile["avatar"]) == set(EDGES)
    # A small source is not scaled up: the larger renditions keep its 120 pixels.
    sizes = [(await fetch_image(client, profile["avatar"][n])).size for n in EDGES]
    assert sizes == [(96, 96), (120, 120), (120, 120)]

    followers = (await client.get("/v1/users/theo/followers", headers=theo.headers)).json()
    assert [f["handle"] for f in followers["items"]] == ["mina"]
    assert keys_of(followers["items"][0]["avatar"]) == keys_of(profile["avatar"])
    following = (await client.get("/v1/users/mina/following", headers=theo.headers)).json()
    assert following["items"][0]["avatar"] is None


@pytest.mark.usefixtures("worker")
async def test_a_new_avatar_replaces_the_old_and_removal_clears_it(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp, tmp_path: Path
) -> None:
    mina = await sign_up("mina")
    storage = storage_of(app)
    first_upload = await avatar_upload(client, mina, write_photo(tmp_path / "a.jpg"))
    first = keys_of((await set_avatar(client, mina, first_upload)).json()["avatar"])
    await until_gone(storage, f"uploads/{mina.id}/{first_upload}")

    heic = write_photo(tmp_path / "b.heic", size=(300, 200))
    second_upload = await avatar_upload(client, mina, heic, "image/heic")
    response = await set_avatar(client, mina, second_upload)
    assert response.status_code == 200, response.text
    second = keys_of(response.json()["avatar"])
    assert set(first).isdisjoint(second)
    await until_gone(storage, *first, f"uploads/{mina.id}/{second_upload}")
    for key in second:
        assert await storage.stat(key) is not None

    removed = await set_avatar(client, mina, None)
    assert removed.status_code == 200
    assert removed.json()["avatar"] is None
    await until_gone(storage, *second)
    assert (await client.get("/v1/me", headers=mina.headers)).json()["avatar"] is None
    # Removing when there is nothing to remove is fine too.
    assert (await set_avatar(client, mina, None)).status_code == 200


async def test_only_your_own_unused_avatar_upload_can_be_used(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    photo = write_photo(tmp_path / "me.jpg")
    theirs = await avatar_upload(client, theo, photo)
    assert_problem(await set_avatar(client, mina, theirs), 404, "upload_not_found")
    clip = await upload(client, mina, photo, "image/jpeg")
    assert_problem(await set_avatar(client, mina, clip), 404, "upload_not_found")

    mine = await avatar_upload(client, mina, photo)
    assert (await set_avatar(client, mina, mine)).status_code == 200
    assert_problem(await set_avatar(client, mina, mine), 409, "upload_used")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("noise.jpg", "image/jpeg"),
        ("clip.mp4", "image/png"),
        ("tiny.png", "image/png"),
        ("bomb.png", "image/png"),
        ("huge.png", "image/png"),
    ],
)
async def test_what_is_not_a_sensible_image_is_refused(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path, name: str, content_type: str
) -> None:
    writers: dict[str, Callable[[Path], Path]] = {
        "noise.jpg": write_random_bytes,
        "clip.mp4": write_video,
        "tiny.png": lambda p: write_photo(p, size=(16, 16)),
        # Above Pillow's own limit, and above ours while below Pillow's.
        "bomb.png": lambda p: write_png_header(p, 20_000, 20_000),
        "huge.png": lambda p: write_png_header(p, 9_000, 8_000),
    }
    mina = await sign_up("mina")
    await set_avatar(
        client, mina, await avatar_upload(client, mina, write_photo(tmp_path / "ok.jpg"))
    )
    before = (await client.get("/v1/me", headers=mina.headers)).json()["avatar"]

    bad = await avatar_upload(client, mina, writers[name](tmp_path / name), content_type)
    changes = {"avatar_upload_id": bad, "note": "new note"}
    response = await client.patch("/v1/me", json=changes, headers=mina.headers)
    body = assert_problem(response, 422, "invalid_image")
    assert body["errors"][0]["field"] == "avatar_upload_id"
    # Nothing changed: not the avatar, not the other fields sent with it.
    me = (await client.get("/v1/me", headers=mina.headers)).json()
    assert keys_of(me["avatar"]) == keys_of(before)
    assert me["note"] == ""
