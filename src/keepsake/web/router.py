"""Every web route, for `create_app` to include in one line."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from keepsake.web import app_links, email_links, share_router
from keepsake.web.console import auth, forms, missions, moderation
from keepsake.web.console import router as console

router = APIRouter()
for part in (
    share_router.router,
    email_links.router,
    app_links.router,
    console.router,
    moderation.router,
    missions.router,
):
    router.include_router(part)


def install(app: FastAPI) -> None:
    """The web routes, their static files, and the console's sign-in redirects."""
    app.include_router(router)
    app.mount("/static/web", app_links.static_files(), name="web-static")
    app.add_exception_handler(auth.SignInFirst, auth.sign_in_first)
    app.add_exception_handler(auth.NotAllowed, auth.not_allowed)
    app.add_exception_handler(forms.ConsoleFailed, forms.failed_page)
