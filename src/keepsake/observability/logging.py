"""Structured logs: one JSON object a line on stdout, carrying request and trace ids.

Our own lines go through structlog; lines of libraries that use the standard `logging`
(uvicorn, SQLAlchemy, procrastinate) are rendered by the same processors, so a log
collector never meets a plain-text traceback in the middle of JSON.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

import structlog
from opentelemetry import trace
from structlog.types import EventDict, Processor, WrappedLogger

# Libraries that log every outgoing request (httpx) or every job (procrastinate) at
# INFO: our spans and `job.finished` lines say the same, with the ids.
_CHATTY = ("httpx", "httpcore", "procrastinate")
_LOW_64_BITS = (1 << 64) - 1


def add_trace_ids(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Name the active span, so that a log line links to its trace (only a sampled trace
    exists to link to; `request_id` groups a request's lines either way)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid and context.trace_flags.sampled:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
        # Datadog joins logs to traces by its own 64-bit decimal ids: the low half of
        # OpenTelemetry's 128-bit trace id.
        event["dd.trace_id"] = str(context.trace_id & _LOW_64_BITS)
        event["dd.span_id"] = str(context.span_id)
    return event


# What a log line must never carry: statement parameters and secrets, whoever logs them.
_SECRET_KEYS = frozenset(
    {"parameters", "params", "password", "password_hash", "token", "refresh_token",
     "access_token", "authorization", "email", "secret"}
)  # fmt: skip
# SQLAlchemy's rendering of a statement's parameters inside an error's text.
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\]\n?", re.DOTALL)


def drop_secrets(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Remove secret fields, and statement parameters from errors and tracebacks."""
    for key in _SECRET_KEYS.intersection(event):
        del event[key]
    for key in ("event", "exception", "error"):
        value = event.get(key)
        if isinstance(value, str) and "[parameters: " in value:
            event[key] = _SQL_PARAMETERS.sub("[parameters hidden]", value)
    return event


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Our handler on the root logger (found again to be replaced, not doubled). It
    writes to whatever `sys.stdout` is when a record comes: tests capture output by
    swapping `sys.stdout`, and a handler bound to a finished test's stream would fail."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _: TextIO) -> None:
        """The stream is always the current `sys.stdout`."""


def configure_logging(level: str, *, json: bool) -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    # Tracebacks become a string field in both renderings, so `drop_secrets` sees them.
    final: list[Processor] = [structlog.processors.format_exc_info, drop_secrets, renderer]
    structlog.configure(
        processors=[*shared, *final],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )

    handler = _StdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
        )
    )
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _StdoutHandler)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
