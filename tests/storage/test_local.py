"""The local storage backend and its signed upload and media endpoints."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Scope

from keepsake.config import Settings
from keepsake.error_handlers import install_error_handlers
from keepsake.storage import LocalStorage, build_storage
from keepsake.storage.base import (
    MEDIA_EXPIRY_STEP,
    InvalidKey,
    ObjectNotFound,
    StoredObject,
    UploadTarget,
    media_expiry,
)
from keepsake.storage.router import router
from keepsake.storage.signing import UrlSigner
from tests.accounts.test_signup_login import assert_problem

BASE = "http://keepsake.test"
SECRET = b"local-storage-test-secret-" + b"x" * 32
MINUTE = timedelta(minutes=1)
BODY = b"a small video, honestly" * 100


@dataclass
class Gate:
    """The serving route's `MediaGate`: refuses what `refused` holds, records what it was asked."""

    refused: set[tuple[str, str]] = field(default_factory=set)
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def allows(self, key: str, viewer: str) -> bool:
        self.asked.append((key, viewer))
        return (key, viewer) not in self.refused

    async def open(self, key: str) -> bool:
        """As the `UploadGate`: open unless (key, "used") is refused."""
        return (key, "used") not in self.refused


@dataclass
class Local:
    storage: LocalStorage
    app: FastAPI
    http: httpx.AsyncClient
    gate: Gate

    def files(self) -> list[str]:
        """Every file under the storage root, temp files included."""
        root = self.storage.root
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    async def presign(self, key: str = "uploads/clip", size: int = len(BODY)) -> UploadTarget:
        return await self.storage.presign_upload(
            key, content_type="video/mp4", size_bytes=size, expires_in=MINUTE
        )

    async def put(self, target: UploadTarget, body: Any = BODY, **headers: str) -> httpx.Response:
        return await self.http.put(target.url, content=body, headers={**target.headers, **headers})


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[Local]:
    storage = LocalStorage(root=tmp_path / "media", public_url=BASE, signer=UrlSigner(SECRET))
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.state.storage = storage
    app.state.media_gate = app.state.upload_gate = gate = Gate()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield Local(storage, app, http, gate)


class Chunks:
    """A streamed request body that counts how much of it the server pulled."""

    def __init__(self, count: int, size: int = 1000) -> None:
        self.count, self.size, self.sent = count, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.sent += 1
            yield b"x" * self.size


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


