"""`GET /v1/search/people` reads plainly valid parameters itself (`PeopleRoute`): every
request must get exactly the answer FastAPI's own handler gives."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import Request

from keepsake.search import router
from tests.conftest import Member

# Parameter sets as a client may send them: valid, at each bound, and past it.
CASES: list[list[tuple[str, str]]] = [
    [("q", "mi")],
    [("q", "민")],
    [("q", "ㅁㅈ")],
    [("q", "m" * 50)],
    [("q", "m" * 51)],
    # 50 characters once composed (NFC), 100 as sent.
    [("q", unicodedata.normalize("NFD", "민" * 50))],
    [("q", unicodedata.normalize("NFD", "민" * 51))],
    [("q", "")],
    [("q", " ")],
    [("q", "a\nb")],
    [("q", "a\x00b")],
    [("q", "a\u2028b")],
    [],
    [("limit", "5")],
    [("q", "mi"), ("q", "min")],
    [("q", "mi"), ("extra", "1")],
    *[
        [("q", "mi"), ("limit", limit)]
        for limit in (
            "1",
            "2",
            "50",
            "51",
            "0",
            "-1",
            "+2",
            " 2",
            "2 ",
            "02",
            "2.0",
            "1e1",
            "x",
            "",
        )
    ],
    *[
        [("q", "mi"), ("cursor", cursor)]
        for cursor in ("", "c" * 200, "c" * 201, "not-a-cursor", "WzEsIm1pbmEiXQ")
    ],
]


# The codes of FastAPI's validation refusals (`keepsake.error_handlers`).
VALIDATION_CODES = {"validation_error", "invalid_text"}


@pytest.fixture
async def viewer(sign_up: Callable[..., Any]) -> Member:
    for handle, name in (("mina", "Mina"), ("minho", "민호"), ("minji", "김민지")):
        await sign_up(handle, display_name=name)
    member: Member = await sign_up("viewer")
    return member


def _answer(response: httpx.Response) -> tuple[int, str, Any]:
    return response.status_code, response.headers["content-type"], response.json()


async def _both(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    params: list[tuple[str, str]],
    headers: dict[str, str],
) -> tuple[tuple[int, str, Any], tuple[int, str, Any], bool]:
    """The answer with `PeopleRoute`'s own reading, the answer with FastAPI's, and
    whether the first read the parameters itself."""
    read: list[bool] = []
    query = httpx.QueryParams(tuple(params))

    def spied(request: Request) -> dict[str, Any] | None:
        arguments = plain_arguments(request)
        read.append(arguments is not None)
        return arguments

    plain_arguments = router.plain_arguments
    with monkeypatch.context() as patch:
        patch.setattr(router, "plain_arguments", spied)
        lean = await client.get("/v1/search/people", params=query, headers=headers)
    with monkeypatch.context() as patch:
        patch.setattr(router, "plain_arguments", lambda request: None)
        resolved = await client.get("/v1/search/people", params=query, headers=headers)
    return _answer(lean), _answer(resolved), read == [True]


@pytest.mark.parametrize("params", CASES, ids=lambda params: urlencode(params)[:40])
async def test_same_answer_as_fastapi(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    viewer: Member,
    params: list[tuple[str, str]],
) -> None:
    lean, resolved, read_itself = await _both(client, monkeypatch, params, viewer.headers)
    assert lean == resolved
    # What it reads itself FastAPI's validation accepts (a page or the service's refusal);
    # it may leave FastAPI more than it refuses (`+2`, ` 2`, `02` are counts to FastAPI).
    if read_itself:
        assert resolved[0] == 200 or resolved[2]["code"] not in VALIDATION_CODES


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}]
)
async def test_same_refusal_without_a_valid_token(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    lean, resolved, read_itself = await _both(client, monkeypatch, [("q", "mi")], headers)
    assert lean == resolved
    assert lean[0] == 401
    assert read_itself


async def test_pages_through_with_its_cursor(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, viewer: Member
) -> None:
    first, _, read_itself = await _both(
        client, monkeypatch, [("q", "m"), ("limit", "2")], viewer.headers
    )
    cursor = first[2]["next_cursor"]
    assert read_itself
    assert cursor
    params = [("q", "m"), ("limit", "2"), ("cursor", cursor)]
    lean, resolved, read_itself = await _both(client, monkeypatch, params, viewer.headers)
    assert lean == resolved
    assert read_itself
    shown = [item["handle"] for item in first[2]["items"] + lean[2]["items"]]
    assert shown == ["mina", "minho", "minji"]
