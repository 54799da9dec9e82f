"""Checks every web page must pass: strict HTML5 parsing, and no address off this server."""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

import html5lib

URL_ATTRIBUTES = ("src", "href", "poster", "action", "content", "data-video", "data-poster")


def parse_strict(page: str) -> Element:
    """The document, or html5lib's ParseError at the first fault the HTML5 spec names."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    document: Element = parser.parse(page)
    return document


def urls(document: Element) -> Iterator[str]:
    for element in document.iter():
        for name in URL_ATTRIBUTES:
            value = element.get(name)
            if value and "://" in value:
                yield value


def foreign_urls(page: str, server: str) -> list[str]:
    """Absolute addresses in the page that are neither this server's nor the app's scheme."""
    return [
        url
        for url in urls(parse_strict(page))
        if not (url.startswith(server + "/") or url.startswith("keepsake://"))
    ]


def meta(document: Element, key: str) -> str | None:
    for element in document.iter("meta"):
        if key in (element.get("property"), element.get("name")):
            return element.get("content")
    return None
