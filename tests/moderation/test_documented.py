"""The safety and missions routes as the app teams learn them: from the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

# The routes this round added: moderation, reports, strikes, appeals, missions and points.
PREFIXES = (
    "/v1/admin/",
    "/v1/reports",
    "/v1/me/reports",
    "/v1/me/strikes",
    "/v1/missions",
    "/v1/me/points",
)


def _schema_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _documented_models(spec: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    """The models of the body and of the success answers, a page's item in place of the page."""
    found = []
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    answers = [
        answer.get("content", {}).get("application/json", {})
        for status, answer in operation["responses"].items()
        if status.startswith("2")
    ]
    for media in [body, *answers]:
        name = _schema_name(media.get("schema", {}))
        if name is None:
            continue
        schema = spec["components"]["schemas"][name]
        if name.startswith("Page_"):
            name = _schema_name(schema["properties"]["items"]["items"])
        if name is not None:
            found.append(name)
    return found


def test_new_routes_have_summary_tag_problems_and_examples(app: FastAPI) -> None:
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    operations = [
        (method, path, operation)
        for path, methods in spec["paths"].items()
        if path.startswith(PREFIXES)
        for method, operation in methods.items()
    ]
    assert len(operations) > 20
    lacking = []
    for method, path, operation in operations:
        where = f"{method.upper()} {path}"
        if not operation.get("summary") or not operation.get("tags"):
            lacking.append(f"{where}: summary or tag")
        problems = [status for status in operation["responses"] if status[0] in "45"]
        if not problems:
            lacking.append(f"{where}: no problem responses")
        for name in _documented_models(spec, operation):
            if not schemas[name].get("examples"):
                lacking.append(f"{where}: {name} has no example")
    assert lacking == []
