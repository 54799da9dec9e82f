"""Load for the write rows of bench/scale.py: claps by many viewers, and memories made
from uploads whose bytes are already stored (`POST /v1/memories` alone, no transfer)."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import text

from keepsake.config import Settings
from keepsake.db import create_engine
from keepsake.storage import build_storage

# Enough finished uploads for 1,000 creations a second through every run of a size.
UPLOADS = 30_000
_BYTES = b"\0" * 16

_MADE = text(
    "INSERT INTO uploads (id, owner_id, purpose, content_type, size_bytes, storage_key,"
    " expires_at)"
    " SELECT g.id, u.id, 'clip', 'video/mp4', :size, 'uploads/' || u.id || '/' || g.id,"
    " now() + interval '7 days'"
    " FROM users u, (SELECT gen_random_uuid() AS id FROM generate_series(1, :n)) g"
    " WHERE u.handle = :handle RETURNING id, storage_key"
)


def made_uploads(url: str, folder: Path, owner: str, n: int = UPLOADS) -> list[str]:
    """`n` clip uploads of `owner`, complete (their bytes in storage) and unused."""

    async def make() -> list[str]:
        engine = create_engine(url, pool_size=1)
        storage = build_storage(Settings(data_dir=folder))
        try:
            async with engine.begin() as conn:
                rows = (
                    await conn.execute(_MADE, {"size": len(_BYTES), "n": n, "handle": owner})
                ).all()
        finally:
            await engine.dispose()
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "clip"
            source.write_bytes(_BYTES)
            for _, key in rows:
                await storage.upload_file(key, source, "video/mp4")
        return [str(upload_id) for upload_id, _ in rows]

    return asyncio.run(make())


def create_script(folder: Path, upload_ids: list[str]) -> Path:
    """One memory per request, each from the next unused upload."""
    ids = ", ".join(f'"{i}"' for i in upload_ids)
    path = folder / "create.lua"
    path.write_text(
        f"""local ids, i = {{{ids}}}, 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local body = '{{"visibility":"public","clips":[{{"upload_id":"' .. ids[i % #ids + 1] .. '"}}]}}'
  return wrk.format(nil, "/v1/memories", nil, body)
end
"""
    )
    return path


def many_clappers_script(folder: Path, memory_ids: list[str], tokens: list[str]) -> Path:
    """Clap once per request, rotating over memories and viewers so nobody reaches the
    50-clap cap; an `Idempotency-Key` on every other request, as the issue's mix has it."""
    ids = ", ".join(f'"{i}"' for i in memory_ids)
    viewers = ", ".join(f'"Bearer {t}"' for t in tokens)
    path = folder / "clap.lua"
    # The run id keeps the keys of different runs apart, so that none is a cheap replay.
    path.write_text(
        f"""local ids, viewers = {{{ids}}}, {{{viewers}}}
local run, i = "{uuid.uuid4().hex}", 0
wrk.method = "POST"
wrk.body = '{{"count":1}}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  wrk.headers["Authorization"] = viewers[i % #viewers + 1]
  wrk.headers["Idempotency-Key"] = (i % 2 == 0) and (run .. "-" .. i) or nil
  return wrk.format(nil, "/v1/memories/" .. ids[math.floor(i / #viewers) % #ids + 1] .. "/claps")
end
"""
    )
    return path
