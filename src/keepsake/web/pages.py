"""Rendering a page: the templates, their words, and the headers every page carries.

Share pages' and email-link pages' text comes from the gettext catalogs (`_("...")` in
templates, extracted by `babel.cfg`) in the viewer's language (`render_localized`); the
console's text goes through `words` (the `t` filter), in English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from keepsake.i18n import DEFAULT, Language, negotiate
from keepsake.i18n.catalog import translate

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship with the code: no file check on every page.
    auto_reload=False,
)


def words(text: str, **values: object) -> str:
    """The page text `text` in the viewer's language, with `{name}` filled from `values`."""
    return text.format(**values) if values else text


_env.filters["t"] = words


@pass_context
def _translated(context: Context, message: str, **values: object) -> str:
    """`_("...")` in a template: the message from the catalog of the page's `lang`."""
    language: Language = context["lang"]
    return translate(language, message, **values)


_env.globals["_"] = _translated

# Pages are rendered here, so they need nothing but this origin; media may also come
# from storage's origin (S3 or CloudFront), named per page by `origins`.
_CSP = (
    "default-src 'self'; img-src 'self'{media}; media-src 'self'{media}; "
    "object-src 'none'; base-uri 'none'; form-action 'self'{frames}"
)
# Only a share page may sit in another site's frame (oEmbed players); it has no forms.
_NO_FRAMES = "; frame-ancestors 'none'"


def origins(urls: Iterable[str]) -> list[str]:
    """The distinct `scheme://host[:port]` of `urls`, in first-seen order."""
    seen: dict[str, None] = {}
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            seen.setdefault(f"{parts.scheme}://{parts.netloc}", None)
    return list(seen)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    media: Iterable[str] = (),
    cache: str = "no-store",
    index: bool = False,
    referrer: str = "same-origin",
    frame: bool = False,
    headers: Mapping[str, str] | None = None,
    lang: Language = DEFAULT,
) -> HTMLResponse:
    """The template as a page with the security headers; `media` are the URLs it embeds."""
    body = _env.get_template(template).render(
        {"lang": lang, "request": request, "noindex": not index, **context}
    )
    extra = "".join(f" {origin}" for origin in origins(media))
    response = HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
    response.headers["Content-Security-Policy"] = _CSP.format(
        media=extra, frames="" if frame else _NO_FRAMES
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = referrer
    response.headers["Cache-Control"] = cache
    if not index:
        response.headers["X-Robots-Tag"] = "noindex"
    return response


def viewer_language(request: Request) -> Language:
    return negotiate(request.headers.get("accept-language"))


def render_localized(
    request: Request, template: str, context: Mapping[str, Any], **options: Any
) -> HTMLResponse:
    """`render` in the viewer's language (`Accept-Language`, else English); shared caches
    keep one copy per language."""
    response = render(request, template, context, lang=viewer_language(request), **options)
    response.headers["Vary"] = "Accept-Language"
    return response
