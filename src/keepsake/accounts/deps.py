"""Request dependencies: the signed-in user and where a request comes from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from keepsake.accounts import repository, service
from keepsake.accounts.auth_cache import AuthCache, Viewer
from keepsake.accounts.client import Client
from keepsake.accounts.models import User
from keepsake.config import Settings
from keepsake.db import DbSession
from keepsake.deps import AppSettings
from keepsake.etags import note_viewer
from keepsake.i18n.catalog import _
from keepsake.kinds import AccountStatus
from keepsake.readdb import ReadDb
from keepsake.security import AccessClaims, read_access_token

_bearer = HTTPBearer(auto_error=False, description="The `access_token` from sign-up or log-in.")


@dataclass(frozen=True)
class Auth:
    user: User
    session_id: uuid.UUID


async def _client(request: Request, settings: AppSettings) -> Client:
    ip = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-for")
    if settings.trust_forwarded_for and forwarded:
        # Behind the load balancer the nearest hop it saw is the last entry.
        ip = forwarded.split(",")[-1].strip()
    return Client(ip=ip, user_agent=request.headers.get("user-agent", ""))


ClientInfo = Annotated[Client, Depends(_client)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise service.NotAuthenticated(
            _("Sign in first: send `Authorization: Bearer <access_token>`.")
        )
    return credentials.credentials


def _claims(settings: Settings, token: str) -> AccessClaims:
    claims = read_access_token(settings, token)
    if claims is None:
        raise service.InvalidAccessToken(_("The access token is invalid or expired."))
    return claims


async def _auth(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Auth:
    claims = _claims(settings, _token(credentials))
    user = await service.authenticate(db, claims)
    note_viewer(request, user.id)
    return Auth(user=user, session_id=claims.session_id)


async def _viewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Viewer:
    token = _token(credentials)
    cache: AuthCache = request.app.state.auth_cache
    viewer = cache.get(token)
    if viewer is None:
        viewer = await _session_viewer(request, token, cache)
    note_viewer(request, viewer.id)
    return viewer


async def viewer_of(request: Request) -> Viewer:
    """What `CurrentViewer` gives, for a route that reads its own parameters."""
    return await _viewer(request, await _bearer(request))


async def _session_viewer(request: Request, token: str, cache: AuthCache) -> Viewer:
    """The token's viewer, read from its session (and kept in the cache)."""
    claims = _claims(request.app.state.settings, token)
    # Before the read: an invalidation landing during it must stop the `put`.
    epoch = cache.epoch
    # One read needs no transaction: the autocommit pool spares the BEGIN and ROLLBACK.
    reads: ReadDb = request.app.state.read_db
    holder = await repository.session_holder(
        reads, user_id=claims.user_id, session_id=claims.session_id
    )
    if holder is None:
        raise service.SessionRevoked(_("This session has ended; sign in again."))
    if holder.status == AccountStatus.suspended:
        raise service.AccountSuspended(_("This account is suspended."))
    viewer = Viewer(id=holder.user_id, session_id=claims.session_id)
    valid_until = min(_token_expiry(token), holder.expires_at.timestamp())
    cache.put(token, viewer, valid_until=valid_until, epoch=epoch)
    return viewer


def _token_expiry(token: str) -> float:
    # `read_access_token` has verified the token and its `exp`; its claims leave `exp` out.
    payload = jwt.decode(token, options={"verify_signature": False})
    return float(payload["exp"])


async def _user(auth: Annotated[Auth, Depends(_auth)]) -> User:
    return auth.user


CurrentAuth = Annotated[Auth, Depends(_auth)]
CurrentUser = Annotated[User, Depends(_user)]
# For routes that need only who is asking: no ORM session, and usually no database at all.
CurrentViewer = Annotated[Viewer, Depends(_viewer)]


# Every error `CurrentUser` / `CurrentAuth` / `CurrentViewer` can raise, for the routes'
# OpenAPI `responses`.
AUTH_ERRORS = (
    service.NotAuthenticated,
    service.InvalidAccessToken,
    service.SessionRevoked,
    service.AccountSuspended,
)
