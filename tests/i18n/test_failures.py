"""A failed memory's `failure.detail` is written in its author's language."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.memories import tasks as memory_tasks
from keepsake.memories.tasks import Failure
from keepsake.worker import job_resources
from tests.notifications.test_notifications import insert_memory

SignUp = Callable[..., Any]


async def test_the_detail_is_in_the_authors_language_whoever_asks(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    jimin = await sign_up("jimin", locale="ko")
    theo = await sign_up("theo")
    res = job_resources(app.state.settings, app.state.sessionmaker, app.state.storage)
    too_long = Failure(
        "memory_too_long",
        "The clips add up to {total} s; a memory is at most {limit} s.",
        {"total": "75", "limit": "60"},
    )
    shown = {}
    for author in (jimin, theo):
        memory_id = await insert_memory(engine, author, status="processing")
        await memory_tasks._fail(res, uuid.UUID(memory_id), too_long)
        # The request's language does not matter: the author reads the stored detail.
        response = await client.get(
            f"/v1/memories/{memory_id}", headers={**author.headers, "Accept-Language": "en"}
        )
        assert response.status_code == 200, response.text
        shown[author.handle] = response.json()["failure"]
    assert shown == {
        "jimin": {
            "code": "memory_too_long",
            "detail": "클립을 모두 합하면 75초예요. 추억은 60초까지 담을 수 있어요.",
        },
        "theo": {
            "code": "memory_too_long",
            "detail": "The clips add up to 75 s; a memory is at most 60 s.",
        },
    }
