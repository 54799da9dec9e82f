"""deploy/datadog agrees with the app: the dashboard queries metrics the scrape produces,
the scrape renames metrics the app exports, and the agent listens where spans are sent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.auth_cache import AuthCache
from keepsake.db import libpq_url
from keepsake.observability.metrics import Metrics
from keepsake.readdb import read_pool

DATADOG = Path(__file__).resolve().parents[2] / "deploy" / "datadog"
# A Datadog metric query: `<aggregation>:<metric>{<scope>}`.
QUERIED = re.compile(r"\b(?:avg|sum|min|max|p\d\d):([a-z0-9_.]+)\{")


def openmetrics_instances() -> list[dict[str, Any]]:
    instances = []
    for patch in yaml.safe_load_all((DATADOG / "pod-annotations.yaml").read_text()):
        annotations = patch["spec"]["template"]["metadata"]["annotations"]
        for key, value in annotations.items():
            if key.endswith(".checks"):
                instances += json.loads(value)["openmetrics"]["instances"]
    return instances


async def exported_metrics(engine: AsyncEngine) -> dict[str, str]:
    """The app's metric names and their types (counter, gauge, histogram)."""
    metrics = Metrics()
    metrics.watch_pool(engine)
    # Never opened: its gauges are read from counters in memory.
    metrics.watch_read_pool(read_pool(libpq_url(str(engine.url)), size=1))
    metrics.watch_auth_cache(AuthCache(1))
    await metrics.queue_depth.refresh(engine)
    return {family.name: family.type for family in metrics.registry.collect()}


# What the OpenMetrics check sends for each type, with histograms as distributions and
# `collect_counters_with_distributions`.
SUFFIXES = {"histogram": ("", ".count", ".sum"), "counter": (".count",), "gauge": ("",)}


async def test_the_scrape_renames_only_metrics_the_app_exports(engine: AsyncEngine) -> None:
    exported = await exported_metrics(engine)
    renamed = {name for instance in openmetrics_instances() for name in instance["metrics"][0]}
    assert renamed <= set(exported), renamed - set(exported)
    # Every metric the app exports reaches Datadog from one Deployment or the other.
    assert renamed == set(exported), set(exported) - renamed


async def test_the_dashboard_queries_only_metrics_the_scrape_produces(
    engine: AsyncEngine,
) -> None:
    exported = await exported_metrics(engine)
    produced: set[str] = set()
    for instance in openmetrics_instances():
        assert instance["histogram_buckets_as_distributions"] is True
        assert instance["collect_counters_with_distributions"] is True
        for prometheus_name, datadog_name in instance["metrics"][0].items():
            full = f"{instance['namespace']}.{datadog_name}"
            produced |= {full + suffix for suffix in SUFFIXES[exported[prometheus_name]]}
    dashboard = (DATADOG / "dashboard.json").read_text()
    queried = set(QUERIED.findall(dashboard))

    assert queried, "the pattern should find the dashboard's queries"
    assert queried <= produced, queried - produced


def test_the_agent_receives_otlp_where_the_app_sends_it_and_collects_logs() -> None:
    values = yaml.safe_load((DATADOG / "values.yaml").read_text())["datadog"]
    protocols = values["otlp"]["receiver"]["protocols"]

    assert protocols["http"] == {"enabled": True, "endpoint": "0.0.0.0:4318", "useHostPort": True}
    assert protocols["grpc"] == {"enabled": True, "endpoint": "0.0.0.0:4317", "useHostPort": True}
    assert values["logs"]["enabled"] is True
    annotations = [
        patch["spec"]["template"]["metadata"]["annotations"]
        for patch in yaml.safe_load_all((DATADOG / "pod-annotations.yaml").read_text())
    ]
    for pod in annotations:
        (logs,) = [json.loads(v) for k, v in pod.items() if k.endswith(".logs")]
        assert logs[0]["source"] == "python"


def test_the_logs_pipeline_reads_the_fields_the_app_writes() -> None:
    pipeline = json.loads((DATADOG / "logs-pipeline.json").read_text())
    sources = {p["type"]: p["sources"] for p in pipeline["processors"]}

    assert sources["message-remapper"] == ["event"]
    assert sources["status-remapper"] == ["level"]
    assert sources["trace-id-remapper"] == ["dd.trace_id"]
    assert sources["date-remapper"] == ["timestamp"]
