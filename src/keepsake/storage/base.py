"""The storage protocol both backends implement, its values, keys and errors."""

from __future__ import annotations

import errno
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

from keepsake.errors import AppError, Conflict, Forbidden, NotFound
from keepsake.i18n.catalog import _

# Segments may not start with a dot, so `.` and `..` cannot occur and the local
# backend's hidden temp files can never be named, written or served through a key.
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}"
_KEY = re.compile(rf"(?:{_SEGMENT}/)*{_SEGMENT}")
MAX_KEY_LENGTH = 512
# A bare `type/subtype` (RFC 6838 names): no parameters, nothing a header could smuggle.
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")


# Local and CloudFront media URLs expire on this grid rather than a fixed time after each
# request: every request within one step signs a key to the same URL, so the apps' and
# the CDN's caches can reuse it, and a server signs each key once per step (cached).
# Plain S3 presigned URLs cannot: they carry their signing time.
MEDIA_EXPIRY_STEP = 300
SIGNED_URL_CACHE_SIZE = 65_536
# Who a media URL was signed for (see `MediaGate`): empty, or a short token of letters and
# digits, so it never needs encoding in a URL and never holds a signing field separator.
VIEWER_PATTERN = r"[a-z0-9]{1,40}"
_VIEWER = re.compile(VIEWER_PATTERN)


def media_expiry(expires_in: timedelta, now: float) -> int:
    """When a media URL made at `now` expires: at least `expires_in` later, on the grid."""
    end = now + expires_in.total_seconds()
    return math.ceil(end / MEDIA_EXPIRY_STEP) * MEDIA_EXPIRY_STEP


@dataclass(frozen=True, kw_only=True)
class UploadTarget:
    """Where and how a client sends an upload's bytes, straight to storage."""

    url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str


class Storage(Protocol):
    """Object storage: local disk by default, S3 in production."""

    async def presign_upload(
        self, key: str, *, content_type: str, size_bytes: int, expires_in: timedelta
    ) -> UploadTarget:
        """A URL that accepts exactly `size_bytes` bytes of `content_type` at `key`."""
        ...

    async def stat(self, key: str) -> StoredObject | None:
        """The stored object's size and type, or None when there is none."""
        ...

    async def download(self, key: str, dest_path: Path) -> None:
        """Stream the object into a local file; `ObjectNotFound` when there is none."""
        ...

    async def upload_file(self, key: str, src_path: Path, content_type: str) -> None:
        """Store a local file at `key`, replacing what was there."""
        ...

    async def delete(self, keys: Iterable[str]) -> None:
        """Delete these objects; keys already gone are fine."""
        ...

    async def copy(self, key: str, new_key: str) -> None:
        """Copy an object to `new_key`, replacing what was there; `key` is left as it is."""
        ...

    async def delete_prefix(self, prefix: str) -> None:
        """Delete every object whose key starts with `prefix` (never empty)."""
        ...

    async def media_url(self, key: str, *, expires_in: timedelta, viewer: str = "") -> str:
        """A signed GET URL for the object that stops working after `expires_in`.

        `viewer` names who it was signed for: the local backend asks its `MediaGate`,
        on every read, whether that viewer may still see the object. CloudFront and S3
        URLs cannot carry that check; they only expire.
        """
        ...

    async def media_urls(
        self, keys: Sequence[str], *, expires_in: timedelta, viewer: str = ""
    ) -> list[str]:
        """`media_url` of each key, in order, made together (a page signs dozens)."""
        ...


class MediaGate(Protocol):
    """Whether a media URL's viewer may still read its object, asked when it is served."""

    async def allows(self, key: str, viewer: str) -> bool: ...


class UploadGate(Protocol):
    """Whether an upload URL's key may still receive bytes: not once its upload was used."""

    async def open(self, key: str) -> bool: ...


class InvalidKey(AppError):
    status = 400
    code = "invalid_storage_key"
    title = _("Invalid storage key")


class ObjectNotFound(NotFound):
    code = "object_not_found"


class InvalidSignature(Forbidden):
    code = "invalid_signature"


class UploadUrlExpired(Forbidden):
    code = "upload_url_expired"


class MediaUrlExpired(Forbidden):
    code = "media_url_expired"


class UploadUsed(Conflict):
    code = "upload_used"


class ContentTypeMismatch(AppError):
    status = 415
    code = "content_type_mismatch"
    title = _("Unsupported media type")


class UploadTooLarge(AppError):
    status = 413
    code = "upload_too_large"
    title = _("Upload too large")


class StorageFull(AppError):
    status = 507
    code = "storage_full"
    title = _("Storage full")


def disk_full(error: BaseException) -> bool:
    """Whether a full disk (or quota) is behind `error`, however it was wrapped."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class StorageUnavailable(AppError):
    status = 503
    code = "storage_unavailable"
    title = _("Storage unavailable")

    def __init__(self, detail: str, *, retry_after: int = 5):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class UploadSizeMismatch(AppError):
    status = 400
    code = "upload_size_mismatch"
    title = _("Upload incomplete")


def validate_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise InvalidKey(_("Storage keys are relative paths of letters, digits, '.', '_' and '-'."))
    return key


def validate_keys(keys: Iterable[str]) -> list[str]:
    # A lone string is iterable too; deleting its characters as keys would be a quiet disaster.
    if isinstance(keys, str):
        raise TypeError("delete() takes a collection of keys, not one key")
    return [validate_key(key) for key in keys]


def validate_prefix(prefix: str) -> str:
    """A non-empty key prefix; a trailing '/' selects a whole folder."""
    validate_key(prefix.removesuffix("/"))
    return prefix


def validate_viewer(viewer: str) -> str:
    if viewer and not _VIEWER.fullmatch(viewer):
        raise ValueError(f"not a media URL viewer token: {viewer!r}")
    return viewer


def validate_content_type(content_type: str) -> str:
    if not _CONTENT_TYPE.fullmatch(content_type):
        raise ValueError(f"not a bare lowercase media type: {content_type!r}")
    return content_type
