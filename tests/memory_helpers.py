"""Uploading real files and waiting for memories, as the apps do."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.conftest import Member


def local_path(url: str) -> str:
    """The path and query of a URL the app signed for its own host."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def upload(
    client: httpx.AsyncClient,
    member: Member,
    path: Path,
    content_type: str,
    *,
    purpose: str = "clip",
    http: httpx.AsyncClient | None = None,
) -> str:
    """Create an upload and PUT the file's bytes to its signed URL; returns the upload id."""
    data = path.read_bytes()
    created = await client.post(
        "/v1/uploads",
        json={"purpose": purpose, "content_type": content_type, "size_bytes": len(data)},
        headers=member.headers,
    )
    assert created.status_code == 201, created.text
    target = created.json()
    if http is None:
        sent = await client.put(
            local_path(target["upload_url"]), content=data, headers=target["headers"]
        )
    else:
        sent = await http.put(target["upload_url"], content=data, headers=target["headers"])
    assert sent.is_success, sent.text
    upload_id: str = target["id"]
    return upload_id


async def create_memory(
    client: httpx.AsyncClient, member: Member, upload_ids: list[str], **fields: Any
) -> dict[str, Any]:
    body = {"clips": [{"upload_id": u} for u in upload_ids], "visibility": "followers", **fields}
    response = await client.post("/v1/memories", json=body, headers=member.headers)
    assert response.status_code == 202, response.text
    memory: dict[str, Any] = response.json()
    assert memory["status"] == "processing"
    return memory


async def wait_processed(
    client: httpx.AsyncClient, member: Member, memory_id: str, *, seconds: float = 90.0
) -> dict[str, Any]:
    """Poll as an app would until the memory leaves `processing`."""
    async with asyncio.timeout(seconds):
        while True:
            response = await client.get(f"/v1/memories/{memory_id}", headers=member.headers)
            assert response.status_code == 200, response.text
            memory: dict[str, Any] = response.json()
            if memory["status"] != "processing":
                return memory
            await asyncio.sleep(0.2)
