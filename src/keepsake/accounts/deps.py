"""Request dependencies: the signed-in user and where a request comes from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from keepsake.accounts import service
from keepsake.accounts.models import User
from keepsake.db import DbSession
from keepsake.deps import AppSettings
from keepsake.security import read_access_token

_bearer = HTTPBearer(auto_error=False, description="The `access_token` from sign-up or log-in.")


@dataclass(frozen=True)
class Auth:
    user: User
    session_id: uuid.UUID


async def _client(request: Request, settings: AppSettings) -> service.Client:
    ip = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-for")
    if settings.trust_forwarded_for and forwarded:
        # Behind the load balancer the nearest hop it saw is the last entry.
        ip = forwarded.split(",")[-1].strip()
    return service.Client(ip=ip, user_agent=request.headers.get("user-agent", ""))


ClientInfo = Annotated[service.Client, Depends(_client)]


async def _auth(
    db: DbSession,
    settings: AppSettings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Auth:
    if credentials is None:
        raise service.NotAuthenticated(
            "Sign in first: send `Authorization: Bearer <access_token>`."
        )
    claims = read_access_token(settings, credentials.credentials)
    if claims is None:
        raise service.InvalidAccessToken("The access token is invalid or expired.")
    user = await service.authenticate(db, claims)
    return Auth(user=user, session_id=claims.session_id)


async def _user(auth: Annotated[Auth, Depends(_auth)]) -> User:
    return auth.user


CurrentAuth = Annotated[Auth, Depends(_auth)]
CurrentUser = Annotated[User, Depends(_user)]


# Every error `CurrentUser` / `CurrentAuth` can raise, for the routes' OpenAPI `responses`.
AUTH_ERRORS = (
    service.NotAuthenticated,
    service.InvalidAccessToken,
    service.SessionRevoked,
    service.AccountSuspended,
)
