"""Every route of the OpenAPI document, with a NUL byte in each string field, query and
path parameter in turn: never a 500."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.models import Role
from tests.accounts.test_roles import grant_role
from tests.conftest import PASSWORD, Member

SignUp = Callable[..., Any]
Json = dict[str, Any]
NUL = "a\x00b"


def _resolve(spec: Json, schema: Json) -> Json:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _sample(spec: Json, schema: Json) -> Any:
    """A plausible value of `schema`, so that one NUL field is the only thing wrong."""
    schema = _resolve(spec, schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return _sample(spec, next(s for s in schema[key] if s.get("type") != "null"))
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        sampled = {name: _sample(spec, sub) for name, sub in props.items()}
        # The documented example is valid as a whole, so the NUL alone is wrong.
        return {**sampled, **schema.get("examples", [{}])[0]}
    if kind == "array":
        return [_sample(spec, schema.get("items", {}))]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if schema.get("format") == "email":
        return f"{uuid.uuid4().hex[:12]}@example.com"
    return str(uuid.uuid4()) if schema.get("format") == "uuid" else "text"


def _with_nul(value: Any) -> Iterator[Any]:
    """Copies of `value` with one string in it replaced by a NUL-bearing one."""
    if isinstance(value, str):
        yield NUL
    elif isinstance(value, dict):
        for key, item in value.items():
            for changed in _with_nul(item):
                yield {**value, key: changed}
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for changed in _with_nul(item):
                yield [*value[:index], changed, *value[index + 1 :]]


def _requests(spec: Json) -> Iterator[tuple[str, str, Json, Any]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            params = operation.get("parameters", [])
            values = {p["name"]: _sample(spec, p.get("schema", {})) for p in params}
            schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            body = _sample(spec, schema) if schema else None
            for param in params:
                yield method, path, {**values, param["name"]: NUL}, body
            for changed in _with_nul(body):
                yield method, path, values, changed


async def _send(
    client: httpx.AsyncClient, spec: Json, request: tuple[str, str, Json, Any], member: Member
) -> httpx.Response:
    method, path, values, body = request
    operation = spec["paths"][path][method]
    where = {p["name"]: p["in"] for p in operation.get("parameters", [])}
    url = path
    query = {}
    for name, value in values.items():
        if where[name] == "path":
            segment = quote(str(value), safe="")
            url = url.replace("{" + name + "}", segment).replace("{" + name + ":path}", segment)
        elif where[name] == "query":
            query[name] = str(value)
    return await client.request(
        method.upper(), url, params=query, json=body, headers=member.headers
    )


async def test_no_route_answers_500_to_a_nul_byte(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp, engine: AsyncEngine
) -> None:
    spec = app.openapi()
    member: Member = await sign_up("walker")
    await grant_role(engine, member, Role.admin)
    sent = 0
    for request in _requests(spec):
        response = await _send(client, spec, request, member)
        sent += 1
        assert response.status_code < 500, (request, response.text)
        if response.status_code == 401:
            # The walk logged out or ended its sessions: sign in again and go on.
            login = await client.post(
                "/v1/auth/login", json={"email": member.email, "password": PASSWORD}
            )
            if login.status_code == 200:
                member.access_token = login.json()["tokens"]["access_token"]
    assert sent > 100
