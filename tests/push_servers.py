"""Local stand-ins for APNs and FCM: HTTP/2 over TLS, checking requests as the providers do.

Each runs under hypercorn on a free loopback port with a certificate from a test CA, so
the real clients speak TLS with ALPN `h2` to them exactly as to Apple and Google; the
process trusts the CA through `SSL_CERT_FILE`, which httpx honours.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keepsake.config import Settings
from keepsake.push.gateway import close_gateways
from tests.tls_servers import Tls, pem, serving

APNS_TEAM = "TEAM123456"
APNS_KEY_ID = "KEY1234567"
APNS_TOPIC = "com.keepsake.app"
FCM_PROJECT = "keepsake-test"
FCM_EMAIL = "push@keepsake-test.iam.gserviceaccount.com"
FCM_KEY_ID = "fcm-key-1"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Received:
    """One request a fake provider accepted."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    http_version: str


def _problem(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"reason": reason}, status_code=status)


@dataclass
class FakeApns:
    """APNs: checks the provider token's ES256 signature, the path, headers and payload."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    unregistered: set[str] = field(default_factory=set)
    bad_tokens: set[str] = field(default_factory=set)
    # Statuses to answer the next requests with, as an overloaded APNs would.
    outages: list[int] = field(default_factory=list)
    delivered: list[Received] = field(default_factory=list)
    provider_tokens: list[str] = field(default_factory=list)

    @property
    def private_pem(self) -> str:
        return pem(self.key)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/3/device/{token}", self._push, methods=["POST"])])

    def _refusal(self, request: Request) -> JSONResponse | None:
        if request.scope.get("http_version") != "2":
            return _problem(400, "HTTP2Required")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "bearer":
            return _problem(403, "MissingProviderToken")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token, self.key.public_key(), algorithms=["ES256"], options={"require": ["iat"]}
            )
        except jwt.InvalidTokenError:
            return _problem(403, "InvalidProviderToken")
        if header.get("kid") != APNS_KEY_ID or claims.get("iss") != APNS_TEAM:
            return _problem(403, "InvalidProviderToken")
        if time.time() - claims["iat"] > 3600:
            return _problem(403, "ExpiredProviderToken")
        self.provider_tokens.append(token)
        if request.headers.get("apns-topic") != APNS_TOPIC:
            return _problem(400, "BadTopic")
        if request.headers.get("apns-push-type") != "alert":
            return _problem(400, "InvalidPushType")
        if request.headers.get("apns-priority") not in ("5", "10"):
            return _problem(400, "BadPriority")
        return None

    async def _push(self, request: Request) -> Response:
        # Read the whole body before any answer: hypercorn drops an HTTP/2 connection
        # whose client still sends data on a stream it already answered.
        raw = await request.body()
        refused = self._refusal(request)
        if refused is not None:
            return refused
        if self.outages:
            return _problem(self.outages.pop(0), "ServiceUnavailable")
        token = request.path_params["token"]
        if token in self.unregistered:
            return JSONResponse(
                {"reason": "Unregistered", "timestamp": int(time.time() * 1000)}, status_code=410
            )
        if token in self.bad_tokens:
            return _problem(400, "BadDeviceToken")
        body = json.loads(raw)
        if not body.get("aps", {}).get("alert", {}).get("body"):
            return _problem(400, "PayloadEmpty")
        self.delivered.append(
            Received(request.url.path, dict(request.headers), body, request.scope["http_version"])
        )
        return Response(headers={"apns-id": secrets.token_hex(16)})


def _fcm_error(status: int, name: str, message: str, *details: dict[str, Any]) -> JSONResponse:
    error = {"code": status, "message": message, "status": name, "details": list(details)}
    return JSONResponse({"error": error}, status_code=status)


@dataclass
class FakeFcm:
    """Google OAuth for a service account, and FCM HTTP v1's send endpoint."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    expires_in: int = 3599
    base_url: str = ""
    unregistered: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)
    access_tokens: list[str] = field(default_factory=list)
    delivered: list[Received] = field(default_factory=list)

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    def service_account(self) -> str:
        return json.dumps(
            {
                "type": "service_account",
                "project_id": FCM_PROJECT,
                "private_key_id": FCM_KEY_ID,
                "private_key": pem(self.key),
                "client_email": FCM_EMAIL,
                "token_uri": self.token_url,
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/token", self._token, methods=["POST"]),
                Route("/v1/projects/{project}/messages:send", self._send, methods=["POST"]),
            ]
        )

    async def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != JWT_BEARER:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.key.public_key(),
                algorithms=["RS256"],
                audience=self.token_url,
                issuer=FCM_EMAIL,
                options={"require": ["iat", "exp", "scope"]},
            )
        except jwt.InvalidTokenError:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if header.get("kid") != FCM_KEY_ID or FCM_SCOPE not in claims["scope"].split():
            return JSONResponse({"error": "invalid_scope"}, status_code=400)
        if claims["exp"] - claims["iat"] > 3600:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        token = secrets.token_urlsafe(24)
        self.access_tokens.append(token)
        body = {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        return JSONResponse(body)

    async def _send(self, request: Request) -> Response:
        raw = await request.body()
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or bearer not in self.access_tokens:
            return _fcm_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
        if request.path_params["project"] != FCM_PROJECT:
            return _fcm_error(404, "NOT_FOUND", "Requested entity was not found.")
        message = json.loads(raw).get("message", {})
        token = message.get("token")
        if not token or not message.get("notification", {}).get("body"):
            return _fcm_error(400, "INVALID_ARGUMENT", "Invalid message.")
        if token in self.unregistered:
            return _fcm_error(
                404,
                "NOT_FOUND",
                "Requested entity was not found.",
                {
                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                    "errorCode": "UNREGISTERED",
                },
            )
        if token in self.invalid:
            return _fcm_error(
                400,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                {
                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                    "errorCode": "INVALID_ARGUMENT",
                },
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [
                        {"field": "message.token", "description": "Invalid registration token"}
                    ],
                },
            )
        self.delivered.append(
            Received(
                request.url.path,
                dict(request.headers),
                {"message": message},
                request.scope["http_version"],
            )
        )
        return JSONResponse({"name": f"projects/{FCM_PROJECT}/messages/{len(self.delivered)}"})

    def revoke_tokens(self) -> None:
        """As when Google invalidates access tokens before their expiry."""
        self.access_tokens.clear()


