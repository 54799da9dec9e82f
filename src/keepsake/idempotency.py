"""`Idempotency-Key` for writes a flaky mobile network may repeat.

The first request with a key claims it with an INSERT in its own transaction; a
concurrent repeat blocks on the primary key until the first commits, then replays the
stored response. If the first fails and rolls back, its claim disappears with it, so
a retry runs afresh. A key is scoped to its user and operation.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base
from keepsake.errors import Invalid
from keepsake.i18n.catalog import _


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    operation: Mapped[str] = mapped_column(String(60), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Any unique string; a repeat with the same key returns the first result.",
    ),
]


class KeyReused(Invalid):
    def __init__(self) -> None:
        super().__init__(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )


def _digest(body: BaseModel | None) -> bytes:
    raw = body.model_dump_json() if body is not None else ""
    return hashlib.sha256(raw.encode()).digest()


async def once(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    operation: str,
    key: str | None,
    body: BaseModel | None,
    status_code: int,
    run: Callable[[], Awaitable[BaseModel]],
) -> JSONResponse:
    """Run `run` at most once per key; repeats get the stored response."""
    if key is None:
        result = await run()
        return JSONResponse(result.model_dump(mode="json"), status_code=status_code)
    request_hash = _digest(body)
    claimed = await db.scalar(
        insert(IdempotencyRecord)
        .values(user_id=user_id, operation=operation, key=key, request_hash=request_hash)
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.key)
    )
    if claimed is None:
        stored = await db.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id,
                IdempotencyRecord.operation == operation,
                IdempotencyRecord.key == key,
            )
        )
        if stored is None or stored.request_hash != request_hash or stored.status_code is None:
            raise KeyReused()
        return JSONResponse(stored.response, status_code=stored.status_code)
    result = await run()
    payload = json.loads(result.model_dump_json())
    await db.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.operation == operation,
            IdempotencyRecord.key == key,
        )
        .values(status_code=status_code, response=payload)
    )
    return JSONResponse(payload, status_code=status_code)
