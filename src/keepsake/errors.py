"""The application's errors and their RFC 9457 problem+json rendering."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from keepsake.i18n import Language
from keepsake.i18n.catalog import _, translate

log = structlog.get_logger("keepsake")

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem; `code` is the stable value the apps switch on."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
    until: datetime | None = Field(
        default=None, description="`account_suspended`: when the suspension lifts, if it does."
    )
    appeal_token: str | None = Field(
        default=None,
        description="`account_suspended` at sign-in: a short-lived token that only reads "
        "`GET /v1/me/strikes` and sends `POST /v1/me/strikes/{id}/appeal`.",
    )


class AppError(Exception):
    """Base of every expected failure; services raise these, never HTTP exceptions.

    `title` and `detail` are catalog messages (marked with `_()`), translated into the
    request's language when the problem is rendered; `params` fill the detail's named
    placeholders. `detail` itself holds the English text, for logs and the CLI.
    """

    status = 400
    code = "bad_request"
    title = _("Bad request")
    # True when the request's database changes must be kept even though it fails
    # (e.g. revoking a session whose refresh token was replayed).
    commit = False

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
        params: Mapping[str, object] | None = None,
    ):
        self.message = detail
        self.params = dict(params or {})
        self.detail = detail.format(**self.params)
        super().__init__(self.detail)
        if code is not None:
            self.code = code
        self.headers = headers or {}
        # Extra members of the problem (RFC 9457 §3.2), among `Problem`'s optional fields.
        self.extensions = extensions or {}

    def detail_in(self, language: Language) -> str:
        return translate(language, self.message, **self.params)


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    title = _("Not signed in")


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = _("Not allowed")


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = _("Not found")


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = _("Conflict")


class Invalid(AppError):
    """A well-formed request that breaks a rule; rendered like a validation error."""

    status = 422
    code = "validation_error"
    title = _("Invalid input")

    def __init__(
        self,
        detail: str,
        *,
        code: str,
        field: str | None = None,
        params: Mapping[str, object] | None = None,
    ):
        super().__init__(detail, code=code, params=params)
        self.field = field


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    title = _("Too many requests")

    def __init__(self, retry_after: int):
        super().__init__(
            _("Too many attempts; try again in {seconds} s."),
            headers={"Retry-After": str(retry_after)},
            params={"seconds": retry_after},
        )


class Unavailable(AppError):
    status = 503
    code = "unavailable"
    title = _("Temporarily unavailable")


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def responses(
    *errors: type[AppError], invalid: tuple[str, ...] = ()
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each error it can return, with its stable codes.

    `invalid` names the rule codes a 422 may carry besides `validation_error`.
    """
    codes_by_status: dict[int, list[str]] = {Invalid.status: ["validation_error", *invalid]}
    titles = {Invalid.status: Invalid.title}
    for error in errors:
        codes_by_status.setdefault(error.status, []).append(error.code)
        titles.setdefault(error.status, error.title)
    return {
        status: {
            "description": f"{titles[status]} (code: {', '.join(f'`{c}`' for c in codes)})",
            "model": Problem,
        }
        for status, codes in sorted(codes_by_status.items())
    }


def use_problem_media_type(app: FastAPI) -> None:
    """Document error bodies as `application/problem+json`, the type they are sent with."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            for item in spec.get("paths", {}).values():
                for operation in item.values():
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        if status[0] in "45" and "application/json" in content:
                            content[PROBLEM_JSON] = content.pop("application/json")
            app.openapi_schema = spec
        return app.openapi_schema

    # Replacing `app.openapi` is how FastAPI documents customising the schema.
    app.openapi = openapi  # type: ignore[method-assign]
