"""Per request: an id for the logs, the latency histogram, and one log line."""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keepsake.observability.metrics import Metrics
from keepsake.observability.tracing import PROBES

log = structlog.get_logger("keepsake")


def _route_template(scope: Scope) -> str:
    # The router stores the matched route in the scope; its path is the template.
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class RequestContextMiddleware:
    """Binds a request id to logs, echoes it back, records latency by route, and logs
    one `http.request` line (in place of the server's access log)."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.request_seconds.labels(method, route, str(status)).observe(elapsed)
            fields = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
            }
            if status >= 500:
                self.metrics.server_errors.labels(route).inc()
                # Inside `finally`, an exception escaping the app is still the current
                # one: its traceback lands on this line, with the request's ids.
                log.error("http.request", **fields, exc_info=True)
            elif scope["path"] not in PROBES:
                log.info("http.request", **fields)
            structlog.contextvars.unbind_contextvars("request_id")
