"""Routes of the public share pages and their oEmbed; anything not public is one 404 page."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from keepsake.db import DbSession
from keepsake.deps import AppReadDb, AppSettings, AppStorage
from keepsake.errors import responses
from keepsake.i18n.catalog import _
from keepsake.web import share
from keepsake.web.pages import render_localized

router = APIRouter()

# Short: a memory made private or hidden leaves shared caches within a minute.
CACHE = "public, max-age=60"
PLAYER_WIDTH, PLAYER_HEIGHT = 360, 640


def _shared(
    request: Request, template: str, context: dict[str, Any], **options: Any
) -> HTMLResponse:
    """A share page: in the viewer's language, kept by shared caches a short time."""
    return render_localized(request, template, context, cache=CACHE, **options)


def not_found(request: Request) -> HTMLResponse:
    return _shared(request, "not_found.html", {}, status_code=404)


@router.get("/m/{memory_id}", include_in_schema=False)
async def memory_page(
    memory_id: str,
    request: Request,
    reads: AppReadDb,
    settings: AppSettings,
    storage: AppStorage,
) -> HTMLResponse:
    try:
        page = await share.memory_page(
            reads, settings=settings, storage=storage, memory_id=memory_id
        )
    except share.NotShared:
        return not_found(request)
    base = settings.public_url
    return _shared(
        request,
        "memory.html",
        {"page": page, "base": base, "url": f"{base}/m/{page.memory['id']}"},
        media=page.media(),
        index=page.author.person.discoverable,
        frame=True,
    )


@router.get("/u/{handle}", include_in_schema=False)
async def profile_page(
    handle: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    try:
        page = await share.profile_page(
            db, settings=settings, storage=storage, handle=handle, cursor=cursor
        )
    except share.NotShared:
        return not_found(request)
    return _shared(
        request,
        "profile.html",
        {"page": page, "base": settings.public_url},
        media=page.media(),
        index=page.author.person.discoverable,
    )


class OEmbed(BaseModel):
    """An oEmbed 1.0 `video` answer for a share page (https://oembed.com)."""

    version: Literal["1.0"] = "1.0"
    type: Literal["video"] = "video"
    title: str
    author_name: str
    author_url: str
    provider_name: Literal["Keepsake"] = "Keepsake"
    provider_url: str
    html: str
    width: int
    height: int
    thumbnail_url: str | None = None
    thumbnail_width: int | None = None
    thumbnail_height: int | None = None


@router.get(
    "/oembed",
    tags=["share"],
    summary="oEmbed of a public memory's share page (`url` = `<server>/m/{id}`).",
    responses=responses(share.NotShared),
)
async def oembed(
    url: Annotated[str, Query(max_length=300, description="A share page's address.")],
    reads: AppReadDb,
    settings: AppSettings,
    storage: AppStorage,
    # oEmbed names it `format`; only JSON is offered, anything else is refused (422).
    format: Literal["json"] = "json",
) -> OEmbed:
    parts, base = urlsplit(url), urlsplit(settings.public_url)
    memory_id = parts.path.removeprefix("/m/")
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or memory_id == parts.path:
        raise share.NotShared(_("No such memory."))
    page = await share.memory_page(reads, settings=settings, storage=storage, memory_id=memory_id)
    person, memory = page.author.person, page.memory
    page_url = f"{settings.public_url}/m/{memory['id']}"
    first = memory["clips"][0] if memory["clips"] else None
    html = (
        f'<iframe src="{page_url}" width="{PLAYER_WIDTH}" height="{PLAYER_HEIGHT}" '
        'frameborder="0" allow="autoplay; fullscreen"></iframe>'
    )
    return OEmbed(
        title=memory["caption"][:200] or person.display_name,
        author_name=person.display_name,
        author_url=f"{settings.public_url}/u/{person.handle}",
        provider_url=settings.public_url,
        html=html,
        width=PLAYER_WIDTH,
        height=PLAYER_HEIGHT,
        thumbnail_url=first["poster_url"] if first else None,
        thumbnail_width=first["width"] if first else None,
        thumbnail_height=first["height"] if first else None,
    )
