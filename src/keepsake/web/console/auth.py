"""Who may use the console: a live console session of a moderator or an admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from keepsake.accounts import service as accounts
from keepsake.accounts.models import Role, User
from keepsake.config import Settings
from keepsake.db import DbSession
from keepsake.deps import AppSettings
from keepsake.web.console import session
from keepsake.web.pages import render

CONSOLE_ROLES = frozenset({Role.moderator, Role.admin})


class SignInFirst(Exception):
    """No live console session: the browser goes to the sign-in page."""


class NotAllowed(Exception):
    """Signed in, but this needs another role or the form's CSRF token was missing."""


async def _console_user(request: Request, db: DbSession, settings: AppSettings) -> User:
    claims = session.read(settings, request.cookies.get(session.COOKIE, ""))
    if claims is None:
        raise SignInFirst
    try:
        user = await accounts.authenticate(db, claims)
    except (accounts.SessionRevoked, accounts.AccountSuspended):
        raise SignInFirst from None
    if user.role not in CONSOLE_ROLES:
        raise NotAllowed
    return user


async def _admin(user: Annotated[User, Depends(_console_user)]) -> User:
    if user.role != Role.admin:
        raise NotAllowed
    return user


ConsoleUser = Annotated[User, Depends(_console_user)]
ConsoleAdmin = Annotated[User, Depends(_admin)]


def check_csrf(request: Request, settings: Settings, given: str | None) -> None:
    if not session.csrf_ok(settings, request.cookies.get(session.CSRF_COOKIE), given):
        raise NotAllowed


async def sign_in_first(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/admin/login", status_code=303)


async def not_allowed(request: Request, exc: Exception) -> HTMLResponse:
    return render(request, "console/denied.html", {}, status_code=403)
