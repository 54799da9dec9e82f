"""The S3 backend against a local S3 (moto) over real HTTP, and CloudFront URL signing."""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config as BotoConfig
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from fastapi import FastAPI
from mypy_boto3_s3 import S3Client
from pydantic import SecretStr

from keepsake.config import Settings
from keepsake.error_handlers import install_error_handlers
from keepsake.storage import S3Storage, build_storage
from keepsake.storage import s3 as s3_module
from keepsake.storage.base import (
    MEDIA_EXPIRY_STEP,
    ObjectNotFound,
    StorageUnavailable,
    StoredObject,
    UploadTarget,
)
from keepsake.storage.router import router
from keepsake.storage.signing import CloudFrontUrlSigner
from tests.accounts.test_signup_login import assert_problem
from tests.fixtures.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server

MINUTE = timedelta(minutes=1)
BODY = b"a real video would be longer" * 50


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with S3Server().running() as server:
        yield server


@dataclass
class Bucket:
    client: S3Client
    name: str
    storage: S3Storage
    http: httpx.AsyncClient

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listing.get("Contents", []) if "Key" in item)

    async def presign(self, key: str = "uploads/clip", size: int = len(BODY)) -> UploadTarget:
        return await self.storage.presign_upload(
            key, content_type="video/mp4", size_bytes=size, expires_in=MINUTE
        )


@pytest.fixture
async def bucket(s3_server: S3Server) -> AsyncIterator[Bucket]:
    client = s3_server.client()
    name = f"media-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    async with httpx.AsyncClient() as http:
        yield Bucket(client, name, S3Storage(client, name), http)


