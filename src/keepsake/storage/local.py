"""Storage on local disk, with signed URLs served by this server (see `router.py`).

Objects are files under `root`; each has a `<name>~type` file beside it holding its
content type (`~` cannot occur in a key, so the two never collide). Bytes are written
to a hidden temp file in the destination folder and renamed into place, so a reader
sees either the whole object or none.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from urllib.parse import urlencode

import anyio
import anyio.to_thread

from keepsake.i18n.catalog import _
from keepsake.storage import files
from keepsake.storage.base import (
    SIGNED_URL_CACHE_SIZE,
    ContentTypeMismatch,
    InvalidSignature,
    MediaUrlExpired,
    ObjectNotFound,
    StoredObject,
    UploadSizeMismatch,
    UploadTarget,
    UploadTooLarge,
    UploadUrlExpired,
    media_expiry,
    validate_content_type,
    validate_key,
    validate_keys,
    validate_prefix,
    validate_viewer,
)
from keepsake.storage.files import MediaFile
from keepsake.storage.signing import UrlSigner

UPLOAD_PATH = "/v1/storage/upload"
MEDIA_PATH = "/media"


@dataclass(frozen=True)
class UploadGrant:
    """What a verified upload URL allows: exactly this many bytes of this type here."""

    key: str
    content_type: str
    size_bytes: int


class LocalStorage:
    def __init__(self, *, root: Path, public_url: str, signer: UrlSigner) -> None:
        self.root = root.resolve()
        self._public_url = public_url.rstrip("/")
        self._signer = signer
        self._signed_media_url = lru_cache(maxsize=SIGNED_URL_CACHE_SIZE)(self._sign_media_url)

    async def presign_upload(
        self, key: str, *, content_type: str, size_bytes: int, expires_in: timedelta
    ) -> UploadTarget:
        validate_key(key)
        validate_content_type(content_type)
        if size_bytes < 0:
            raise ValueError("size_bytes must not be negative")
        expires = int(time.time() + expires_in.total_seconds())
        sig = self._signer.sign("PUT", key, str(expires), content_type, str(size_bytes))
        query = urlencode({"expires": expires, "ct": content_type, "size": size_bytes, "sig": sig})
        return UploadTarget(
            url=f"{self._public_url}{UPLOAD_PATH}/{key}?{query}",
            headers={"Content-Type": content_type},
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def verify_upload(
        self, key: str, *, expires: int, content_type: str, size_bytes: int, signature: str
    ) -> UploadGrant:
        validate_key(key)
        fields = ("PUT", key, str(expires), content_type, str(size_bytes))
        if not self._signer.verify(signature, *fields):
            raise InvalidSignature(_("This upload URL is not valid."))
        if expires < time.time():
            raise UploadUrlExpired(_("This upload URL has expired; ask for a new one."))
        return UploadGrant(key, content_type, size_bytes)

    async def receive_upload(
        self,
        grant: UploadGrant,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str | None,
        content_length: int | None,
    ) -> None:
        """Stream an upload's body to disk, keeping it only if it is exactly as signed."""
        if content_type != grant.content_type:
            raise ContentTypeMismatch(
                _("Send this upload with Content-Type {content_type}."),
                params={"content_type": grant.content_type},
            )
        # Refuse a declared length before reading anything; a chunked body (no
        # Content-Length) is held to the same limit while it streams.
        if content_length is not None and content_length > grant.size_bytes:
            raise _too_large(grant)
        if content_length is not None and content_length < grant.size_bytes:
            raise _too_small(grant)
        path = self._path(grant.key)
        temp = await anyio.to_thread.run_sync(files.temp_file_beside, path)
        try:
            async with await anyio.open_file(temp, "wb") as out:
                received = 0
                async for chunk in chunks:
                    received += len(chunk)
                    if received > grant.size_bytes:
                        raise _too_large(grant)
                    await out.write(chunk)
                await anyio.to_thread.run_sync(files.sync, out.wrapped)
            if received < grant.size_bytes:
                raise _too_small(grant)
            await anyio.to_thread.run_sync(files.publish, temp, path, grant.content_type)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(partial(temp.unlink, missing_ok=True))
            raise

    async def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        try:
            found = await anyio.to_thread.run_sync(files.read_stat, path)
        except FileNotFoundError:
            return None
        return StoredObject(size=found.stat.st_size, content_type=found.content_type)

    async def download(self, key: str, dest_path: Path) -> None:
        if not await anyio.to_thread.run_sync(files.copy_out, self._path(key), dest_path):
            raise ObjectNotFound(_("No stored object at {key}."), params={"key": key})

    async def upload_file(self, key: str, src_path: Path, content_type: str) -> None:
        validate_content_type(content_type)
        await anyio.to_thread.run_sync(files.copy_in, src_path, self._path(key), content_type)

    async def delete(self, keys: Iterable[str]) -> None:
        paths = [self._path(key) for key in validate_keys(keys)]
        await anyio.to_thread.run_sync(files.delete_files, paths)

    async def copy(self, key: str, new_key: str) -> None:
        await anyio.to_thread.run_sync(files.link, self._path(key), self._path(new_key))

    async def delete_prefix(self, prefix: str) -> None:
        validate_prefix(prefix)
        folder, _, stem = prefix.rpartition("/")
        await anyio.to_thread.run_sync(files.delete_matching, self.root / folder, stem)

    async def media_url(self, key: str, *, expires_in: timedelta, viewer: str = "") -> str:
        [url] = await self.media_urls([key], expires_in=expires_in, viewer=viewer)
        return url

    async def media_urls(
        self, keys: Sequence[str], *, expires_in: timedelta, viewer: str = ""
    ) -> list[str]:
        expires = media_expiry(expires_in, time.time())
        viewer = validate_viewer(viewer)
        return [self._signed_media_url(key, expires, viewer) for key in keys]

    def _sign_media_url(self, key: str, expires: int, viewer: str) -> str:
        validate_key(key)
        sig = self._signer.sign("GET", key, str(expires), viewer)
        # All values are URL-safe (digits, base64url, the viewer pattern): no encoding.
        query = (
            f"expires={expires}&v={viewer}&sig={sig}" if viewer else f"expires={expires}&sig={sig}"
        )
        return f"{self._public_url}{MEDIA_PATH}/{key}?{query}"

    def verify_media(self, key: str, *, expires: int, viewer: str, signature: str) -> None:
        validate_key(key)
        if not self._signer.verify(signature, "GET", key, str(expires), viewer):
            raise InvalidSignature(_("This media URL is not valid."))
        if expires < time.time():
            raise MediaUrlExpired(_("This media URL has expired."))

    async def media_file(self, key: str) -> MediaFile:
        try:
            return await anyio.to_thread.run_sync(files.read_stat, self._path(key))
        except FileNotFoundError:
            raise ObjectNotFound(_("No stored object at {key}."), params={"key": key}) from None

    def _path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # The key pattern already rules out traversal; this keeps it impossible even if
        # the pattern is ever loosened.
        if not path.resolve().is_relative_to(self.root):
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path


def _too_large(grant: UploadGrant) -> UploadTooLarge:
    return UploadTooLarge(
        _("This upload URL accepts {size} bytes at most."), params={"size": grant.size_bytes}
    )


def _too_small(grant: UploadGrant) -> UploadSizeMismatch:
    return UploadSizeMismatch(
        _("This upload must be exactly {size} bytes."), params={"size": grant.size_bytes}
    )
