"""Spans exported over OTLP/HTTP to a local receiver, and logs that name their trace."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from sqlalchemy import make_url, text
from sqlalchemy.exc import ProgrammingError

from keepsake import jobs
from keepsake.config import Settings
from keepsake.db import create_engine
from keepsake.main import create_app
from keepsake.observability import configure_logging
from keepsake.observability.tracing import PROBES, Tracing
from keepsake.worker import in_process_worker, job_resources
from tests.conftest import running
from tests.fixtures.http_thread import serving
from tests.fixtures.jwks_server import APPLE_CLIENT, APPLE_KEY, JwksServer, apple_token


def _values(attributes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for kv in attributes:
        assert isinstance(kv, KeyValue)
        which = kv.value.WhichOneof("value")
        found[kv.key] = getattr(kv.value, which) if which else None
    return found


@dataclasses.dataclass
class Received:
    span: Span
    resource: dict[str, Any]

    @property
    def name(self) -> str:
        return self.span.name

    @property
    def attributes(self) -> dict[str, Any]:
        return _values(self.span.attributes)


class OtlpReceiver:
    """A collector's OTLP/HTTP traces endpoint: decodes each export and keeps its spans."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.paths.append(self.path)
                receiver._keep(ExportTraceServiceRequest.FromString(body))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test output is for failures."""

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def _keep(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            resource = _values(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                self.spans += [Received(span, resource) for span in scope_spans.spans]

    @contextmanager
    def running(self) -> Iterator[OtlpReceiver]:
        with serving(self._http):
            yield self

    def named(self, name: str) -> list[Received]:
        return [s for s in self.spans if s.name == name]

    def ancestors(self, received: Received) -> Iterator[Received]:
        by_id = {s.span.span_id: s for s in self.spans}
        parent = by_id.get(received.span.parent_span_id)
        while parent is not None:
            yield parent
            parent = by_id.get(parent.span.parent_span_id)


async def run_jobs(app: FastAPI, *deferrals: dict[str, Any]) -> None:
    """Defer jobs and run them through the real worker, carrying the app's telemetry."""
    async with app.state.sessionmaker() as db, db.begin():
        for deferral in deferrals:
            await jobs.defer(db, **deferral)
    state = app.state
    resources = job_resources(state.settings, state.sessionmaker, state.storage)
    resources = dataclasses.replace(resources, telemetry=state.telemetry)
    pending = text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
    async with in_process_worker(resources), asyncio.timeout(30):
        while True:
            async with state.engine.connect() as connection:
                if await connection.scalar(pending) == 0:
                    return
            await asyncio.sleep(0.05)


# One job that succeeds, and one that fails (its task needs `prefix`).
A_GOOD_AND_A_BAD_JOB: tuple[dict[str, Any], ...] = (
    {"task": "memories:delete_media", "keys": [], "prefix": None},
    {"task": "memories:delete_media", "keys": []},
)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver().running() as running_receiver:
        yield running_receiver


@pytest.fixture
def apple() -> Iterator[JwksServer]:
    with JwksServer(APPLE_KEY).running() as server:
        yield server


