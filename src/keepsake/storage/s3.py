"""Storage on S3 (or any S3-compatible server): clients upload and fetch directly."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import anyio.to_thread
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from keepsake.i18n.catalog import _
from keepsake.storage.base import (
    SIGNED_URL_CACHE_SIZE,
    ObjectNotFound,
    StorageUnavailable,
    StoredObject,
    UploadTarget,
    media_expiry,
    validate_content_type,
    validate_key,
    validate_keys,
    validate_prefix,
)
from keepsake.storage.signing import CloudFrontUrlSigner

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        CopySourceTypeDef,
        ListObjectsV2OutputTypeDef,
        ObjectIdentifierTypeDef,
    )

P = ParamSpec("P")
T = TypeVar("T")

# DeleteObjects takes at most this many keys per request.
DELETE_BATCH = 1000
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class StorageError(Exception):
    """S3 refused to delete some objects; they are still there."""


class S3Storage:
    """boto3 is synchronous, so every call runs in a worker thread."""

    def __init__(
        self, client: S3Client, bucket: str, *, cloudfront: CloudFrontUrlSigner | None = None
    ) -> None:
        self._client = client
        self._bucket = bucket
        # An RSA signature per URL is costly; on the expiry grid each is made once.
        self._cloudfront_url = (
            lru_cache(maxsize=SIGNED_URL_CACHE_SIZE)(cloudfront.url) if cloudfront else None
        )

    async def presign_upload(
        self, key: str, *, content_type: str, size_bytes: int, expires_in: timedelta
    ) -> UploadTarget:
        validate_key(key)
        validate_content_type(content_type)
        if size_bytes < 0:
            raise ValueError("size_bytes must not be negative")
        # S3 counts the expiry from X-Amz-Date, whole seconds taken before signing.
        expires_at = datetime.now(UTC).replace(microsecond=0) + expires_in
        # Both values go into the signature (X-Amz-SignedHeaders), so S3 refuses a
        # body of any other length or type.
        url = await self._run(
            self._client.generate_presigned_url,
            "put_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": size_bytes,
            },
            ExpiresIn=_seconds(expires_in),
        )
        return UploadTarget(
            url=url,
            headers={"Content-Type": content_type, "Content-Length": str(size_bytes)},
            expires_at=expires_at,
        )

    async def stat(self, key: str) -> StoredObject | None:
        validate_key(key)
        try:
            head = await self._run(self._client.head_object, Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _is_not_found(error):
                return None
            raise
        return StoredObject(size=head["ContentLength"], content_type=head["ContentType"])

    async def download(self, key: str, dest_path: Path) -> None:
        validate_key(key)
        try:
            # s3transfer streams to a temp file beside `dest_path`, in ranged parts
            # for large objects, and renames it into place when complete.
            await self._run(self._client.download_file, self._bucket, key, str(dest_path))
        except ClientError as error:
            if _is_not_found(error):
                raise ObjectNotFound(_("No stored object at {key}."), params={"key": key}) from None
            raise

    async def upload_file(self, key: str, src_path: Path, content_type: str) -> None:
        validate_key(key)
        validate_content_type(content_type)
        await self._run(
            self._client.upload_file,
            str(src_path),
            self._bucket,
            key,
            ExtraArgs={"ContentType": content_type},
        )

    async def delete(self, keys: Iterable[str]) -> None:
        valid = validate_keys(keys)
        for start in range(0, len(valid), DELETE_BATCH):
            await self._delete_batch(valid[start : start + DELETE_BATCH])

    async def copy(self, key: str, new_key: str) -> None:
        validate_key(key)
        validate_key(new_key)
        # Server side, in one request: uploads are far below its 5 GB limit.
        source: CopySourceTypeDef = {"Bucket": self._bucket, "Key": key}
        await self._run(
            self._client.copy_object, Bucket=self._bucket, Key=new_key, CopySource=source
        )

    async def delete_prefix(self, prefix: str) -> None:
        validate_prefix(prefix)
        # Listing is lazy and paginated, so any number of keys is deleted in batches
        # without holding the whole list.
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=prefix, PaginationConfig={"PageSize": DELETE_BATCH}
        )
        iterator = iter(pages)
        while page := await self._run(_next_page, iterator):
            keys = [item["Key"] for item in page.get("Contents", []) if "Key" in item]
            if keys:
                await self._delete_batch(keys)

    async def media_url(self, key: str, *, expires_in: timedelta, viewer: str = "") -> str:
        [url] = await self.media_urls([key], expires_in=expires_in, viewer=viewer)
        return url

    async def media_urls(
        self, keys: Sequence[str], *, expires_in: timedelta, viewer: str = ""
    ) -> list[str]:
        # No viewer check is possible once S3 or CloudFront serves the bytes: these URLs
        # are revoked only by expiring (README, Security).
        validate_keys(keys)
        if self._cloudfront_url is not None:
            expires = media_expiry(expires_in, time.time())
            return [self._cloudfront_url(key, expires) for key in keys]
        # Presigning may refresh credentials over the network: one worker thread for all.
        return await self._run(self._presigned_gets, keys, _seconds(expires_in))

    def _presigned_gets(self, keys: Sequence[str], seconds: int) -> list[str]:
        return [
            self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._bucket,
                    "Key": key,
                    "ResponseCacheControl": f"private, max-age={max(0, seconds)}",
                },
                ExpiresIn=seconds,
            )
            for key in keys
        ]

    async def _delete_batch(self, keys: list[str]) -> None:
        objects: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in keys]
        result = await self._run(
            self._client.delete_objects,
            Bucket=self._bucket,
            Delete={"Objects": objects, "Quiet": True},
        )
        if errors := result.get("Errors"):
            failed = ", ".join(f"{e.get('Key')} ({e.get('Code')})" for e in errors[:5])
            raise StorageError(f"S3 did not delete {len(errors)} objects: {failed}")

    @staticmethod
    async def _run(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await anyio.to_thread.run_sync(partial(call, *args, **kwargs))
        except (BotoConnectionError, HTTPClientError) as error:
            # S3 (or the network to it) is down: nothing was stored, the caller may retry.
            raise StorageUnavailable(_("The media storage cannot be reached just now.")) from error


def _next_page(
    pages: Iterator[ListObjectsV2OutputTypeDef],
) -> ListObjectsV2OutputTypeDef | None:
    return next(pages, None)


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _is_not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _NOT_FOUND
