"""What every console page shares: rendering with a CSRF token, form fields, and
failures shown as pages.

A console action raises the same `AppError`s as the API; here they become a page
naming what went wrong, with the status the API would give, instead of problem+json.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError

from keepsake.errors import AppError
from keepsake.text import MultiLine
from keepsake.web.console import session
from keepsake.web.pages import render

Csrf = Annotated[str | None, Form()]
# The API's rule for a moderator's reason (`ReasonBody`): kept in the audit log.
Reason = Annotated[MultiLine, Form(min_length=1, max_length=1000)]


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    *,
    media: Iterable[str] = (),
) -> HTMLResponse:
    """The template with a fresh form token, signed over the browser's CSRF cookie;
    `media` are the signed URLs it plays."""
    settings = request.app.state.settings
    nonce = request.cookies.get(session.CSRF_COOKIE) or session.new_nonce()
    response = render(
        request,
        template,
        {**context, "csrf": session.csrf_token(settings, nonce)},
        status_code=status_code,
        media=media,
    )
    response.set_cookie(
        session.CSRF_COOKIE,
        nonce,
        path=session.PATH,
        httponly=True,
        samesite="strict",
        secure=settings.environment != "development",
    )
    return response


def back(path: str) -> RedirectResponse:
    """After a form: the browser loads `path` with a GET (303), so a reload posts nothing."""
    return RedirectResponse(path, status_code=303)


class ConsoleFailed(AppError):
    """An expected failure of a console route, to be shown as a page.

    Raised on, not returned: the request's database session sees it and rolls back (or
    commits, as the original error asks), exactly as for the API's problem+json.
    """

    def __init__(self, status: int, messages: list[str], *, commit: bool = False) -> None:
        super().__init__("; ".join(messages))
        self.status, self.messages, self.commit = status, messages, commit


async def failed_page(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, ConsoleFailed)
    return page(request, "console/failed.html", {"messages": exc.messages}, exc.status)


class ConsoleRoute(APIRoute):
    """A route whose expected failures render `console/failed.html`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ConsoleFailed:
                raise
            except AppError as error:
                raise ConsoleFailed(error.status, [error.detail], commit=error.commit) from error
            except (RequestValidationError, ValidationError) as error:
                # A form's fields, or the API's body model built from them in the route.
                fields = [
                    f"{e['loc'][-1]}: {e['msg']}" if e["loc"] else e["msg"] for e in error.errors()
                ]
                raise ConsoleFailed(422, fields) from error

        return handle
