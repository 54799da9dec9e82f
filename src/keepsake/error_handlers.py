"""The handlers that render every error as RFC 9457 problem+json in the request's language."""

from __future__ import annotations

from typing import Any

import psycopg
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from keepsake.errors import (
    AppError,
    FieldError,
    Invalid,
    Problem,
    Unavailable,
    problem_response,
)
from keepsake.eventlog import RepeatedEvent
from keepsake.i18n import Language, negotiate
from keepsake.i18n.catalog import _, translate
from keepsake.i18n.validation import field_message

log = structlog.get_logger("keepsake")
# `count` occurrences in the last `seconds` (None on the first line of an outage).
database_unavailable = RepeatedEvent(log, "database.unavailable")


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _language(request: Request) -> Language:
    return negotiate(request.headers.get("accept-language"))


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    language = _language(request)
    detail = exc.detail_in(language)
    errors = None
    if isinstance(exc, Invalid) and exc.field:
        errors = [FieldError(field=exc.field, message=detail)]
    problem = Problem(
        title=translate(language, exc.title),
        status=exc.status,
        detail=detail,
        code=exc.code,
        errors=errors,
        **exc.extensions,
    )
    return problem_response(problem, exc.headers)


MALFORMED_JSON = _("The request body is not valid JSON.")
SOME_FIELDS = _("Some fields are missing or invalid.")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    language = _language(request)
    errors = [
        FieldError(field=_field_name(tuple(err["loc"])), message=field_message(language, err))
        for err in exc.errors()
    ]
    malformed = any(err["type"] == "json_invalid" for err in exc.errors())
    # A shared type's rule (`keepsake.text`) names its own code; one alone is the answer's.
    rule_codes = {(err.get("ctx") or {}).get("code") for err in exc.errors()}
    rule_code = rule_codes.pop() if len(rule_codes) == 1 else None
    problem = Problem(
        title=translate(language, Invalid.title),
        status=422,
        detail=translate(language, MALFORMED_JSON)
        if malformed
        else errors[0].message
        if rule_code
        else translate(language, SOME_FIELDS),
        code="malformed_json" if malformed else str(rule_code or "validation_error"),
        errors=errors,
    )
    return problem_response(problem)


def _undecodable_body() -> RequestValidationError:
    return RequestValidationError(
        [{"type": "json_invalid", "loc": ("body",), "msg": "The body is not UTF-8 JSON."}]
    )


# Starlette's own refusals: their code, title and detail.
_HTTP_PROBLEMS = {
    404: ("not_found", _("Not found"), _("Nothing lives at this address.")),
    405: (
        "method_not_allowed",
        _("Method not allowed"),
        _("This address does not take this method."),
    ),
    413: ("payload_too_large", _("Payload too large"), _("The request body is too large.")),
    415: (
        "unsupported_media_type",
        _("Unsupported media type"),
        _("Send this body with a Content-Type this address takes."),
    ),
}


def http_problem(status: int, language: Language) -> Problem:
    """One of Starlette's own refusals (404, 405, 413, 415) in `language`."""
    code, title, detail = _HTTP_PROBLEMS[status]
    return Problem(
        title=translate(language, title),
        status=status,
        detail=translate(language, detail),
        code=code,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # FastAPI answers 400 for a JSON body it cannot even decode (not UTF-8: a
        # UnicodeDecodeError, a ValueError); to a client that is malformed JSON like any other.
        return await _validation_error(request, _undecodable_body())
    if exc.status_code in _HTTP_PROBLEMS:
        problem = http_problem(exc.status_code, _language(request))
    else:
        problem = Problem(
            title=str(exc.detail), status=exc.status_code, detail=str(exc.detail), code="http_error"
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
NO_DATABASE = _("The service cannot reach its database just now; try again shortly.")


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
    language = _language(request)
    problem = Problem(
        title=translate(language, Unavailable.title),
        status=Unavailable.status,
        detail=translate(language, NO_DATABASE),
        code=Unavailable.code,
    )
    return problem_response(problem, {"Retry-After": str(RETRY_DATABASE_AFTER_S)})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