async def test_presigned_round_trip(bucket: Bucket, tmp_path: Path) -> None:
    target = await bucket.presign()
    assert target.headers == {"Content-Type": "video/mp4", "Content-Length": str(len(BODY))}
    assert target.expires_at > datetime.now(UTC)
    signed_headers = parse_qs(urlsplit(target.url).query)["X-Amz-SignedHeaders"][0]
    assert signed_headers.split(";") == ["content-length", "content-type", "host"]

    response = await bucket.http.put(target.url, content=BODY, headers=target.headers)
    assert response.status_code == 200, response.text
    assert await bucket.storage.stat("uploads/clip") == StoredObject(len(BODY), "video/mp4")

    await bucket.storage.download("uploads/clip", tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == BODY

    url = await bucket.storage.media_url("uploads/clip", expires_in=MINUTE)
    media = await bucket.http.get(url)
    assert media.status_code == 200
    assert media.content == BODY
    assert media.headers["content-type"] == "video/mp4"
    assert media.headers["cache-control"] == "private, max-age=60"


async def test_wrong_content_type_is_refused(bucket: Bucket) -> None:
    target = await bucket.presign()
    headers = {**target.headers, "Content-Type": "image/png"}
    response = await bucket.http.put(target.url, content=BODY, headers=headers)
    assert response.status_code == 403
    assert "SignatureDoesNotMatch" in response.text
    assert bucket.keys() == []


@pytest.mark.parametrize("body", [BODY + b"!", BODY[:-1]])
async def test_other_length_is_refused(bucket: Bucket, body: bytes) -> None:
    target = await bucket.presign()
    # The client sends the true length of what it sends, as every HTTP client does.
    response = await bucket.http.put(
        target.url, content=body, headers={"Content-Type": "video/mp4"}
    )
    assert response.status_code == 403
    assert bucket.keys() == []


async def test_chunked_body_is_refused(bucket: Bucket) -> None:
    target = await bucket.presign(size=6)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"def"

    response = await bucket.http.put(
        target.url, content=chunks(), headers={"Content-Type": "video/mp4"}
    )
    assert response.status_code == 403
    assert bucket.keys() == []


async def test_expired_or_tampered_url_is_refused(bucket: Bucket) -> None:
    expired = await bucket.storage.presign_upload(
        "uploads/clip", content_type="video/mp4", size_bytes=len(BODY), expires_in=-MINUTE
    )
    response = await bucket.http.put(expired.url, content=BODY, headers=expired.headers)
    assert response.status_code == 403
    assert "Request has expired" in response.text

    target = await bucket.presign()
    other_key = target.url.replace("uploads/clip", "uploads/other")
    response = await bucket.http.put(other_key, content=BODY, headers=target.headers)
    assert response.status_code == 403
    assert bucket.keys() == []


async def test_upload_file_stat_and_missing_objects(bucket: Bucket, tmp_path: Path) -> None:
    source = tmp_path / "poster.jpg"
    source.write_bytes(b"jpeg bytes")
    await bucket.storage.upload_file("memories/1/poster.jpg", source, "image/jpeg")
    assert await bucket.storage.stat("memories/1/poster.jpg") == StoredObject(10, "image/jpeg")

    assert await bucket.storage.stat("memories/1/nothing") is None
    with pytest.raises(ObjectNotFound):
        await bucket.storage.download("memories/1/nothing", tmp_path / "out")


async def _store(bucket: Bucket, *keys: str) -> None:
    for key in keys:
        bucket.client.put_object(Bucket=bucket.name, Key=key, Body=b"x", ContentType="video/mp4")


async def test_delete_in_batches_and_idempotent(
    bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_module, "DELETE_BATCH", 2)
    await _store(bucket, "uploads/a", "uploads/b", "uploads/c", "uploads/d")
    await bucket.storage.delete(["uploads/a", "uploads/b", "uploads/c", "uploads/never"])
    await bucket.storage.delete(["uploads/a"])
    await bucket.storage.delete([])
    assert bucket.keys() == ["uploads/d"]
    with pytest.raises(TypeError):
        await bucket.storage.delete("uploads/d")


async def test_delete_prefix_pages_through_everything(
    bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_module, "DELETE_BATCH", 2)
    await _store(bucket, *(f"memories/1/clip{i}.mp4" for i in range(5)))
    await _store(bucket, "memories/10/clip0.mp4", "memories/1")
    await bucket.storage.delete_prefix("memories/1/")
    await bucket.storage.delete_prefix("nothing/")
    assert bucket.keys() == ["memories/1", "memories/10/clip0.mp4"]


async def test_local_routes_are_absent_with_s3(bucket: Bucket) -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.state.storage = bucket.storage
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://keepsake.test") as http:
        response = await http.put("/v1/storage/upload/x?expires=1&ct=a/b&size=1&sig=x")
        assert_problem(response, 404, "not_found")


def test_build_storage_for_s3(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    settings = Settings(
        data_dir=tmp_path,
        storage_backend="s3",
        s3_region=REGION,
        s3_endpoint_url=s3_server.endpoint_url,
    )
    with pytest.raises(ValueError, match="s3_bucket"):
        build_storage(settings)
    assert isinstance(build_storage(settings.model_copy(update={"s3_bucket": "media"})), S3Storage)
    half_cloudfront = {"s3_bucket": "media", "cloudfront_domain": "media.example"}
    with pytest.raises(ValueError, match="CloudFront"):
        build_storage(settings.model_copy(update=half_cloudfront))


@pytest.fixture(scope="module")
def cloudfront_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cloudfront_b64decode(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


def test_cloudfront_url_verifies_with_the_public_key(cloudfront_key: rsa.RSAPrivateKey) -> None:
    signer = CloudFrontUrlSigner(
        domain="media.example", key_pair_id="K2JCJMDEHXQW5F", private_key_pem=_pem(cloudfront_key)
    )
    expires_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    url = signer.url("memories/1/clip0.mp4", int(expires_at.timestamp()))

    resource, _, query = url.partition("?")
    assert resource == "https://media.example/memories/1/clip0.mp4"
    params = {k: v[0] for k, v in parse_qs(query).items()}
    assert params["Expires"] == str(int(expires_at.timestamp()))
    assert params["Key-Pair-Id"] == "K2JCJMDEHXQW5F"
    # The canned policy, exactly as CloudFront rebuilds it from the URL to verify it.
    statement = {
        "Resource": resource,
        "Condition": {"DateLessThan": {"AWS:EpochTime": int(expires_at.timestamp())}},
    }
    policy = json.dumps({"Statement": [statement]}, separators=(",", ":")).encode()
    signature = _cloudfront_b64decode(params["Signature"])
    public = cloudfront_key.public_key()
    public.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    other = policy.replace(b"clip0", b"clip1")
    with pytest.raises(InvalidSignature):
        public.verify(signature, other, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303


async def test_media_url_uses_cloudfront_when_configured(
    bucket: Bucket, cloudfront_key: rsa.RSAPrivateKey
) -> None:
    cloudfront = CloudFrontUrlSigner(
        domain="https://media.example/", key_pair_id="KID", private_key_pem=_pem(cloudfront_key)
    )
    storage = S3Storage(bucket.client, bucket.name, cloudfront=cloudfront)
    url = await storage.media_url("memories/1/clip0.mp4", expires_in=MINUTE)
    assert url.startswith("https://media.example/memories/1/clip0.mp4?Expires=")
    assert url.endswith("&Key-Pair-Id=KID")
    # Signed once per expiry step: the same key gives the same URL, another key another.
    assert await storage.media_url("memories/1/clip0.mp4", expires_in=MINUTE) == url
    assert await storage.media_url("memories/1/clip1.mp4", expires_in=MINUTE) != url


def test_cloudfront_needs_an_rsa_key() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="RSA"):
        CloudFrontUrlSigner(domain="media.example", key_pair_id="KID", private_key_pem=pem)


async def test_build_storage_with_cloudfront(
    tmp_path: Path, cloudfront_key: rsa.RSAPrivateKey
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        storage_backend="s3",
        s3_bucket="media",
        s3_region=REGION,
        cloudfront_domain="media.example",
        cloudfront_key_pair_id="KID",
        cloudfront_private_key=SecretStr(_pem(cloudfront_key).decode()),
    )
    storage = build_storage(settings)
    assert isinstance(storage, S3Storage)

    # Its media URLs are CloudFront's, signed with the configured key and id.
    asked_at = time.time()
    url = await storage.media_url("memories/1/clip0.mp4", expires_in=MINUTE)
    resource, _, query = url.partition("?")
    assert resource == "https://media.example/memories/1/clip0.mp4"
    params = {k: v[0] for k, v in parse_qs(query).items()}
    assert set(params) == {"Expires", "Signature", "Key-Pair-Id"}
    assert params["Key-Pair-Id"] == "KID"
    expires = int(params["Expires"])
    # At least a minute after it was asked for, rounded up to the expiry grid.
    earliest = asked_at + MINUTE.total_seconds()
    assert earliest <= expires <= time.time() + MINUTE.total_seconds() + MEDIA_EXPIRY_STEP
    assert expires % MEDIA_EXPIRY_STEP == 0
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
    policy = json.dumps({"Statement": [statement]}, separators=(",", ":")).encode()
    signature = _cloudfront_b64decode(params["Signature"])
    public = cloudfront_key.public_key()
    public.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303


async def test_an_unreachable_s3_is_storage_unavailable(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=BotoConfig(retries={"max_attempts": 1}, connect_timeout=2),
    )
    storage = S3Storage(client, "media")

    with pytest.raises(StorageUnavailable) as refused:
        await storage.stat("uploads/clip")
    clip = tmp_path / "one.mp4"
    clip.write_bytes(b"\0" * 64)
    with pytest.raises(StorageUnavailable):
        await storage.upload_file("clips/one.mp4", clip, "video/mp4")

    assert refused.value.status == 503
    assert refused.value.code == "storage_unavailable"
