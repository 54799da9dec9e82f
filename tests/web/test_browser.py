"""A person's view, in a real headless Chromium: share pages play, email links work."""

from __future__ import annotations

import email
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.conftest import new_member
from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import create_memory, upload, wait_processed
from tests.fixtures.polling import eventually
from tests.web.conftest import LiveServer, fits_phone, screenshot, wait

pytestmark = pytest.mark.slow
NEW_PASSWORD = "a brighter morning by the river"


def _emailed_link(outbox: Path, to: str, path: str) -> str:
    """The newest link to `path` in the emails written to `to`, as the person would click it."""
    for eml in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True):
        message = email.message_from_bytes(eml.read_bytes())
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        for line in body.decode().splitlines():
            if message["To"] == to and f"/{path}?token=" in line:
                return line.strip()
    raise AssertionError(f"no email to {to} with a {path} link")


def _maybe_link(outbox: Path, to: str, path: str) -> str | None:
    try:
        return _emailed_link(outbox, to, path)
    except AssertionError:
        return None


def _playing_past(driver: webdriver.Chrome, seconds: float) -> bool:
    now = driver.execute_script("return document.getElementById('player').currentTime")
    return isinstance(now, int | float) and now > seconds


async def test_a_share_page_plays_its_clips_in_order(
    live_server: LiveServer, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        mina = await new_member(http, "mina")
        clips = [
            write_video(tmp_path / f"clip{n}.mp4", size=(320, 568), seconds=1.5, audio="aac")
            for n in range(2)
        ]
        uploads = [await upload(http, mina, c, "video/mp4", http=http) for c in clips]
        memory = await create_memory(
            http, mina, uploads, visibility="public", caption="Morning <b>sea</b>"
        )
        shown = await wait_processed(http, mina, memory["id"])
        assert shown["status"] == "ready", shown

    browser.get(f"{live_server.url}/m/{memory['id']}")

    title = browser.find_element(By.CSS_SELECTOR, 'meta[property="og:title"]')
    assert title.get_attribute("content") == "Mina on Keepsake"
    card = browser.find_element(By.CSS_SELECTOR, 'meta[name="twitter:card"]')
    assert card.get_attribute("content") == "player"
    assert browser.find_element(By.CSS_SELECTOR, ".caption").text == "Morning <b>sea</b>"
    assert fits_phone(browser)
    browser.find_element(By.ID, "play").click()
    wait(browser).until(lambda d: _playing_past(d, 0.3))
    screenshot(browser, "share-page.png")
    # Everything the browser fetched came from this server.
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert fetched
    assert all(url.startswith(live_server.url + "/") for url in fetched), fetched
    # The first clip ends and the second one plays on.
    second = f"memories/{memory['id']}/{shown['clips'][1]['id']}.mp4"
    wait(browser).until(
        lambda d: second in str(d.execute_script("return document.getElementById('player').src"))
    )
    wait(browser).until(lambda d: _playing_past(d, 0.3))

    # The author's public profile, with the memory in its grid, fits the phone too.
    browser.get(f"{live_server.url}/u/mina")
    assert browser.find_elements(By.CSS_SELECTOR, f".grid a[href='/m/{memory['id']}']")
    assert fits_phone(browser)


async def test_a_person_confirms_their_email_and_resets_their_password(
    live_server: LiveServer, browser: webdriver.Chrome
) -> None:
    outbox = live_server.settings.outbox_dir
    handle = f"reader{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        reader = await new_member(http, handle)
        verify = _emailed_link(outbox, reader.email, "verify-email")
        # A mail scanner fetches the link first: the token must survive it.
        assert (await http.get(verify)).status_code == 200

        browser.get(verify)
        assert fits_phone(browser)
        browser.find_element(By.ID, "confirm").click()
        wait(browser).until(lambda d: d.find_elements(By.ID, "done"))
        me = (await http.get("/v1/me", headers=reader.headers)).json()
        assert me["email_verified"] is True

        forgot = await http.post("/v1/auth/password/forgot", json={"email": reader.email})
        assert forgot.status_code == 202
        # A job sends the reset email: poll for it.
        reset = await eventually(
            lambda: _maybe_link(outbox, reader.email, "reset-password"), what="the reset email"
        )
        assert (await http.get(reset)).status_code == 200
        browser.get(reset)
        assert fits_phone(browser)
        browser.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
        browser.find_element(By.ID, "new_password_again").send_keys(NEW_PASSWORD)
        browser.find_element(By.ID, "save").click()
        wait(browser).until(lambda d: d.find_elements(By.ID, "done"))
        assert "signed out" in browser.find_element(By.TAG_NAME, "main").text

        login = {"email": reader.email, "password": NEW_PASSWORD}
        signed_in: dict[str, Any] = (await http.post("/v1/auth/login", json=login)).json()
        assert signed_in["user"]["handle"] == handle
        browser.get(reset)
        browser.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
        browser.find_element(By.ID, "new_password_again").send_keys(NEW_PASSWORD)
        browser.find_element(By.ID, "save").click()
        wait(browser).until(lambda d: d.find_elements(By.ID, "used"))
