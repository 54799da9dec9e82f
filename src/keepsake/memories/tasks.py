"""Background jobs of memories: processing clips, removing media, and the reconciler.

Processing is idempotent: each clip's rendition is committed as soon as it exists, so
a run that dies (a killed server, a lost pod) resumes with the clips still missing.
Every run counts an attempt; a transient failure re-defers with backoff until
`processing_max_attempts`, after which the memory is `failed` with a visible reason.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Protocol

import anyio.to_thread
import procrastinate
import structlog
from procrastinate import JobContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.accounts.models import User
from keepsake.hooks import Hook
from keepsake.i18n import DEFAULT
from keepsake.i18n.catalog import _, translate
from keepsake.kinds import MemoryStatus
from keepsake.media import ClipInfo, MediaRejected, probe, transcode
from keepsake.memories import repository
from keepsake.memories.creation import DEFAULT_STILL_SECONDS
from keepsake.memories.models import Clip, Memory
from keepsake.memories.service import defer_processing, processing_lock
from keepsake.security import utcnow
from keepsake.storage import keys
from keepsake.storage.base import disk_full
from keepsake.storage_jobs import DELETE_MEDIA_TASK

log = structlog.get_logger("keepsake.memories")
blueprint = procrastinate.Blueprint()


class Finished(Protocol):
    """What follows a memory leaving `processing` in the other domains, in the same
    transaction (`flows.memories.finished`)."""

    async def __call__(self, db: AsyncSession, memory: Memory, *, ready: bool) -> None: ...


finished: Hook[Finished] = Hook("memories.finished")


@dataclass(frozen=True)
class Failure:
    """Why a memory failed: a stable code, and a catalog message with its placeholders."""

    code: str
    message: str
    params: Mapping[str, object] = field(default_factory=dict)


PROCESSING_FAILED = Failure(
    "processing_failed", _("We could not process this memory; please try again.")
)
# The same words as an upload refused for a full disk (storage.router).
STORAGE_FULL = Failure("storage_full", _("The server's media storage is full; try again later."))
PROCESSING_TIMEOUT = Failure("processing_timeout", _("Processing took too long; please try again."))


async def _set_failure(db: AsyncSession, memory: Memory, failure: Failure) -> None:
    """Fail the memory, its detail written in the author's language (the one who reads it)."""
    locale = await db.scalar(select(User.locale).where(User.id == memory.author_id))
    detail = translate(locale or DEFAULT, failure.message, **failure.params)
    memory.status = MemoryStatus.failed
    memory.failure_code, memory.failure_detail = failure.code, detail[:300]


async def _fail(res: jobs.Resources, memory_id: uuid.UUID, failure: Failure) -> None:
    async with res.sessionmaker() as db, db.begin():
        memory = await repository.get(db, memory_id, lock=True)
        if memory is not None and memory.status == MemoryStatus.processing:
            await _set_failure(db, memory, failure)
            await finished.target(db, memory, ready=False)
            log.info("memory.failed", memory_id=str(memory_id), code=failure.code)


async def _start_attempt(
    res: jobs.Resources, memory_id: uuid.UUID
) -> tuple[Memory, list[Clip]] | None:
    """Count the attempt and push the deadline; None when there is nothing to do."""
    async with res.sessionmaker() as db, db.begin():
        memory = await repository.get(db, memory_id, lock=True)
        if memory is None or memory.status != MemoryStatus.processing:
            return None
        memory.attempts += 1
        memory.processing_deadline = utcnow() + res.settings.processing_deadline
        clips = (await repository.clips_of(db, [memory_id]))[memory_id]
        return memory, clips


def _seconds(info: ClipInfo, clip: Clip) -> float:
    if info.kind == "photo":
        return clip.still_seconds or DEFAULT_STILL_SECONDS
    return info.duration_s


async def _render_clip(
    res: jobs.Resources, memory_id: uuid.UUID, clip: Clip, source: Path, work: Path
) -> None:
    video, poster = work / f"{clip.id}.mp4", work / f"{clip.id}.jpg"
    rendition = await anyio.to_thread.run_sync(
        lambda: transcode(
            source,
            video,
            poster,
            still_seconds=clip.still_seconds,
            max_duration_s=res.settings.max_memory_seconds,
        )
    )
    video_key = keys.clip_video(memory_id, clip.id)
    poster_key = keys.clip_poster(memory_id, clip.id)
    try:
        await res.storage.upload_file(video_key, video, "video/mp4")
        await res.storage.upload_file(poster_key, poster, "image/jpeg")
    except Exception:
        # A video stored without its poster (a disk filling up between the two) is
        # recorded nowhere: nothing would ever remove it.
        await res.storage.delete([video_key, poster_key])
        raise
    async with res.sessionmaker() as db, db.begin():
        if await repository.get(db, memory_id) is None:
            # Deleted while we worked: what we just stored belongs to nobody.
            await res.storage.delete([video_key, poster_key])
            return
        await repository.save_clip(
            db,
            clip.id,
            video_key=video_key,
            poster_key=poster_key,
            duration_s=rendition.duration_s,
            width=rendition.width,
            height=rendition.height,
        )


