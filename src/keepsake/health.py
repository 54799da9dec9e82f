"""The operator's routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from keepsake.observability import Telemetry


def health_router(telemetry: Telemetry) -> APIRouter:
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

    @router.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics, in Prometheus' text format.",
        response_class=PlainTextResponse,
    )
    async def prometheus_metrics(request: Request) -> Response:
        await telemetry.metrics.queue_depth.refresh(request.app.state.engine)
        body, content_type = telemetry.metrics.render()
        return Response(body, media_type=content_type)

    return router
