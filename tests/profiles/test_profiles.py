"""Your own profile and settings, the one-line note, other people's profiles, deletion."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.config import Settings
from keepsake.main import create_app
from tests.conftest import PASSWORD, Member, running

SignUp = Callable[..., Any]
Json = dict[str, Any]

USER_PUBLIC_KEYS = {
    "id",
    "handle",
    "display_name",
    "bio",
    "note",
    "avatar",
    "is_private",
    "relationship",
    "follows_you",
    "muted",
}


def assert_problem(response: httpx.Response, status: int, code: str) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: Json = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


async def patch_me(client: httpx.AsyncClient, member: Member, **fields: Any) -> httpx.Response:
    # Escaped JSON, so a test can send what a client could: even a lone surrogate.
    headers = {**member.headers, "content-type": "application/json"}
    return await client.patch("/v1/me", content=json.dumps(fields), headers=headers)


async def test_me_shows_settings_defaults_and_counts(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    response = await client.get("/v1/me", headers=mina.headers)
    assert response.status_code == 200
    me = response.json()
    assert me["handle"] == "mina"
    assert me["note"] == ""
    assert me["bio"] == ""
    assert me["avatar"] is None
    assert me["is_private"] is False
    assert me["timezone"] == "UTC"
    assert me["quiet_hours"] is None
    assert me["notification_prefs"] == {
        "follow": True,
        "follow_request": True,
        "follow_approved": True,
        "claps": True,
        "memory_ready": True,
        "memory_failed": True,
    }
    assert me["counts"] == {"followers": 0, "following": 0, "follow_requests": 0}


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "not_authenticated"), ({"Authorization": "Bearer nonsense"}, "invalid_access_token")],
)
async def test_me_needs_a_valid_token(
    client: httpx.AsyncClient, headers: dict[str, str], code: str
) -> None:
    assert_problem(await client.get("/v1/me", headers=headers), 401, code)
    assert_problem(await client.patch("/v1/me", json={}, headers=headers), 401, code)
    assert_problem(await client.get("/v1/me/notes", headers=headers), 401, code)
    assert_problem(await client.get("/v1/users/mina", headers=headers), 401, code)
    assert_problem(await client.request("DELETE", "/v1/me", json={}, headers=headers), 401, code)


async def test_patch_me_changes_every_setting(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    response = await patch_me(
        client,
        mina,
        display_name="  Mina Lee ",
        bio="Slow mornings.\r\nLong walks.",
        note="  walking by the sea  ",
        is_private=True,
        timezone="europe/berlin",
        quiet_hours={"start": "22:30", "end": "07:00"},
        notification_prefs={"claps": False},
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["display_name"] == "Mina Lee"
    assert me["bio"] == "Slow mornings.\nLong walks."
    assert me["note"] == "walking by the sea"
    assert me["is_private"] is True
    assert me["timezone"] == "Europe/Berlin"
    assert me["quiet_hours"] == {"start": "22:30", "end": "07:00"}
    assert me["notification_prefs"]["claps"] is False
    assert me["notification_prefs"]["follow"] is True
    assert (await client.get("/v1/me", headers=mina.headers)).json() == me

    # Absent fields stay; prefs merge; `quiet_hours: null` turns them off.
    again = await patch_me(client, mina, quiet_hours=None, notification_prefs={"follow": False})
    assert again.status_code == 200
    body = again.json()
    assert body["quiet_hours"] is None
    assert body["notification_prefs"]["claps"] is False
    assert body["notification_prefs"]["follow"] is False
    assert body["note"] == "walking by the sea"
    assert body["timezone"] == "Europe/Berlin"


async def test_empty_patch_changes_nothing(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    before = (await client.get("/v1/me", headers=mina.headers)).json()
    response = await patch_me(client, mina)
    assert response.status_code == 200
    assert response.json() == before


async def test_note_of_80_characters_is_kept(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    for note in ("x" * 80, "🌊" * 80, "é" * 80):
        response = await patch_me(client, mina, note=note)
        assert response.status_code == 200, response.text
        assert response.json()["note"] == note


async def test_note_in_decomposed_form_is_counted_after_normalising(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    decomposed = "e\u0301" * 80  # 160 code points that NFC turns into 80 "é"
    response = await patch_me(client, mina, note=decomposed)
    assert response.status_code == 200
    assert response.json()["note"] == "é" * 80


@pytest.mark.parametrize(
    "note",
    [
        "x" * 81,
        "🌊" * 81,
        "x" * 5000,
        "first line\nsecond line",
        "first line\rsecond line",
        "first line\r\nsecond line",
        "line\u2028separator",
        "paragraph\u2029separator",
        "next\x85line",
        "vertical\x0btab",
        "form\x0cfeed",
        "nul\x00byte",
        "tab\tinside",
        "lone \ud800 surrogate",
    ],
)
async def test_bad_notes_are_refused(client: httpx.AsyncClient, sign_up: SignUp, note: str) -> None:
    mina = await sign_up("mina")
    body = assert_problem(await patch_me(client, mina, note=note), 422, "invalid_note")
    assert body["errors"] == [{"field": "note", "message": body["detail"]}]
    me = (await client.get("/v1/me", headers=mina.headers)).json()
    assert me["note"] == ""
    assert (await client.get("/v1/me/notes", headers=mina.headers)).json()["items"] == []


async def test_a_bad_field_leaves_every_other_field_unchanged(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    response = await patch_me(client, mina, display_name="Changed", note="x" * 81)
    assert_problem(response, 422, "invalid_note")
    assert (await client.get("/v1/me", headers=mina.headers)).json()["display_name"] == "Mina"


async def test_note_history_lists_each_change_newest_first(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    theo = await sign_up("theo")
    for note in ("one", "two", "two", "three", "", "four"):
        assert (await patch_me(client, mina, note=note)).status_code == 200
    await patch_me(client, theo, note="theo's own")

    seen: list[str] = []
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/me/notes", params=params, headers=mina.headers)).json()
        assert len(page["items"]) <= 2
        seen += [item["note"] for item in page["items"]]
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # An unchanged note is no change; clearing the note is one.
    assert seen == ["four", "", "three", "two", "one"]
    assert len(set(ids)) == len(ids)
    theirs = (await client.get("/v1/me/notes", headers=theo.headers)).json()["items"]
    assert [item["note"] for item in theirs] == ["theo's own"]


async def test_nobody_else_can_read_a_note_history(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    theo = await sign_up("theo")
    await patch_me(client, mina, note="private thoughts")
    await patch_me(client, mina, note="now")
    assert (await client.get("/v1/users/mina/notes", headers=theo.headers)).status_code == 404
    profile = (await client.get("/v1/users/mina", headers=theo.headers)).json()
    assert profile["note"] == "now"
    assert "private thoughts" not in str(profile)


@pytest.mark.parametrize(
    "timezone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "UTC+5", "x" * 300]
)
async def test_invalid_timezone_is_refused(
    client: httpx.AsyncClient, sign_up: SignUp, timezone: str
) -> None:
    mina = await sign_up("mina")
    body = assert_problem(await patch_me(client, mina, timezone=timezone), 422, "invalid_timezone")
    assert body["errors"][0]["field"] == "timezone"


@pytest.mark.parametrize(
    ("quiet_hours", "field"),
    [
        ({"start": "24:00", "end": "07:00"}, "quiet_hours.start"),
        ({"start": "22:00", "end": "7:00"}, "quiet_hours.end"),
        ({"start": "22:00:00", "end": "07:00"}, "quiet_hours.start"),
        ({"start": "22:60", "end": "07:00"}, "quiet_hours.start"),
        ({"start": "ab:cd", "end": "07:00"}, "quiet_hours.start"),
        ({"start": "22:00", "end": "22:00"}, "quiet_hours"),
    ],
)
async def test_bad_quiet_hours_are_refused(
    client: httpx.AsyncClient, sign_up: SignUp, quiet_hours: Json, field: str
) -> None:
    mina = await sign_up("mina")
    response = await patch_me(client, mina, quiet_hours=quiet_hours)
    body = assert_problem(response, 422, "invalid_quiet_hours")
    assert body["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"display_name": ""}, "invalid_display_name", "display_name"),
        ({"display_name": "   "}, "invalid_display_name", "display_name"),
        ({"display_name": "x" * 61}, "invalid_display_name", "display_name"),
        ({"display_name": "two\nlines"}, "invalid_display_name", "display_name"),
        ({"bio": "x" * 301}, "invalid_bio", "bio"),
        ({"bio": "bell\x07"}, "invalid_bio", "bio"),
    ],
)
async def test_bad_profile_text_is_refused(
    client: httpx.AsyncClient, sign_up: SignUp, fields: Json, code: str, field: str
) -> None:
    mina = await sign_up("mina")
    body = assert_problem(await patch_me(client, mina, **fields), 422, code)
    assert body["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"display_name": 5}, "display_name"),
        ({"display_name": None}, "display_name"),
        ({"note": None}, "note"),
        ({"note": ["a list"]}, "note"),
        ({"is_private": "yes"}, "is_private"),
        ({"is_private": 1}, "is_private"),
        ({"timezone": 3}, "timezone"),
        ({"quiet_hours": {"start": 22, "end": 7}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00"}}, "quiet_hours.end"),
        ({"quiet_hours": "22:00-07:00"}, "quiet_hours"),
        ({"notification_prefs": {"claps": "no"}}, "notification_prefs.claps"),
        ({"notification_prefs": {"newsletter": True}}, "notification_prefs.newsletter"),
        ({"notification_prefs": None}, "notification_prefs"),
        ({"avatar_upload_id": "not-an-upload-id"}, "avatar_upload_id"),
        ({"avatar_upload_id": 5}, "avatar_upload_id"),
        ({"counts": {"followers": 1000}}, "counts"),
    ],
)
async def test_wrong_types_are_validation_errors(
    client: httpx.AsyncClient, sign_up: SignUp, fields: Json, field: str
) -> None:
    mina = await sign_up("mina")
    body = assert_problem(await patch_me(client, mina, **fields), 422, "validation_error")
    assert field in [error["field"] for error in body["errors"]], body


async def test_malformed_and_non_object_bodies(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    headers = {**mina.headers, "content-type": "application/json"}
    response = await client.patch("/v1/me", content=b'{"note": "unterminated', headers=headers)
    assert_problem(response, 422, "malformed_json")
    assert_problem(
        await client.patch("/v1/me", json=["note"], headers=mina.headers), 422, "validation_error"
    )


async def test_profile_of_someone_else(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("Mina.Lee")
    theo = await sign_up("theo")
    await patch_me(client, mina, bio="Long walks.", note="by the sea")
    for handle in ("Mina.Lee", "mina.lee", "MINA.LEE"):
        response = await client.get(f"/v1/users/{handle}", headers=theo.headers)
        assert response.status_code == 200, response.text
        profile = response.json()
        assert set(profile) == USER_PUBLIC_KEYS
        assert profile == {
            "id": mina.id,
            "handle": "Mina.Lee",
            "display_name": "Mina.Lee",
            "bio": "Long walks.",
            "note": "by the sea",
            "avatar": None,
            "is_private": False,
            "relationship": "none",
            "follows_you": False,
            "muted": False,
        }


async def test_own_profile_through_users_is_self_without_counts(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    profile = (await client.get("/v1/users/MINA", headers=mina.headers)).json()
    assert set(profile) == USER_PUBLIC_KEYS
    assert profile["relationship"] == "self"


@pytest.mark.parametrize("handle", ["nobody", "api", "admin", "mina_"])
async def test_unknown_handle_is_a_404_problem(
    client: httpx.AsyncClient, sign_up: SignUp, handle: str
) -> None:
    theo = await sign_up("theo")
    await sign_up("mina")
    body = assert_problem(
        await client.get(f"/v1/users/{handle}", headers=theo.headers), 404, "user_not_found"
    )
    assert body["detail"] == "No such user."


@pytest.mark.parametrize(
    "handle",
    ["ab", "x" * 31, "bad-handle", "with%20space", "m%C3%ADna", "semi%3Bcolon", "mina%0A"],
)
async def test_malformed_handle_in_path_is_a_validation_error(
    client: httpx.AsyncClient, sign_up: SignUp, handle: str
) -> None:
    theo = await sign_up("theo")
    body = assert_problem(
        await client.get(f"/v1/users/{handle}", headers=theo.headers), 422, "validation_error"
    )
    assert body["errors"][0]["field"] == "handle"


async def test_delete_me_checks_the_password(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    wrong = await client.request(
        "DELETE", "/v1/me", json={"password": "not the password"}, headers=mina.headers
    )
    assert_problem(wrong, 403, "invalid_password")
    missing = await client.request("DELETE", "/v1/me", json={}, headers=mina.headers)
    body = assert_problem(missing, 422, "password_required")
    assert body["errors"][0]["field"] == "password"
    assert (await client.get("/v1/me", headers=mina.headers)).status_code == 200


async def test_delete_me_without_a_password_for_provider_accounts(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    # As for an account made with Sign in with Apple or Google.
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE users SET password_hash = NULL WHERE handle = 'mina'"))
    response = await client.request("DELETE", "/v1/me", json={}, headers=mina.headers)
    assert response.status_code == 202, response.text
    assert_problem(await client.get("/v1/me", headers=mina.headers), 401, "session_revoked")


async def test_delete_me_limits_password_guesses(
    make_settings: Callable[..., Settings], sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    limited = create_app(make_settings(rate_limit_password_per_account=2))
    async with running(limited) as client:
        for _ in range(2):
            response = await client.request(
                "DELETE", "/v1/me", json={"password": "a wrong guess"}, headers=mina.headers
            )
            assert_problem(response, 403, "invalid_password")
        response = await client.request(
            "DELETE", "/v1/me", json={"password": PASSWORD}, headers=mina.headers
        )
        assert_problem(response, 429, "rate_limited")
        assert int(response.headers["retry-after"]) > 0
        assert (await client.get("/v1/me", headers=mina.headers)).status_code == 200


async def test_delete_me_schedules_deletion_and_signs_out(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    theo = await sign_up("theo")
    await client.post("/v1/users/mina/follow", headers=theo.headers)
    response = await client.request(
        "DELETE", "/v1/me", json={"password": PASSWORD}, headers=mina.headers
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "deleting"
    assert response.json()["deletion_requested_at"]
    assert_problem(await client.get("/v1/me", headers=mina.headers), 401, "session_revoked")
    refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": mina.refresh_token})
    assert refreshed.status_code == 401
    # Gone from every view at once.
    assert_problem(await client.get("/v1/users/mina", headers=theo.headers), 404, "user_not_found")
    following = (await client.get("/v1/users/theo/following", headers=theo.headers)).json()
    assert following["items"] == []
    assert (await client.get("/v1/me", headers=theo.headers)).json()["counts"]["following"] == 0

    # Signing in during the grace period cancels the deletion.
    login = await client.post("/v1/auth/login", json={"email": mina.email, "password": PASSWORD})
    assert login.status_code == 200
    assert (await client.get("/v1/users/mina", headers=theo.headers)).status_code == 200
