"""The application's errors and their RFC 9457 problem+json rendering."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from keepsake.eventlog import RepeatedEvent

log = structlog.get_logger("keepsake")
# `count` occurrences in the last `seconds` (None on the first line of an outage).
database_unavailable = RepeatedEvent(log, "database.unavailable")

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
    """Base of every expected failure; services raise these, never HTTP exceptions."""

    status = 400
    code = "bad_request"
    title = "Bad request"
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
    ):
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.headers = headers or {}
        # Extra members of the problem (RFC 9457 §3.2), among `Problem`'s optional fields.
        self.extensions = extensions or {}


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    title = "Not signed in"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Invalid(AppError):
    """A well-formed request that breaks a rule; rendered like a validation error."""

    status = 422
    code = "validation_error"
    title = "Invalid input"

    def __init__(self, detail: str, *, code: str, field: str | None = None):
        super().__init__(detail, code=code)
        self.field = field


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, retry_after: int):
        super().__init__(
            f"Too many attempts; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


class Unavailable(AppError):
    status = 503
    code = "unavailable"
    title = "Temporarily unavailable"


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    errors = None
    if isinstance(exc, Invalid) and exc.field:
        errors = [FieldError(field=exc.field, message=exc.detail)]
    problem = Problem(
        title=exc.title,
        status=exc.status,
        detail=exc.detail,
        code=exc.code,
        errors=errors,
        **exc.extensions,
    )
    return problem_response(problem, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(field=_field_name(tuple(err["loc"])), message=err["msg"]) for err in exc.errors()
    ]
    malformed = any(err["type"] == "json_invalid" for err in exc.errors())
    # A shared type's rule (`keepsake.text`) names its own code; one alone is the answer's.
    rule_codes = {(err.get("ctx") or {}).get("code") for err in exc.errors()}
    rule_code = rule_codes.pop() if len(rule_codes) == 1 else None
    problem = Problem(
        title="Invalid input",
        status=422,
        detail="The request body is not valid JSON."
        if malformed
        else errors[0].message
        if rule_code
        else "Some fields are missing or invalid.",
        code="malformed_json" if malformed else str(rule_code or "validation_error"),
        errors=errors,
    )
    return problem_response(problem)


def _undecodable_body() -> RequestValidationError:
    return RequestValidationError(
        [{"type": "json_invalid", "loc": ("body",), "msg": "The body is not UTF-8 JSON."}]
    )


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # FastAPI answers 400 for a JSON body it cannot even decode (not UTF-8: a
        # UnicodeDecodeError, a ValueError); to a client that is malformed JSON like any other.
        return await _validation_error(request, _undecodable_body())
    problem = Problem(
        title=str(exc.detail) if exc.status_code != 404 else "Not found",
        status=exc.status_code,
        detail=str(exc.detail),
        code=_HTTP_CODES.get(exc.status_code, "http_error"),
    )
    return problem_response(problem, dict(exc.headers or {}))


# What these raise when the database cannot be reached, or no connection came in time;
# other errors of the same classes (deadlocks, timeouts of a statement, a full disk) are
# bugs or incidents and stay 500s, logged with their traceback.
DATABASE_ERRORS = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.TimeoutError,
    psycopg.OperationalError,
)
# SQLSTATE: the server is shutting down or restarting (class 08 is connection trouble).
_SHUTTING_DOWN = frozenset({"57P01", "57P02", "57P03"})
RETRY_DATABASE_AFTER_S = 5


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` means "no database just now", which a retry may get past."""
    if isinstance(error, sqlalchemy.exc.TimeoutError):
        return True
    driver_error = error.orig if isinstance(error, sqlalchemy.exc.DBAPIError) else error
    if not isinstance(driver_error, psycopg.OperationalError):
        return False
    # No SQLSTATE: the client's own failure to connect, or its pool's timeout.
    sqlstate = driver_error.sqlstate
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _SHUTTING_DOWN


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not database_unreachable(exc):
        raise exc
    database_unavailable.record(path=request.url.path, error=repr(exc))
    problem = Problem(
        title=Unavailable.title,
        status=Unavailable.status,
        detail="The service cannot reach its database just now; try again shortly.",
        code=Unavailable.code,
    )
    return problem_response(problem, {"Retry-After": str(RETRY_DATABASE_AFTER_S)})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


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
