"""Every web route, for `create_app` to include in one line."""

from __future__ import annotations

from fastapi import APIRouter

from keepsake.web import app_links, email_links, share_router

router = APIRouter()
for part in (share_router.router, email_links.router, app_links.router):
    router.include_router(part)
