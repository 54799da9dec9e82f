"""What a write costs in statements once the author's session is cached and a lease of
write-limit hits is held: a memory made from uploads already sent, and a report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.feed_helpers import seed_memory
from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import create_memory, upload
from tests.graph.test_graph import statements
from tests.moderation.helpers import report

SignUp = Callable[..., Any]


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_video(tmp_path / "clip.mp4", seconds=0.5)


async def test_a_memory_create_costs_the_same_statements_for_one_clip_or_many(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp, clip: Path
) -> None:
    mina = await sign_up("mina")
    await create_memory(client, mina, [await upload(client, mina, clip, "video/mp4")])
    costs = {}
    for clips in (1, 3):
        uploads = [await upload(client, mina, clip, "video/mp4") for _ in range(clips)]
        body = {
            "clips": [{"upload_id": u} for u in uploads],
            "visibility": "followers",
            "caption": "Snow by the river #첫눈 #walk",
        }
        with statements(app) as seen:
            response = await client.post("/v1/memories", json=body, headers=mina.headers)
        assert response.status_code == 202, response.text
        costs[clips] = len(seen)
    # The author; the uploads read, then marked used and moved to their claimed keys
    # (with the job that deletes the raw ones); the memory, its clips and its hashtags; the
    # processing job. Each of the uploads' and clips' statements carries every row.
    assert costs == {1: 9, 3: 9}


async def test_a_report_costs_four_statements(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    first, second = await seed_memory(engine, mina), await seed_memory(engine, mina)
    assert (await report(client, theo, "memory", str(first))).status_code == 201
    with statements(app) as seen:
        response = await report(client, theo, "memory", str(second))
    assert response.status_code == 201, response.text
    # The reporter, the memory, whether its author is visible to the reporter, and the
    # report (whose insert also decides, in SQL, whether it joins the queue).
    assert len(seen) == 4