async def test_requests_queries_outgoing_calls_and_jobs_arrive_as_spans(
    make_settings: Callable[..., Settings], receiver: OtlpReceiver, apple: JwksServer
) -> None:
    settings = make_settings(
        otel_exporter_otlp_endpoint=receiver.url,
        otel_service_version="1.2.3",
        otel_environment="staging",
        apple_jwks_url=apple.url,
        apple_client_ids=[APPLE_CLIENT],
    )
    app = create_app(settings)
    async with running(app) as client:
        signed_in = await client.post("/v1/auth/apple", json={"id_token": apple_token()})
        assert signed_in.status_code == 200, signed_in.text
        handle = signed_in.json()["user"]["handle"]
        token = signed_in.json()["tokens"]["access_token"]
        me = {"Authorization": f"Bearer {token}"}
        assert (await client.get(f"/v1/users/{handle}", headers=me)).status_code == 200
        assert (await client.get("/v1/users/nobody", headers=me)).status_code == 404
        assert (await client.get("/v1/feed/home", headers=me)).status_code == 200
        for probe in ("/healthz", "/readyz"):
            assert (await client.get(probe)).status_code == 200
        await run_jobs(app, *A_GOOD_AND_A_BAD_JOB)
    # Leaving the lifespan shut the provider down, which exported every buffered span.

    assert set(receiver.paths) == {"/v1/traces"}
    assert receiver.spans[0].resource["service.name"] == "keepsake"
    assert receiver.spans[0].resource["service.version"] == "1.2.3"
    assert receiver.spans[0].resource["deployment.environment"] == "staging"

    profile_reads = receiver.named("GET /v1/users/{handle}")
    assert [r.attributes["http.response.status_code"] for r in profile_reads] == [200, 404]
    for read in profile_reads:
        assert read.span.kind == Span.SPAN_KIND_SERVER
        assert read.attributes["http.route"] == "/v1/users/{handle}"
        assert read.attributes["http.request.method"] == "GET"
        # A 404 is the client's mistake, not the server's failure.
        assert read.span.status.code != Status.STATUS_CODE_ERROR
    found = profile_reads[0]
    queries = [
        s
        for s in receiver.spans
        if s.attributes.get("db.system") == "postgresql" and found in receiver.ancestors(s)
    ]
    assert queries, "the profile read's SQL statements should be spans under its request"
    assert all(q.span.kind == Span.SPAN_KIND_CLIENT for q in queries)
    assert any("FROM users" in q.attributes["db.statement"] for q in queries)
    assert all(q.span.trace_id == found.span.trace_id for q in queries)

    # Feed pages run outside SQLAlchemy (keepsake.readdb); their statement is a span too.
    (feed,) = receiver.named("GET /v1/feed/home")
    under = [s for s in receiver.spans if feed in receiver.ancestors(s)]
    # The profile read above put the session in this process's cache: only the page runs.
    (page,) = [s for s in under if "FROM memories" in s.attributes["db.statement"]]
    assert page.name.startswith("SELECT ")
    assert page.span.kind == Span.SPAN_KIND_CLIENT
    assert len(under) == 1

    (sign_in,) = receiver.named("POST /v1/auth/apple")
    (jwks_fetch,) = [s for s in receiver.spans if s.attributes.get("http.url") == apple.url]
    assert jwks_fetch.span.kind == Span.SPAN_KIND_CLIENT
    assert jwks_fetch.attributes["http.status_code"] == 200
    assert sign_in in receiver.ancestors(jwks_fetch)

    job_spans = receiver.named("job memories:delete_media")
    by_status = {s.attributes["job.status"]: s for s in job_spans}
    assert set(by_status) == {"succeeded", "failed"}
    for job_span in job_spans:
        assert job_span.span.kind == Span.SPAN_KIND_CONSUMER
        assert job_span.attributes["job.task"] == "memories:delete_media"
        assert job_span.attributes["job.attempt"] == 1
        assert job_span.attributes["messaging.message.id"].isdigit()
    assert by_status["failed"].span.status.code == Status.STATUS_CODE_ERROR
    assert by_status["succeeded"].span.status.code != Status.STATUS_CODE_ERROR

    # Probes make no traces, not even of their queries (`SELECT 1`, the queue depth).
    assert not [s for s in receiver.spans if s.attributes.get("url.path") in PROBES]
    statements = [s for s in receiver.spans if "db.statement" in s.attributes]
    assert all(s.span.parent_span_id for s in statements)
    assert not [s for s in statements if "procrastinate_jobs" in s.attributes["db.statement"]]


async def test_statements_are_spans_only_inside_traced_work(database_url: str) -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exported))
    engine = create_engine(database_url, pool_size=1)
    Tracing(provider).instrument_engine(engine)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            with provider.get_tracer("test").start_as_current_span("work"):
                await connection.execute(text("SELECT 2"))
                with pytest.raises(ProgrammingError):
                    await connection.execute(text("SELECT nothing FROM nowhere"))
    finally:
        await engine.dispose()

    spans = exported.get_finished_spans()
    (work,) = [s for s in spans if s.name == "work"]
    statements = [s for s in spans if s is not work]
    assert [s.attributes and s.attributes["db.statement"] for s in statements] == [
        "SELECT 2",
        "SELECT nothing FROM nowhere",
    ]
    assert all(s.parent and s.parent.span_id == work.context.span_id for s in statements)
    assert statements[0].name == f"SELECT {make_url(database_url).database}"
    assert statements[0].status.status_code == StatusCode.UNSET
    assert statements[1].status.status_code == StatusCode.ERROR


async def test_without_an_endpoint_nothing_is_traced(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    async with running(app) as client:
        assert (await client.get("/v1/users/nobody")).status_code in (401, 404)
        assert app.state.telemetry.tracing.provider is None


def test_log_lines_are_json_and_carry_request_and_trace_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", json=True)
    try:
        tracer = TracerProvider(shutdown_on_exit=False).get_tracer("test")
        with (
            tracer.start_as_current_span("request") as span,
            structlog.contextvars.bound_contextvars(request_id="r-1"),
        ):
            structlog.get_logger("keepsake.test").info("thing.happened", size=3)
            try:
                raise ValueError("broken")
            except ValueError:
                logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    finally:
        configure_logging("WARNING", json=False)

    ours, theirs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    context = span.get_span_context()
    for line in (ours, theirs):
        assert line["request_id"] == "r-1"
        assert line["trace_id"] == f"{context.trace_id:032x}"
        assert line["span_id"] == f"{context.span_id:016x}"
        assert line["dd.trace_id"] == str(context.trace_id & (2**64 - 1))
        assert line["dd.span_id"] == str(context.span_id)
    assert ours["event"] == "thing.happened"
    assert ours["size"] == 3
    assert ours["level"] == "info"
    assert theirs["event"] == "Exception in ASGI application"
    assert theirs["level"] == "error"
    assert theirs["logger"] == "uvicorn.error"
    assert "ValueError: broken" in theirs["exception"]
