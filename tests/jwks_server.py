"""A local stand-in for Apple's and Google's key endpoints, and ID tokens signed like theirs."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@dataclass(frozen=True)
class SigningKey:
    """A test RSA key pair under a key id, as a provider would publish it."""

    kid: str
    private: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def unreachable_url() -> str:
    """A local URL where nothing listens, so connecting fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/keys"


class JwksServer:
    """Serves `/keys` from a thread; tests swap keys, break it, and count its requests."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.requests = 0
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = json.dumps({"keys": [key.jwk() for key in server.keys]}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test output is for failures."""

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/keys"

    @contextmanager
    def running(self) -> Iterator[JwksServer]:
        # A short poll keeps `shutdown()` from waiting half a second per server.
        thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()
            thread.join()


APPLE_CLIENT = "com.keepsake.app"
GOOGLE_CLIENT = "1234-keepsake.apps.googleusercontent.com"
APPLE_KEY = SigningKey.generate("apple-1")
APPLE_NEXT_KEY = SigningKey.generate("apple-2")
GOOGLE_KEY = SigningKey.generate("google-1")
# Same kid as the published key, different key pair: its signatures must not verify.
IMPOSTOR_KEY = SigningKey.generate("apple-1")
UNPUBLISHED_KEY = SigningKey.generate("never-published")


def _token(key: SigningKey, base: dict[str, Any], kid: str | None, claims: dict[str, Any]) -> str:
    merged = {**base, **claims}
    return key.sign({k: v for k, v in merged.items() if v is not None}, kid=kid)


def apple_token(*, key: SigningKey = APPLE_KEY, kid: str | None = None, **claims: Any) -> str:
    """An ID token shaped like Apple's; a claim given as None is left out."""
    now = int(time.time())
    base = {
        "iss": "https://appleid.apple.com",
        "aud": APPLE_CLIENT,
        "sub": "001234.apple.mina",
        "iat": now,
        "exp": now + 600,
        "email": "x7dk2ha8@privaterelay.appleid.com",
        "email_verified": "true",
        "is_private_email": "true",
    }
    return _token(key, base, kid, claims)


def google_token(*, key: SigningKey = GOOGLE_KEY, **claims: Any) -> str:
    now = int(time.time())
    base = {
        "iss": "https://accounts.google.com",
        "aud": GOOGLE_CLIENT,
        "azp": "android-client.apps.googleusercontent.com",
        "sub": "1098765432109876543",
        "iat": now,
        "exp": now + 3600,
        "email": "lena@example.com",
        "email_verified": True,
        "name": "Lena  Park",
    }
    return _token(key, base, None, claims)