async def test_round_trip(local: Local, tmp_path: Path) -> None:
    target = await local.presign()
    assert target.method == "PUT"
    assert target.headers == {"Content-Type": "video/mp4"}
    assert target.url.startswith(f"{BASE}/v1/storage/upload/uploads/clip?")

    response = await local.put(target)
    assert response.status_code == 204, response.text
    assert await local.storage.stat("uploads/clip") == StoredObject(len(BODY), "video/mp4")
    assert local.files() == ["uploads/clip", "uploads/clip~type"]

    await local.storage.download("uploads/clip", tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == BODY

    url = await local.storage.media_url("uploads/clip", expires_in=MINUTE)
    before = int(time.time())
    media = await local.http.get(url)
    after = int(time.time())
    assert media.status_code == 200
    assert media.content == BODY
    assert media.headers["content-type"] == "video/mp4"
    # Cacheable until the URL expires, counted from when the server answered: bracketed by
    # the clock read before and after the request, however slow the machine is.
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    max_age = int(media.headers["cache-control"].removeprefix("private, max-age="))
    assert expires - after <= max_age <= expires - before
    assert media.headers["x-content-type-options"] == "nosniff"

    partial = await local.http.get(url, headers={"Range": "bytes=2-6"})
    assert partial.status_code == 206
    assert partial.content == BODY[2:7]
    assert partial.headers["content-range"] == f"bytes 2-6/{len(BODY)}"


async def test_upload_file_replaces_and_serves(local: Local, tmp_path: Path) -> None:
    source = tmp_path / "poster.jpg"
    source.write_bytes(b"first")
    await local.storage.upload_file("memories/1/poster.jpg", source, "image/jpeg")
    source.write_bytes(b"second!")
    await local.storage.upload_file("memories/1/poster.jpg", source, "image/jpeg")

    assert await local.storage.stat("memories/1/poster.jpg") == StoredObject(7, "image/jpeg")
    url = await local.storage.media_url("memories/1/poster.jpg", expires_in=MINUTE)
    assert (await local.http.get(url)).content == b"second!"
    assert local.files() == ["memories/1/poster.jpg", "memories/1/poster.jpg~type"]


async def test_a_closed_upload_url_refuses_writes_and_keeps_the_bytes(local: Local) -> None:
    target = await local.presign()
    assert (await local.put(target)).status_code == 204
    local.gate.refused.add(("uploads/clip", "used"))
    assert_problem(await local.put(target, b"y" * len(BODY)), 409, "upload_used")
    assert (local.storage.root / "uploads/clip").read_bytes() == BODY


async def test_a_copy_keeps_its_bytes_when_the_original_is_replaced(local: Local) -> None:
    assert (await local.put(await local.presign())).status_code == 204
    await local.storage.copy("uploads/clip", "uploads/clip.claimed")
    assert (await local.put(await local.presign(), b"y" * len(BODY))).status_code == 204
    await local.storage.delete(["uploads/clip"])
    assert await local.storage.stat("uploads/clip.claimed") == StoredObject(len(BODY), "video/mp4")
    assert (local.storage.root / "uploads/clip.claimed").read_bytes() == BODY


async def test_expired_upload_url_is_refused(local: Local) -> None:
    target = await local.storage.presign_upload(
        "uploads/clip", content_type="video/mp4", size_bytes=len(BODY), expires_in=-MINUTE
    )
    assert_problem(await local.put(target), 403, "upload_url_expired")
    assert local.files() == []


@pytest.mark.parametrize(
    "change",
    [
        {"sig": "AAAA"},
        {"size": str(len(BODY) + 1)},
        {"ct": "image/png"},
        {"expires": "99999999999"},
    ],
)
async def test_tampered_upload_url_is_refused(local: Local, change: dict[str, str]) -> None:
    target = await local.presign()
    tampered = with_query(target.url, **change)
    response = await local.http.put(tampered, content=BODY, headers={"Content-Type": "image/png"})
    assert_problem(response, 403, "invalid_signature")
    assert local.files() == []


async def test_upload_url_is_bound_to_its_key(local: Local) -> None:
    target = await local.presign("uploads/mine")
    other = target.url.replace("uploads/mine", "uploads/theirs")
    response = await local.http.put(other, content=BODY, headers=target.headers)
    assert_problem(response, 403, "invalid_signature")


@pytest.mark.parametrize("content_type", ["image/png", "video/mp4; charset=x", None])
async def test_wrong_content_type_is_refused(local: Local, content_type: str | None) -> None:
    target = await local.presign()
    headers = {"Content-Type": content_type} if content_type else {}
    response = await local.http.put(target.url, content=BODY, headers=headers)
    assert_problem(response, 415, "content_type_mismatch")
    assert local.files() == []


async def test_declared_length_too_large_is_refused_before_reading(local: Local) -> None:
    target = await local.presign(size=4000)
    body = Chunks(5)
    response = await local.put(target, body, **{"Content-Length": "5000"})
    assert_problem(response, 413, "upload_too_large")
    assert body.sent == 0
    assert local.files() == []


async def test_plain_larger_body_is_refused(local: Local) -> None:
    target = await local.presign(size=len(BODY) - 1)
    assert_problem(await local.put(target), 413, "upload_too_large")
    assert local.files() == []


async def test_chunked_larger_body_is_cut_off_while_streaming(local: Local) -> None:
    target = await local.presign(size=2500)
    body = Chunks(1000)
    response = await local.put(target, body)
    assert_problem(response, 413, "upload_too_large")
    # Refused on the third chunk: the rest of the body was never pulled.
    assert body.sent == 3
    assert local.files() == []


@pytest.mark.parametrize("declared", [True, False])
async def test_smaller_body_is_refused(local: Local, declared: bool) -> None:
    target = await local.presign(size=5000)
    headers = {"Content-Length": "3000"} if declared else {}
    response = await local.put(target, Chunks(3), **headers)
    assert_problem(response, 400, "upload_size_mismatch")
    assert local.files() == []


async def test_exact_chunked_body_is_stored(local: Local) -> None:
    target = await local.presign(size=5000)
    assert (await local.put(target, Chunks(5))).status_code == 204
    assert await local.storage.stat("uploads/clip") == StoredObject(5000, "video/mp4")


async def test_failing_stream_leaves_nothing(local: Local) -> None:
    grant = local.storage.verify_upload(
        "uploads/clip",
        **_signed_query(await local.presign(size=5000)),
    )

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 1000
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await local.storage.receive_upload(
            grant, broken(), content_type="video/mp4", content_length=None
        )
    assert local.files() == []


async def test_client_disconnect_is_not_a_server_error(local: Local) -> None:
    target = await local.presign(size=5000)
    url = urlsplit(target.url)
    messages: list[Message] = [
        {"type": "http.request", "body": b"x" * 1000, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": url.path,
        "raw_path": url.path.encode(),
        "query_string": url.query.encode(),
        "headers": [(b"content-type", b"video/mp4"), (b"host", b"keepsake.test")],
        "server": ("keepsake.test", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
    }
    await local.app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert local.files() == []


def _signed_query(target: UploadTarget) -> dict[str, Any]:
    query = {k: v[0] for k, v in parse_qs(urlsplit(target.url).query).items()}
    return {
        "expires": int(query["expires"]),
        "content_type": query["ct"],
        "size_bytes": int(query["size"]),
        "signature": query["sig"],
    }


TRAVERSALS = [
    "../outside",
    "uploads/../../outside",
    "/etc/passwd",
    "uploads//clip",
    "uploads/./clip",
    ".hidden",
    "uploads/.upload-abc.part",
    "uploads/clip~type",
    "uploads\\clip",
    "uploads/clip ",
    "uploads/é",
    "",
    "uploads/",
    "x" * 600,
]


@pytest.mark.parametrize("key", TRAVERSALS)
async def test_unsafe_keys_are_refused_everywhere(local: Local, key: str, tmp_path: Path) -> None:
    storage = local.storage
    with pytest.raises(InvalidKey):
        await storage.presign_upload(key, content_type="video/mp4", size_bytes=1, expires_in=MINUTE)
    with pytest.raises(InvalidKey):
        await storage.stat(key)
    with pytest.raises(InvalidKey):
        await storage.download(key, tmp_path / "out")
    with pytest.raises(InvalidKey):
        await storage.upload_file(key, tmp_path, "video/mp4")
    with pytest.raises(InvalidKey):
        await storage.delete([key])
    with pytest.raises(InvalidKey):
        await storage.media_url(key, expires_in=MINUTE)


async def test_validly_signed_traversal_is_still_refused(local: Local, tmp_path: Path) -> None:
    # Even a URL signed with the real secret cannot name a file outside the root.
    signer = UrlSigner(SECRET)
    key, expires = "../outside", "99999999999"
    sig = signer.sign("PUT", key, expires, "video/mp4", "3")
    query = urlencode({"expires": expires, "ct": "video/mp4", "size": 3, "sig": sig})
    response = await local.http.put(
        f"/v1/storage/upload/%2E%2E/outside?{query}",
        content=b"bad",
        headers={"Content-Type": "video/mp4"},
    )
    assert_problem(response, 400, "invalid_storage_key")
    media_sig = signer.sign("GET", "../../etc/passwd", expires)
    response = await local.http.get(
        f"/media/%2E%2E/%2E%2E/etc/passwd?expires={expires}&sig={media_sig}"
    )
    assert_problem(response, 400, "invalid_storage_key")
    assert not (tmp_path / "outside").exists()


async def test_media_url_must_be_signed_and_unexpired(local: Local) -> None:
    await local.put(await local.presign())
    url = await local.storage.media_url("uploads/clip", expires_in=MINUTE)
    assert_problem(await local.http.get(with_query(url, sig="AAAA")), 403, "invalid_signature")
    later = with_query(url, expires="99999999999")
    assert_problem(await local.http.get(later), 403, "invalid_signature")
    assert_problem(await local.http.get(url.split("?")[0]), 422, "validation_error")
    # Expiries are rounded up to the grid: ten minutes ago rounds to at least five ago.
    expired = await local.storage.media_url("uploads/clip", expires_in=-10 * MINUTE)
    assert_problem(await local.http.get(expired), 403, "media_url_expired")


async def test_media_url_is_signed_for_its_viewer_and_asks_the_gate(local: Local) -> None:
    await local.storage.upload_file("memories/1/poster.jpg", _file(local, b"poster"), "image/jpeg")
    url = await local.storage.media_url("memories/1/poster.jpg", expires_in=MINUTE, viewer="ab12")
    assert parse_qs(urlsplit(url).query)["v"] == ["ab12"]

    assert (await local.http.get(url)).content == b"poster"
    assert local.gate.asked == [("memories/1/poster.jpg", "ab12")]
    # Another viewer's name on the same signature is a forgery.
    assert_problem(await local.http.get(url.replace("v=ab12", "v=cd34")), 403, "invalid_signature")
    assert_problem(await local.http.get(url.replace("&v=ab12", "")), 403, "invalid_signature")
    # Refused by the gate looks exactly like missing.
    local.gate.refused.add(("memories/1/poster.jpg", "ab12"))
    assert_problem(await local.http.get(url), 404, "object_not_found")


def _file(local: Local, content: bytes) -> Path:
    path = local.storage.root.parent / "source"
    path.write_bytes(content)
    return path


async def test_media_urls_are_stable_within_an_expiry_step(local: Local) -> None:
    first = await local.storage.media_url("memories/1/poster.jpg", expires_in=MINUTE)
    again = await local.storage.media_url("memories/1/poster.jpg", expires_in=MINUTE)
    other = await local.storage.media_url("memories/2/poster.jpg", expires_in=MINUTE)
    # The same key in the same step is the same URL: caches in the apps can reuse it.
    assert again == first
    assert other != first
    expires = int(parse_qs(urlsplit(first).query)["expires"][0])
    assert expires % MEDIA_EXPIRY_STEP == 0
    assert time.time() + 60 <= expires <= time.time() + 60 + MEDIA_EXPIRY_STEP


def test_media_expiry_is_on_the_grid_and_never_early() -> None:
    assert media_expiry(MINUTE, now=1_000_000) == 1_000_200
    assert media_expiry(MINUTE, now=999_840) == 999_900
    assert media_expiry(timedelta(hours=1), now=999_900) == 1_003_500


async def test_missing_media_is_not_found(local: Local, tmp_path: Path) -> None:
    url = await local.storage.media_url("uploads/nothing", expires_in=MINUTE)
    assert_problem(await local.http.get(url), 404, "object_not_found")
    with pytest.raises(ObjectNotFound):
        await local.storage.download("uploads/nothing", tmp_path / "out")


async def _store(local: Local, *keys: str) -> None:
    for key in keys:
        assert (await local.put(await local.presign(key))).status_code == 204


async def test_delete_is_idempotent(local: Local) -> None:
    await _store(local, "uploads/a", "uploads/b", "uploads/c")
    await local.storage.delete(["uploads/a", "uploads/b", "uploads/never"])
    await local.storage.delete(["uploads/a", "uploads"])
    assert await local.storage.stat("uploads/a") is None
    assert local.files() == ["uploads/c", "uploads/c~type"]
    with pytest.raises(TypeError):
        await local.storage.delete("uploads/c")


async def test_delete_prefix(local: Local) -> None:
    await _store(local, "memories/1/clip0.mp4", "memories/1/poster.jpg", "memories/10/clip0.mp4")
    await _store(local, "uploads/ab1", "uploads/ab2", "uploads/b")

    await local.storage.delete_prefix("memories/1/")
    await local.storage.delete_prefix("uploads/ab")
    await local.storage.delete_prefix("nothing/here/")
    assert local.files() == [
        "memories/10/clip0.mp4",
        "memories/10/clip0.mp4~type",
        "uploads/b",
        "uploads/b~type",
    ]
    assert not (local.storage.root / "memories" / "1").exists()
    for unsafe in ("", "/", "../", "memories/../"):
        with pytest.raises(InvalidKey):
            await local.storage.delete_prefix(unsafe)


async def test_routes_are_documented(local: Local) -> None:
    spec = (await local.http.get("/openapi.json")).json()
    for path in ("/v1/storage/upload/{key}", "/media/{key}"):
        for operation in spec["paths"][path].values():
            assert operation["tags"] == ["media"]
            assert operation["summary"]
            assert {"400", "403", "404"} <= set(operation["responses"])


def test_build_storage_defaults_to_local_disk(tmp_path: Path) -> None:
    storage = build_storage(Settings(data_dir=tmp_path))
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "media").resolve()


async def test_download_into_a_missing_folder_is_not_a_missing_object(
    local: Local, tmp_path: Path
) -> None:
    await _store(local, "uploads/a")
    with pytest.raises(FileNotFoundError):
        await local.storage.download("uploads/a", tmp_path / "no" / "such" / "folder")
    await _store(local, "memories/1/clip.mp4")
    with pytest.raises(ObjectNotFound):
        await local.storage.download("memories/1", tmp_path / "out")
    assert await local.storage.stat("memories/1") is None