@dataclass
class Providers:
    """Both fakes, running, and the settings that point the server at them."""

    apns: FakeApns
    fcm: FakeFcm
    apns_url: str

    def settings(self, base: Settings, **overrides: Any) -> Settings:
        # `model_copy` sets the push fields whether or not this `Settings` declares them.
        values: dict[str, Any] = {
            "apns_key_id": APNS_KEY_ID,
            "apns_team_id": APNS_TEAM,
            "apns_private_key": SecretStr(self.apns.private_pem),
            "apns_topic": APNS_TOPIC,
            "apns_url": self.apns_url,
            "fcm_service_account": SecretStr(self.fcm.service_account()),
            "fcm_url": self.fcm.base_url,
            "fcm_token_url": self.fcm.token_url,
            "push_claps_gather": dt.timedelta(0),
            **overrides,
        }
        return base.model_copy(update=values)

    def pushes(self) -> list[str]:
        """Every push body either provider accepted, in order per provider (APNs first)."""
        return [r.body["aps"]["alert"]["body"] for r in self.apns.delivered] + [
            r.body["message"]["notification"]["body"] for r in self.fcm.delivered
        ]


@asynccontextmanager
async def providers(tls: Tls) -> AsyncIterator[Providers]:
    apns, fcm = FakeApns(), FakeFcm()
    async with serving(apns.app(), tls) as apns_url, serving(fcm.app(), tls) as fcm_url:
        fcm.base_url = fcm_url
        try:
            yield Providers(apns, fcm, apns_url)
        finally:
            # Before the servers stop, so no client is left holding a dead connection.
            await close_gateways()


async def eventually(check: Callable[[], bool | Awaitable[bool]], *, seconds: float = 15.0) -> None:
    """Wait for the worker to make `check` true."""
    async with asyncio.timeout(seconds):
        while True:
            found = check()
            if await found if inspect.isawaitable(found) else found:
                return
            await asyncio.sleep(0.05)
