"""The pages the sign-up and password-reset emails link to.

A GET only shows a form: mail scanners fetch links, and must not use the token up.
The POST calls the same service functions as `/v1/auth/email/verify` and
`/v1/auth/password/reset`. The token sits in the URL, so these pages send no referrer;
they work without JavaScript, are never indexed or cached, and speak the viewer's
language (`Accept-Language`), like the share pages.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from keepsake.accounts import links as accounts
from keepsake.accounts.deps import ClientInfo
from keepsake.db import DbSession
from keepsake.deps import AppSettings, Limiter
from keepsake.errors import Invalid, RateLimited
from keepsake.i18n.catalog import _, translate
from keepsake.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from keepsake.web.pages import render_localized, viewer_language

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Form(max_length=200)]
TokenQuery = Annotated[str, Query(max_length=200)]
Password = Annotated[str, Form(max_length=1000)]


def _page(
    request: Request, template: str, status_code: int = 200, **context: object
) -> HTMLResponse:
    return render_localized(
        request, template, context, status_code=status_code, referrer="no-referrer"
    )


def _too_many(request: Request, error: RateLimited) -> HTMLResponse:
    detail = error.detail_in(viewer_language(request))
    response = _page(request, "link_done.html", 429, message="too_many", detail=detail)
    response.headers.update(error.headers)
    return response


def _reset_form(
    request: Request, token: str, status_code: int = 200, error: str | None = None
) -> HTMLResponse:
    """The new-password form; `error`, already in the viewer's language, above it."""
    return _page(
        request,
        "reset_password.html",
        status_code,
        token=token,
        error=error,
        shortest=MIN_PASSWORD_LENGTH,
        longest=MAX_PASSWORD_LENGTH,
    )


@router.get("/verify-email")
async def verify_email_form(request: Request, token: TokenQuery = "") -> HTMLResponse:
    return _page(request, "verify_email.html", token=token)


@router.post("/verify-email")
async def verify_email(
    request: Request,
    token: Token,
    db: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    client: ClientInfo,
) -> HTMLResponse:
    try:
        await limiter.hit(
            f"verify:ip:{client.ip}",
            limit=settings.rate_limit_password_per_ip,
            window=settings.rate_limit_window,
        )
        await accounts.verify_email(db, token=token)
    except RateLimited as error:
        return _too_many(request, error)
    except accounts.InvalidToken:
        await db.rollback()
        return _page(request, "link_done.html", 400, message="verify_used")
    return _page(request, "link_done.html", message="verified")


@router.get("/reset-password")
async def reset_password_form(request: Request, token: TokenQuery = "") -> HTMLResponse:
    return _reset_form(request, token)


@router.post("/reset-password")
async def reset_password(
    request: Request,
    token: Token,
    new_password: Password,
    new_password_again: Password,
    db: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    client: ClientInfo,
) -> HTMLResponse:
    if new_password != new_password_again:
        differ = _("The two passwords differ; type the same one twice.")
        return _reset_form(request, token, 400, translate(viewer_language(request), differ))
    try:
        await accounts.reset_password(
            db,
            settings=settings,
            limiter=limiter,
            client=client,
            token=token,
            new_password=new_password,
        )
    except RateLimited as error:
        return _too_many(request, error)
    except accounts.InvalidToken:
        await db.rollback()
        return _page(request, "link_done.html", 400, message="reset_used")
    except Invalid as error:
        # The token was taken in this transaction: undone, so it can be used again.
        await db.rollback()
        return _reset_form(request, token, 400, error.detail_in(viewer_language(request)))
    return _page(request, "link_done.html", message="reset")
