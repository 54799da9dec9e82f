"""Object storage behind one protocol: local disk by default, S3 in production."""

from __future__ import annotations

import boto3
from botocore.config import Config

from keepsake.config import Settings
from keepsake.storage.base import Storage, StoredObject, UploadTarget
from keepsake.storage.local import LocalStorage
from keepsake.storage.s3 import S3Storage
from keepsake.storage.signing import CloudFrontUrlSigner, UrlSigner

__all__ = ["LocalStorage", "S3Storage", "Storage", "StoredObject", "UploadTarget", "build_storage"]


def build_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "local":
        return LocalStorage(
            root=settings.data_dir / "media",
            public_url=settings.public_url,
            signer=UrlSigner(settings.storage_signing_key.get_secret_value().encode()),
        )
    if not settings.s3_bucket:
        raise ValueError("the s3 storage backend needs s3_bucket")
    # Credentials come from boto3's usual chain (environment, web identity, instance
    # role), never from our settings.
    client = boto3.client(
        "s3",
        region_name=settings.s3_region,
        endpoint_url=settings.s3_endpoint_url,
        config=Config(signature_version="s3v4", retries={"mode": "standard"}),
    )
    return S3Storage(client, settings.s3_bucket, cloudfront=_cloudfront(settings))


def _cloudfront(settings: Settings) -> CloudFrontUrlSigner | None:
    fields = (
        settings.cloudfront_domain,
        settings.cloudfront_key_pair_id,
        settings.cloudfront_private_key,
    )
    if not any(fields):
        return None
    domain, key_pair_id, private_key = fields
    if not (domain and key_pair_id and private_key):
        raise ValueError("CloudFront signing needs a domain, a key pair id and a private key")
    return CloudFrontUrlSigner(
        domain=domain,
        key_pair_id=key_pair_id,
        private_key_pem=private_key.get_secret_value().encode(),
    )
