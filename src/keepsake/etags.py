"""`ETag` / `If-None-Match` on the reads the apps poll: 304 with no body when nothing changed.

The route runs in full (authentication, privacy, its usual queries), so a 304 is never
older or wider than the 200 it stands for; what a match saves is the body on the wire
and the app's work on it. The tag is a hash of the body and of the account the route
authenticated (`note_viewer`, called by the authentication dependencies: verifying the
bearer token here a second time cost a tenth of a home feed's CPU), so two viewers with
identical answers (two empty inboxes) still get different tags, and a tag never matches
across viewers. It is weak: equal bodies, not
equal bytes on every layer. `Cache-Control: private, no-cache` keeps shared caches out
and makes the apps revalidate.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

from fastapi import FastAPI, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The polled reads; the home feed only on its first page (no `cursor`).
POLLED = frozenset({"/v1/me", "/v1/notifications", "/v1/feed/home"})
_FIRST_PAGE_ONLY = frozenset({"/v1/feed/home"})
CACHE_CONTROL = "private, no-cache"
# In the request's state (`scope["state"]`): the account the route authenticated.
_VIEWER = "etag_viewer"


def note_viewer(request: Request, viewer_id: uuid.UUID) -> None:
    """Who the route answers for: the account its tag is bound to."""
    request.state.etag_viewer = viewer_id


def etag(viewer: str, body: bytes) -> str:
    digest = hashlib.sha256(viewer.encode() + b"\0" + body).digest()[:16]
    return f'W/"{base64.urlsafe_b64encode(digest).decode().rstrip("=")}"'


def _matches(if_none_match: str, tag: str) -> bool:
    # Weak comparison (RFC 9110 §13.1.2): the opaque part decides, `W/` does not.
    opaque = tag.removeprefix("W/")
    given = (part.strip().removeprefix("W/") for part in if_none_match.split(","))
    return any(part in ("*", opaque) for part in given)


class ETagMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if scope.get("method") != "GET" or path not in POLLED:
            await self.app(scope, receive, send)
            return
        if path in _FIRST_PAGE_ONLY and b"cursor=" in scope.get("query_string", b""):
            await self.app(scope, receive, send)
            return
        # Made here, so that the route's `request.state` and this layer share one dict.
        state: dict[str, Any] = scope.setdefault("state", {})
        start: Message | None = None
        viewer: uuid.UUID | None = None
        chunks: list[bytes] = []

        async def tagged(message: Message) -> None:
            nonlocal start, viewer
            if message["type"] == "http.response.start":
                # The route has run its dependencies by now; without an account (a 401,
                # say) there is nothing to bind a tag to.
                viewer = state.get(_VIEWER)
                if message["status"] != 200 or viewer is None:
                    await send(message)
                    return
                start = message
                return
            if start is None or viewer is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            headers = Headers(scope=scope)
            await self._finish(start, b"".join(chunks), str(viewer), headers, send)

        await self.app(scope, receive, tagged)

    async def _finish(
        self, start: Message, body: bytes, viewer: str, request: Headers, send: Send
    ) -> None:
        tag = etag(viewer, body)
        response = MutableHeaders(raw=list(start["headers"]))
        response["etag"] = tag
        response["cache-control"] = CACHE_CONTROL
        if _matches(request.get("if-none-match", ""), tag):
            for name in ("content-length", "content-type"):
                del response[name]
            await send({**start, "status": 304, "headers": response.raw})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": response.raw})
        await send({"type": "http.response.body", "body": body})


def document_etags(app: FastAPI) -> None:
    """The polled reads' `If-None-Match`, their 200's `ETag` and their 304, in OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            for path in POLLED:
                operation = spec["paths"][path]["get"]
                operation.setdefault("parameters", []).append(
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "The `ETag` of your last 200 here: 304 if unchanged.",
                    }
                )
                tag = {
                    "ETag": {
                        "description": "A weak tag of this answer, for `If-None-Match`.",
                        "schema": {"type": "string"},
                    }
                }
                responses = operation["responses"]
                responses["200"].setdefault("headers", {}).update(tag)
                responses["304"] = {
                    "description": "Not modified: the same answer as your `ETag`; no body.",
                    "headers": tag,
                }
            app.openapi_schema = spec
        return app.openapi_schema

    # Replacing `app.openapi` is how FastAPI documents customising the schema.
    app.openapi = openapi  # type: ignore[method-assign]
