"""uvicorn's HTTP/1.1 protocol with the limits it lacks against slow or too many clients.

uvicorn bounds only the idle time between keep-alive requests (`timeout_keep_alive`).
Its `limit_concurrency` accepts every connection and answers 503 only once a request's
headers are in, so a client that never finishes them holds its connection forever; and
nothing bounds how long a request's headers or body may take. This protocol adds:

- a header deadline: a request's line and headers must all arrive within
  `header_timeout` of its first byte (or of the connection's opening);
- a body pace: while a body is read, every `body_timeout` window must bring at least
  `body_min_rate` bytes a second (a window in which the server itself held the body
  back, because the application was not reading it yet, does not count);
- a cap on open connections per process: one over `max_connections` is answered 503
  `unavailable` with `Retry-After` and closed at once.

A request cut short this way is answered 408 `request_timeout` if its response has not
started, then its connection is closed; the application sees the client disconnect.

Such an answer is followed by a lingering close, as nginx does: the server half-closes,
then reads and drops whatever the client is still sending, for at most `LINGER_S`.
Closing outright while the client's bytes arrive makes the kernel reset the connection,
and a reset can destroy the answer in the client's buffers before it is read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from keepsake.errors import PROBLEM_JSON

RETRY_AFTER_S = 5
LINGER_S = 2.0


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float
    body_timeout: float
    body_min_rate: int
    max_connections: int


def problem(status: int, reason: str, code: str, detail: str, headers: str = "") -> bytes:
    """A complete HTTP/1.1 problem+json response that closes its connection.

    Written straight to the socket: there may be no request for the application to
    answer yet. Problems are in English here, before any Accept-Language was read.
    """
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status, "detail": detail, "code": code}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {PROBLEM_JSON}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n{headers}\r\n"
    )
    return head.encode() + body


TIMED_OUT = problem(
    408,
    "Request Timeout",
    "request_timeout",
    "The request did not arrive in time; send it again.",
)
TOO_MANY_CONNECTIONS = problem(
    503,
    "Service Unavailable",
    "unavailable",
    "The server has too many open connections; try again shortly.",
    f"retry-after: {RETRY_AFTER_S}\r\n",
)


def limited_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """The protocol class for `uvicorn.Config(http=...)`, bound to these limits."""

    class Limited(LimitedProtocol):
        pass

    Limited.limits = limits
    return Limited


class LimitedProtocol(HttpToolsProtocol):
    limits: ConnectionLimits

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.deadline: asyncio.TimerHandle | None = None
        self.request_begun = False
        self.body_bytes = 0
        self.held_back = False
        self.lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # (ignore: uvicorn's own signature narrows asyncio's BaseTransport the same way.)
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._answer_and_close(TOO_MANY_CONNECTIONS)
            return
        self._arm(self.limits.header_timeout, self._headers_late)

    def data_received(self, data: bytes) -> None:
        if not self.lingering:
            super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.request_begun = True
        # A keep-alive connection's next request: its headers get their own deadline.
        if self.deadline is None:
            self._arm(self.limits.header_timeout, self._headers_late)

    def on_headers_complete(self) -> None:
        self._disarm()
        self.request_begun = False
        super().on_headers_complete()
        self._start_body_window()

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        super().on_body(body)
        self.held_back = self.held_back or self.flow.read_paused

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _headers_late(self) -> None:
        self.deadline = None
        # A connection opened ahead of time and never used is closed without a word;
        # one whose request started is told why.
        self._cut(TIMED_OUT if self.request_begun else b"")

    def _start_body_window(self) -> None:
        self.body_bytes = 0
        self.held_back = self.flow.read_paused
        self._arm(self.limits.body_timeout, self._check_body_pace)

    def _check_body_pace(self) -> None:
        self.deadline = None
        # Until the application asks for the body, a client expecting `100 Continue`
        # rightly sends nothing.
        waiting_for_us = self.held_back or self.cycle.waiting_for_100_continue
        expected = self.limits.body_min_rate * self.limits.body_timeout
        if waiting_for_us or self.body_bytes >= expected:
            self._start_body_window()
            return
        self._cut(TIMED_OUT if not self.cycle.response_started else b"")

    def _cut(self, answer: bytes) -> None:
        if self.transport.is_closing() or self.lingering:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # The application is still running: whatever it sends now goes nowhere.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if answer:
            self._answer_and_close(answer)
        else:
            self.transport.close()

    def _answer_and_close(self, answer: bytes) -> None:
        """Sends `answer`, half-closes, and drops what still arrives until the client
        closes its side (the transport then closes itself) or `LINGER_S` passes."""
        self.lingering = True
        self.transport.write(answer)
        self.flow.resume_reading()
        self.transport.write_eof()
        self._arm(LINGER_S, self.transport.close)
