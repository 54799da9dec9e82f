"""The operator's routes: liveness and readiness on the API, Prometheus metrics apart.

`/metrics` is not an API route: it tells whoever reads it the traffic by route, the
queue and the pools. `keepsake serve` serves it on its own listener
(`KEEPSAKE_METRICS_PORT`), which no ingress routes to, so no spelling of the path
(`/%6detrics`, `/METRICS`, `/metrics/`) reaches it through the API's port.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from keepsake.observability import Telemetry


def health_router() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", tags=["operations"], summary="The process is alive.")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        tags=["operations"],
        summary="The server can serve: its database answers.",
        responses={503: {"description": "The database does not answer."}},
    )
    async def readyz(request: Request) -> JSONResponse:
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError):
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return router


def metrics_app(api: FastAPI) -> Starlette:
    """`GET /metrics` in Prometheus' text format, for the API app `api` once its lifespan
    has started (the scrape reads the queue depth through the API's engine)."""

    async def prometheus_metrics(request: Request) -> Response:
        telemetry: Telemetry = api.state.telemetry
        await telemetry.metrics.queue_depth.refresh(api.state.engine)
        body, content_type = telemetry.metrics.render()
        return Response(body, media_type=content_type)

    return Starlette(routes=[Route("/metrics", prometheus_metrics, methods=["GET"])])
