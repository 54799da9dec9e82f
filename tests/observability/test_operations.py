"""Operator endpoints, error rendering, and the OpenAPI document the app teams learn from."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import psycopg.errors
import psycopg_pool
import sqlalchemy.exc
from fastapi import FastAPI
from pydantic import SecretStr

from keepsake.config import Settings
from keepsake.db import libpq_url
from keepsake.error_handlers import database_unreachable
from keepsake.main import create_app
from keepsake.readdb import ReadDb, read_pool
from keepsake.security import AccessClaims, issue_access_token
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import Member, running
from tests.observability.test_metrics import scrape, value


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}


async def test_readyz_reports_an_unreachable_database(make_settings: Callable[..., Any]) -> None:
    url = "postgresql://postgres@/keepsake?host=/nonexistent-socket-dir&connect_timeout=2"
    settings = make_settings(database_url=SecretStr(url))
    async with running(create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable"}

        token = issue_access_token(
            settings, AccessClaims(uuid.uuid4(), uuid.uuid4()), now=datetime.now(UTC)
        )
        signed_in = {"Authorization": f"Bearer {token}"}
        # The feeds' path and the ORM's: both say "try again" rather than fail.
        for method, path, body in (
            ("GET", "/v1/feed/home", None),
            ("GET", "/v1/me", None),
            ("POST", "/v1/auth/login", {"email": "mina@example.com", "password": "x" * 12}),
        ):
            response = await client.request(method, path, json=body, headers=signed_in)
            assert_problem(response, 503, "unavailable")
            assert response.headers["retry-after"] == "5"
    # The apps learn it from the API docs.
    assert "503" in create_app(settings).openapi()["info"]["description"]


async def test_metrics_record_requests_by_route(app: FastAPI, client: httpx.AsyncClient) -> None:
    await client.delete("/v1/me/sessions/0b0e5a4e-1b7a-4c5e-9f3a-2d8c6e1f7a90")
    text = await scrape(app)
    count = "keepsake_http_request_duration_seconds_count"
    labels = {"method": "DELETE", "route": "/v1/me/sessions/{id}", "status": "401"}
    assert (value(text, count, **labels) or 0) >= 1, text


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32


async def test_unknown_route_and_wrong_method_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(await client.get("/v1/auth/signup"), 405, "method_not_allowed")


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


async def test_openapi_documents_every_route(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for path, method, operation in _operations(spec):
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert operation.get("tags"), where
        if not path.startswith("/v1/"):
            continue
        errors = {code: r for code, r in operation["responses"].items() if code.startswith("4")}
        assert "422" in errors, where
        for response in errors.values():
            assert "application/problem+json" in response["content"], where
            assert "code:" in response["description"], where
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
            schema = schemas[ref]
            has_example = "examples" in schema or any(
                "examples" in field for field in schema.get("properties", {}).values()
            )
            assert has_example, f"{where}: request body {ref} has no example"


async def test_openapi_marks_authenticated_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    me = spec["paths"]["/v1/me"]["get"]
    assert me["security"] == [{"HTTPBearer": []}]
    assert "401" in me["responses"]
    assert "security" not in spec["paths"]["/v1/auth/login"]["post"]


async def test_docs_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text


def test_readme_documents_every_setting() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`KEEPSAKE_{name.upper()}`" not in readme]
    assert missing == []


def test_only_an_unreachable_database_is_a_503() -> None:
    unreachable: tuple[BaseException, ...] = (
        psycopg.OperationalError("connection refused"),
        psycopg_pool.PoolTimeout("no connection in 5 s"),
        psycopg.errors.lookup("08006")("connection failure"),
        psycopg.errors.AdminShutdown("terminating connection"),
        sqlalchemy.exc.TimeoutError("QueuePool limit reached"),
        sqlalchemy.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("gone")),
    )
    for error in unreachable:
        assert database_unreachable(error), error
    # The same classes also carry bugs and incidents: those stay 500s, with a traceback.
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    failing: tuple[BaseException, ...] = (
        deadlock,
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        sqlalchemy.exc.OperationalError("UPDATE …", {}, deadlock),
        ValueError("not a database error"),
    )
    for error in failing:
        assert not database_unreachable(error), error


async def test_a_feed_page_that_gets_no_connection_is_a_503(
    make_settings: Callable[..., Any],
    sign_up: Callable[..., Awaitable[Member]],
    database_url: str,
) -> None:
    mina = await sign_up("mina")
    app = create_app(make_settings())
    async with running(app) as client:
        # One connection, held here: the page waits its (shortened) timeout for it.
        pool = read_pool(libpq_url(database_url), size=1, timeout=0.2)
        async with pool, pool.connection():
            app.state.read_db = ReadDb(pool, None)
            response = await client.get("/v1/feed/home", headers=mina.headers)
    assert_problem(response, 503, "unavailable")
    assert response.headers["retry-after"] == "5"
