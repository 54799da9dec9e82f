"""`/metrics` lives on a listener of its own: the API's port has no spelling of it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from keepsake.health import metrics_app
from tests.accounts.test_signup_login import assert_problem
from tests.observability.test_metrics import scrape, value

# How scanners and clumsy rewrites spell the path; ASGI servers decode `%6d` to `m`
# before routing, which is how `/%6detrics` slipped past an ingress rule on `/metrics`.
SPELLINGS = [
    "/metrics",
    "/metrics/",
    "/%6detrics",
    "/%6Detrics",
    "/%2Fmetrics",
    "/METRICS",
    "/Metrics",
    "//metrics",
    "/metrics?format=prometheus",
    "/metrics;jsessionid=1",
    "/metrics%2F",
]


@pytest.mark.parametrize("path", SPELLINGS)
async def test_the_api_port_never_serves_metrics(client: httpx.AsyncClient, path: str) -> None:
    # A raw target, so that httpx sends the spelling exactly as written.
    request = client.build_request("GET", "http://keepsake.test")
    request.url = request.url.copy_with(raw_path=path.encode())
    response = await client.send(request, follow_redirects=True)

    assert_problem(response, 404, "not_found")
    assert "keepsake_http_request_duration_seconds" not in response.text


async def test_the_api_document_leaves_metrics_out(app: FastAPI) -> None:
    assert not [path for path in app.openapi()["paths"] if "metrics" in path.lower()]


async def test_the_metrics_listener_serves_prometheus_text(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.get("/healthz")
    text = await scrape(app)

    count = "keepsake_http_request_duration_seconds_count"
    assert (value(text, count, method="GET", route="/healthz", status="200") or 0) >= 1
    assert value(text, "keepsake_job_queue_depth", queue="default", status="todo") == 0


async def test_the_metrics_listener_serves_nothing_else(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=metrics_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics.test") as http:
        assert (await http.get("/healthz")).status_code == 404
        assert (await http.get("/v1/feed/home")).status_code == 404
        assert (await http.post("/metrics")).status_code == 405
