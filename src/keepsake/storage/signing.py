"""URL signatures: HMAC for the local backend's own URLs, RSA for CloudFront's."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class UrlSigner:
    """HMAC-SHA256 over newline-joined fields.

    Callers sign only fields that cannot contain a newline (validated keys, bare media
    types, integers), so distinct field lists never join to the same message.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the URL signing secret must be at least 32 bytes")
        self._secret = secret

    def sign(self, *fields: str) -> str:
        # One-shot `hmac.digest` (C fast path): media URLs are signed several times per card.
        mac = hmac.digest(self._secret, "\n".join(fields).encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def verify(self, signature: str, *fields: str) -> bool:
        return hmac.compare_digest(signature.encode(), self.sign(*fields).encode())


class CloudFrontUrlSigner:
    """Signed CloudFront URLs with a canned policy (the URL expires at one instant).

    botocore builds the policy and URL in the exact form CloudFront checks; the RSA
    signature is ours, made with `cryptography`.
    """

    def __init__(self, *, domain: str, key_pair_id: str, private_key_pem: bytes) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("CloudFront signing needs an RSA private key")
        self._base_url = f"https://{domain.removeprefix('https://').rstrip('/')}"

        def rsa_sha1(message: bytes) -> bytes:
            # CloudFront verifies signed URLs with RSA-SHA1 only; the choice is not ours.
            return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

        self._signer = CloudFrontSigner(key_pair_id, rsa_sha1)

    def url(self, key: str, expires: int) -> str:
        """The signed URL of `key`, valid until `expires` (seconds since the epoch)."""
        return self._signer.generate_presigned_url(
            f"{self._base_url}/{key}", date_less_than=datetime.fromtimestamp(expires, UTC)
        )
