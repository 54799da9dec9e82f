"""The files that let the installed apps open this server's links themselves.

Apple and Google fetch them without following redirects and want `application/json`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from keepsake.deps import AppSettings
from keepsake.web.pages import STATIC_DIR

router = APIRouter(include_in_schema=False)

# The pages an installed app shows itself rather than the browser.
APP_PATHS = ("/m/*", "/u/*", "/verify-email", "/verify-email?*", "/reset-password*")
CACHE = "public, max-age=3600"


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


@router.get("/.well-known/apple-app-site-association")
async def apple_app_site_association(settings: AppSettings) -> Response:
    body: dict[str, Any] = {
        "applinks": {
            "details": [
                {"appIDs": settings.ios_app_ids, "components": [{"/": p} for p in APP_PATHS]}
            ]
            if settings.ios_app_ids
            else []
        }
    }
    return JSONResponse(body, headers={"Cache-Control": CACHE})


@router.get("/.well-known/assetlinks.json")
async def asset_links(settings: AppSettings) -> Response:
    statements: list[dict[str, Any]] = []
    if settings.android_package and settings.android_cert_sha256:
        statements.append(
            {
                "relation": ["delegate_permission/common.handle_all_urls"],
                "target": {
                    "namespace": "android_app",
                    "package_name": settings.android_package,
                    "sha256_cert_fingerprints": settings.android_cert_sha256,
                },
            }
        )
    return JSONResponse(statements, headers={"Cache-Control": CACHE})
