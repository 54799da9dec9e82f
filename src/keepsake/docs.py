"""`/docs`: Swagger UI served from this server's own files, so it works offline.

FastAPI's default page loads Swagger UI from a CDN; on a train, behind a firewall or on a
phone's hotspot that page stays blank. The assets come from the `swagger-ui-py` wheel
(Swagger UI's dist, Apache-2.0).
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
ASSETS_DIR = Path(swagger_ui.__file__).parent / "static"


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` (the app must be made with `docs_url=None`)."""
    app.mount(ASSETS, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — docs",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
