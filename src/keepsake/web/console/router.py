"""The console's pages: sign-in and out, the home page, the music library.

Every form carries a CSRF token; every action calls the same service function as the
matching `/v1/admin/...` route.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from keepsake.accounts import service as accounts
from keepsake.accounts import sessions
from keepsake.accounts.deps import ClientInfo
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage, Limiter
from keepsake.errors import AppError, RateLimited
from keepsake.media import service as uploads
from keepsake.media.models import UploadPurpose
from keepsake.music import admin as music_admin
from keepsake.music import service as music
from keepsake.music.schemas import MusicTrackCreate, MusicTrackUpdate
from keepsake.pagination import PageRequest
from keepsake.security import read_access_token, utcnow
from keepsake.storage import keys as storage_keys
from keepsake.web.console import session, totp
from keepsake.web.console.auth import CONSOLE_ROLES, ConsoleAdmin, ConsoleUser, check_csrf
from keepsake.web.console.forms import ConsoleRoute, Csrf, page

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=ConsoleRoute)

MUSIC_UPLOAD_PATH = "/admin/music/upload"
Text = Annotated[str, Form(max_length=320)]
# The music API's own rule for names (one line, not blank), checked before the service.
TrackName = Annotated[str, Form(max_length=200, pattern=r"^[^\r\n]*\S[^\r\n]*$")]


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return page(request, "console/login.html", {"error": None})


@router.post("/login")
async def login(
    request: Request,
    email: Text,
    password: Annotated[str, Form(max_length=256)],
    db: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    client: ClientInfo,
    csrf: Csrf = None,
    code: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_csrf(request, settings, csrf)
    try:
        signed = await accounts.log_in(
            db, settings=settings, limiter=limiter, client=client, email=email, password=password
        )
    except RateLimited as error:
        return page(request, "console/login.html", {"error": error.detail}, 429)
    except AppError:
        await db.rollback()
        return page(request, "console/login.html", {"error": "wrong"}, 401)
    user = signed.user
    secret = user.totp_secret
    if secret is None and settings.environment != "development":
        refused = "no_totp"
    elif secret is not None and not totp.verify(secret, code, now=time.time()):
        refused = "wrong"
    elif user.role not in CONSOLE_ROLES:
        refused = "role"
    else:
        refused = None
    claims = read_access_token(settings, signed.tokens.access_token)
    if refused or claims is None:
        # No session is left open by a refused sign-in.
        await db.rollback()
        return page(request, "console/login.html", {"error": refused}, 403)
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(
        session.COOKIE,
        session.issue(settings, claims, now=utcnow()),
        max_age=int(settings.console_session_ttl.total_seconds()),
        path=session.PATH,
        httponly=True,
        samesite="strict",
        secure=settings.environment != "development",
    )
    return response


@router.post("/logout")
async def logout(
    request: Request, db: DbSession, settings: AppSettings, user: ConsoleUser, csrf: Csrf = None
) -> Response:
    check_csrf(request, settings, csrf)
    claims = session.read(settings, request.cookies.get(session.COOKIE, ""))
    if claims is not None:
        await sessions.log_out(db, user=user, session_id=claims.session_id)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(session.COOKIE, path=session.PATH)
    return response


@router.get("")
async def home(request: Request, user: ConsoleUser) -> HTMLResponse:
    return page(request, "console/home.html", {"user": user})


@router.get("/music")
async def music_library(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: ConsoleAdmin,
) -> HTMLResponse:
    found = await music.library(
        db, settings=settings, storage=storage, page=PageRequest(limit=100, after=None)
    )
    return page(request, "console/music.html", {"user": user, "tracks": found.items})


@router.post("/music/upload")
async def upload_track(
    request: Request,
    title: TrackName,
    artist: TrackName,
    audio: UploadFile,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: ConsoleAdmin,
    csrf: Csrf = None,
) -> Response:
    """The file arrives with the form; then the same steps as an app's upload and
    `POST /v1/admin/music`: an upload row and key, then the track made from it."""
    check_csrf(request, settings, csrf)
    with tempfile.TemporaryDirectory(prefix="keepsake-console-") as folder:
        source = Path(folder) / "audio"
        with source.open("wb") as sink:
            await anyio.to_thread.run_sync(shutil.copyfileobj, audio.file, sink)
            size = sink.tell()
        received = await uploads.receive_upload(
            db,
            settings=settings,
            storage=storage,
            owner=user,
            purpose=UploadPurpose.music,
            content_type=audio.content_type or "",
            source=source,
            size_bytes=size,
        )
    body = MusicTrackCreate(title=title, artist=artist, upload_id=received.id)
    raw = received.storage_key
    try:
        await music_admin.add_track(db, settings=settings, storage=storage, admin=user, body=body)
    except AppError:
        # The upload's row goes with the transaction; its bytes (and the claimed copy
        # made when the track took them) must go too.
        await storage.delete([raw, storage_keys.claimed(raw)])
        raise
    return RedirectResponse("/admin/music", status_code=303)


@router.post("/music/{track_id}")
async def edit_track(
    request: Request,
    track_id: uuid.UUID,
    title: TrackName,
    artist: TrackName,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    _: ConsoleAdmin,
    csrf: Csrf = None,
) -> Response:
    check_csrf(request, settings, csrf)
    await music_admin.update_track(
        db,
        settings=settings,
        storage=storage,
        track_id=track_id,
        body=MusicTrackUpdate(title=title, artist=artist),
    )
    return RedirectResponse("/admin/music", status_code=303)


@router.post("/music/{track_id}/remove")
async def remove_track(
    request: Request,
    track_id: uuid.UUID,
    db: DbSession,
    settings: AppSettings,
    _: ConsoleAdmin,
    csrf: Csrf = None,
) -> Response:
    check_csrf(request, settings, csrf)
    await music_admin.delete_track(db, track_id=track_id)
    return RedirectResponse("/admin/music", status_code=303)
