"""HTTP route of data exports."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage
from keepsake.errors import responses
from keepsake.exports import service
from keepsake.exports.schemas import ExportPublic

router = APIRouter(prefix="/v1", tags=["profiles"])


@router.get(
    "/me/export",
    summary="Your data export: 202 while it is being made, then 200 with a download link.",
    response_description="Ready: download the ZIP from `url`.",
    responses={
        status.HTTP_202_ACCEPTED: {"model": ExportPublic, "description": "Being made; ask again."},
        **responses(*AUTH_ERRORS, service.ExportBusy),
    },
)
async def get_export(
    response: Response, db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser
) -> ExportPublic:
    export = await service.my_export(db, settings=settings, storage=storage, user=user)
    if export.status == "pending":
        response.status_code = status.HTTP_202_ACCEPTED
    return export
