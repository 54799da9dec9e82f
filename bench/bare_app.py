"""The ceiling: a bare ASGI app returning fixed JSON, served like Keepsake."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

BODY = b'{"id":"0b0e5a4e","handle":"mina","display_name":"Mina","note":"","is_private":false}'


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
