"""`keepsake serve` opens its Prometheus listener beside the API, and only there."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.fixtures.keepsake_cli import READY_TIMEOUT, Keepsake, wait_for
from tests.observability.test_metrics import value

# Process-level (a real `keepsake serve`): `--quick` leaves these out.
pytestmark = pytest.mark.slow

METRICS_URL = re.compile(r"Prometheus metrics at (http://\S+/metrics)")


def test_serve_opens_the_metrics_port_and_the_api_port_refuses_metrics(
    keepsake: Keepsake, database_url: str
) -> None:
    env = {**keepsake.env, "KEEPSAKE_DATABASE_URL": database_url, "KEEPSAKE_METRICS_PORT": "0"}
    server = keepsake.serve(env=env)

    def metrics_url() -> str | None:
        server.alive()
        match = METRICS_URL.search(server.output())
        return match.group(1) if match else None

    url = wait_for(metrics_url, timeout=READY_TIMEOUT, what="the metrics URL")
    assert httpx.get(f"{server.base_url}/healthz", timeout=5).status_code == 200
    # Through uvicorn itself, the raw request targets go as written.
    with httpx.Client(base_url=server.base_url, timeout=5) as api:
        for target in ("/metrics", "/%6detrics", "/METRICS", "/metrics/"):
            request = api.build_request("GET", "/")
            request.url = request.url.copy_with(raw_path=target.encode())
            assert api.send(request).status_code == 404, target
    scraped = httpx.get(url, timeout=5)

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    count = "keepsake_http_request_duration_seconds_count"
    assert value(scraped.text, count, method="GET", route="/healthz", status="200") == 1
    assert server.stop() == 0, server.output()


def test_serve_without_a_metrics_port_serves_none(keepsake: Keepsake, database_url: str) -> None:
    server = keepsake.serve(env={**keepsake.env, "KEEPSAKE_DATABASE_URL": database_url})

    assert "Prometheus metrics are not served" in server.output()
    assert httpx.get(f"{server.base_url}/metrics", timeout=5).status_code == 404
