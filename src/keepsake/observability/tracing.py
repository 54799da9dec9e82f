"""OpenTelemetry traces: a tracer provider per app or worker, exported over OTLP/HTTP.

Nothing here touches OpenTelemetry's process-wide state (the global tracer provider,
the instrumentors' monkeypatches): each app hands its own provider to what it owns —
its FastAPI app, its engine, its HTTP client — and those die with the app. So tests
can build many apps, each tracing to its own receiver, and nothing leaks between them.
Without an endpoint there is no provider at all, and no instrumentation is installed.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import httpx
from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, StatusCode
from sqlalchemy import URL, event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.config import Settings

# Probed every few seconds by Kubernetes: spans of them would be most of the traffic
# and none of the insight. (The metrics scrape has a listener of its own.)
PROBES = frozenset({"/healthz", "/readyz"})
# We export metrics through Prometheus; the httpx instrumentation's own OpenTelemetry
# metrics would go nowhere, so it gets a meter that records nothing.
_NO_METERS = NoOpMeterProvider()
_SPAN = "_keepsake_span"


def _is_probe(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in PROBES


def build_provider(settings: Settings) -> TracerProvider | None:
    """A provider exporting to `otel_exporter_otlp_endpoint`; None when it is unset."""
    endpoint = settings.otel_exporter_otlp_endpoint
    if endpoint is None:
        return None
    environment = settings.otel_environment or settings.environment
    resource = Resource.create(
        {
            "service.name": settings.otel_service_name,
            "service.version": settings.otel_service_version or version("keepsake"),
            # Both spellings: older Datadog agents map only the first to `env`; current
            # semantic conventions name the second.
            "deployment.environment": environment,
            "deployment.environment.name": environment,
        }
    )
    provider = TracerProvider(
        resource=resource,
        # A request already sampled (or not) upstream keeps that decision.
        sampler=ParentBased(TraceIdRatioBased(settings.otel_sample_ratio)),
        # We shut it down ourselves; an atexit hook would also keep every test's
        # provider alive until the process ends.
        shutdown_on_exit=False,
    )
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class Tracing:
    """One app's (or worker's) tracer provider and the instrumentation bound to it."""

    def __init__(self, provider: TracerProvider | None) -> None:
        self.provider = provider

    def tracer(self, name: str) -> trace.Tracer:
        if self.provider is None:
            return trace.NoOpTracer()
        return self.provider.get_tracer(name)

    def fastapi_config(self) -> TelemetryConfig:
        """FastAPI's own request spans, named by route template, on our provider only.

        FastAPI's built-in telemetry rather than the contrib ASGI instrumentation: it is
        configured per app in the constructor (no patching), names the span after the
        matched route, and redacts signed-URL query parameters (`sig`, `X-Amz-Signature`).
        Its operation spans (dependencies, endpoint, serialization) stay off: they mark
        every `AppError` — a 401, a 404 — as a failed span, and triple the span count.
        """
        return {
            "tracer_provider": self.provider,
            "tracing": self.provider is not None,
            "operation_spans": False,
            "metrics": False,
            "logs": False,
            "exclude": _is_probe,
        }

    def statement_spans(self, url: URL) -> StatementSpans | None:
        """Spans for statements run on the database at `url`; None when not tracing."""
        if self.provider is None:
            return None
        return StatementSpans(self.provider.get_tracer("keepsake.db"), url)

    def instrument_engine(self, engine: AsyncEngine) -> None:
        spans = self.statement_spans(engine.url)
        if spans is not None:
            SqlSpans(spans, engine)

    def instrument_client(self, client: httpx.AsyncClient) -> None:
        """A client span per outgoing request of this client (JWKS, push providers)."""
        if self.provider is None:
            return
        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=self.provider, meter_provider=_NO_METERS
        )

    def shutdown(self) -> None:
        """Export what is buffered and stop; blocks up to the exporter's timeout."""
        if self.provider is not None:
            self.provider.shutdown()


class StatementSpans:
    """A client span per SQL statement run inside a traced request, job or sweep.

    Statements outside a recording span (probes, the metrics scrape, unsampled requests)
    cost one check and make no trace.
    """

    def __init__(self, tracer: trace.Tracer, url: URL) -> None:
        self._tracer = tracer
        self._database = url.database or "postgresql"
        self._attributes: dict[str, str | int] = {
            "db.system": "postgresql",
            "db.name": url.database or "",
            "db.user": url.username or "",
            "net.peer.name": url.host or "",
            "net.peer.port": url.port or 5432,
        }

    def start(self, statement: str) -> Span | None:
        if not trace.get_current_span().is_recording():
            return None
        words = statement.split(None, 1)
        operation = words[0].upper() if words else "SQL"
        return self._tracer.start_span(
            f"{operation} {self._database}",
            kind=SpanKind.CLIENT,
            attributes={**self._attributes, "db.operation": operation, "db.statement": statement},
        )

    @staticmethod
    def failed(span: Span, error: BaseException) -> None:
        span.record_exception(error)
        span.set_status(StatusCode.ERROR, type(error).__name__)
        span.end()

    @contextmanager
    def statement(self, statement: str) -> Iterator[None]:
        """Around one statement run without SQLAlchemy (see `keepsake.readdb`)."""
        span = self.start(statement)
        if span is None:
            yield
            return
        try:
            yield
        except BaseException as error:
            self.failed(span, error)
            raise
        span.end()


class SqlSpans:
    """`StatementSpans` for every statement an engine runs.

    Ours rather than contrib's: `SQLAlchemyInstrumentor().instrument(engine=...)` works
    once per process (a second app gets nothing) and patches `create_engine` for every
    engine; and its per-engine tracer does its work for every statement, even when the
    request is not sampled, and makes a trace of each statement run outside any request.
    """

    def __init__(self, spans: StatementSpans, engine: AsyncEngine) -> None:
        self._spans = spans
        # The listeners live on this engine and go away with it.
        target = engine.sync_engine
        event.listen(target, "before_cursor_execute", self._started)
        event.listen(target, "after_cursor_execute", self._finished)
        event.listen(target, "handle_error", self._failed)

    def _started(
        self,
        conn: Connection,
        cursor: DBAPICursor,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        if context is None:
            return
        span = self._spans.start(statement)
        if span is not None:
            setattr(context, _SPAN, span)

    def _finished(
        self,
        conn: Connection,
        cursor: DBAPICursor,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        span = getattr(context, _SPAN, None)
        if span is not None:
            span.end()

    def _failed(self, failure: ExceptionContext) -> None:
        span = getattr(failure.execution_context, _SPAN, None)
        if span is not None:
            self._spans.failed(span, failure.original_exception)
