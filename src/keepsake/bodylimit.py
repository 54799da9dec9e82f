"""A ceiling on request bodies, enforced while they are read, before anything parses them.

A declared `Content-Length` over the limit is refused before a byte is read; a chunked
body is counted as it streams and refused the moment it passes the limit, so a 100 MB
body to an unauthenticated route costs the server at most the limit in memory.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keepsake.error_handlers import http_problem
from keepsake.errors import PROBLEM_JSON
from keepsake.i18n import negotiate

_TOO_LARGE = 413


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` with 413 `payload_too_large`, except under
    `exempt_prefix` (the local storage's upload route, which keeps its own streamed limit
    per upload) and on the paths of `wider`, each with its own ceiling (a form that
    carries a file)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        exempt_prefix: str,
        wider: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt_prefix = exempt_prefix
        self.wider = dict(wider or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        limit = self.wider.get(scope["path"], self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(scope, send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI passes an HTTPException from reading the body on to the
                    # app's handler, which answers problem+json.
                    raise HTTPException(_TOO_LARGE)
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        accept_language = next(
            (
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == b"accept-language"
            ),
            None,
        )
        problem = http_problem(_TOO_LARGE, negotiate(accept_language))
        body = orjson.dumps(problem.model_dump(mode="json", exclude_none=True))
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": _TOO_LARGE, "headers": headers})
        await send({"type": "http.response.body", "body": body})