async def _process(res: jobs.Resources, memory: Memory, clips: list[Clip]) -> Failure | None:
    """Render the clips still missing; the failure when the media is refused."""
    with tempfile.TemporaryDirectory(prefix="keepsake-memory-") as folder:
        work = Path(folder)
        sources: dict[uuid.UUID, tuple[Path, ClipInfo]] = {}
        for clip in clips:
            source = work / f"{clip.id}.source"
            await res.storage.download(clip.source_key, source)
            info = await anyio.to_thread.run_sync(
                partial(probe, source, max_duration_s=res.settings.max_memory_seconds)
            )
            sources[clip.id] = (source, info)
        total = sum(_seconds(sources[clip.id][1], clip) for clip in clips)
        limit = res.settings.max_memory_seconds
        if total > limit + 0.05:
            return Failure(
                "memory_too_long",
                _("The clips add up to {total} s; a memory is at most {limit} s."),
                {"total": f"{total:.0f}", "limit": f"{limit:.0f}"},
            )
        for clip in clips:
            if clip.video_key is None:
                await _render_clip(res, memory.id, clip, sources[clip.id][0], work)
    return None


async def _finish(res: jobs.Resources, memory_id: uuid.UUID) -> None:
    async with res.sessionmaker() as db, db.begin():
        memory = await repository.get(db, memory_id, lock=True)
        if memory is None or memory.status != MemoryStatus.processing:
            return
        clips = (await repository.clips_of(db, [memory_id]))[memory_id]
        memory.status = MemoryStatus.ready
        memory.duration_s = round(sum(c.duration_s or 0.0 for c in clips), 3)
        memory.processing_deadline = None
        await finished.target(db, memory, ready=True)
        # The originals may carry location metadata; only the clean renditions stay.
        await jobs.defer(db, DELETE_MEDIA_TASK, keys=[c.source_key for c in clips], prefix=None)
    log.info("memory.processed", memory_id=str(memory_id))


@blueprint.task(name="process_memory", pass_context=True, retry=jobs.REQUEUE_ON_SHUTDOWN)
async def process_memory(context: JobContext, memory_id: str) -> None:
    res = jobs.resources(context)
    memory_uuid = uuid.UUID(memory_id)
    started = await _start_attempt(res, memory_uuid)
    if started is None:
        return
    memory, clips = started
    try:
        with res.telemetry.metrics.media_processing_seconds.time():
            refused = await _process(res, memory, clips)
    except MediaRejected as rejected:
        refused = Failure(rejected.code, rejected.message, rejected.params)
    except Exception as exc:
        # Anything else may be transient (storage, database): retry with backoff.
        if memory.attempts >= res.settings.processing_max_attempts:
            log.exception("memory.processing.gave_up", memory_id=memory_id)
            await _fail(res, memory_uuid, STORAGE_FULL if disk_full(exc) else PROCESSING_FAILED)
            return
        delay = timedelta(seconds=res.settings.processing_retry_wait_s * 2 ** (memory.attempts - 1))
        log.warning(
            "memory.processing.retry",
            memory_id=memory_id,
            error=repr(exc),
            attempt=memory.attempts,
            delay_s=delay.total_seconds(),
        )
        async with res.sessionmaker() as db, db.begin():
            await defer_processing(db, memory_uuid, delay=delay)
        return
    if refused is not None:
        await _fail(res, memory_uuid, refused)
    else:
        await _finish(res, memory_uuid)


async def reconcile(res: jobs.Resources) -> None:
    """Nothing stays `processing` forever: re-defer lost work, fail what is out of attempts."""
    async with res.sessionmaker() as db, db.begin():
        for memory in await repository.stuck(db, now=utcnow(), limit=100):
            if await jobs.has_pending_job(db, processing_lock(memory.id)):
                continue
            if memory.attempts >= res.settings.processing_max_attempts:
                await _set_failure(db, memory, PROCESSING_TIMEOUT)
                await finished.target(db, memory, ready=False)
                log.warning("memory.failed", memory_id=str(memory.id), code="processing_timeout")
                continue
            memory.processing_deadline = utcnow() + res.settings.processing_deadline
            await defer_processing(db, memory.id)
            log.warning("memory.requeued", memory_id=str(memory.id))
