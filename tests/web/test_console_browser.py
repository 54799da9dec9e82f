"""A moderator's view, in a real headless Chromium: sign in with the second factor,
watch a reported memory play, hide it; every console page fits a phone. A normal user,
and a form sent without its CSRF token, are refused."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.web.console import totp
from tests.conftest import PASSWORD, new_member
from tests.fixtures.console import SECRET, operator
from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import create_memory, upload, wait_processed
from tests.web.conftest import LiveServer, fits_phone, screenshot, wait
from tests.web.test_browser import _playing_past

pytestmark = pytest.mark.slow
PAGES = ("/admin", "/admin/reports", "/admin/appeals", "/admin/audit")


def _fill_sign_in(browser: webdriver.Chrome, email: str) -> None:
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    code = totp.code_at(SECRET, int(time.time()) // totp.STEP_S)
    browser.find_element(By.ID, "code").send_keys(code)
    browser.find_element(By.ID, "sign-in").click()


def _sign_in(browser: webdriver.Chrome, server: str, email: str) -> None:
    browser.get(f"{server}/admin/login")
    assert fits_phone(browser)
    _fill_sign_in(browser, email)
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "nav a[href='/admin/reports']"))


def _heading(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.TAG_NAME, "h1").text)


async def test_a_moderator_watches_a_reported_memory_and_hides_it(
    live_server: LiveServer, browser: webdriver.Chrome, engine: AsyncEngine, tmp_path: Path
) -> None:
    server = live_server.url
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        mina, theo, mod = [await new_member(http, h) for h in ("mina", "theo", "mod")]
        clip = write_video(tmp_path / "clip.mp4", size=(320, 568), seconds=3.0, audio="aac")
        memory = await create_memory(
            http,
            mina,
            [await upload(http, mina, clip, "video/mp4", http=http)],
            visibility="public",
            caption="A red door on our street",
        )
        assert (await wait_processed(http, mina, memory["id"]))["status"] == "ready"
        body = {"target": {"kind": "memory", "id": memory["id"]}, "reason": "harassment"}
        assert (await http.post("/v1/reports", json=body, headers=theo.headers)).status_code == 201
        await operator(engine, mod, "moderator")

        _sign_in(browser, server, mod.email)
        for path in PAGES:
            browser.get(server + path)
            assert fits_phone(browser), path
        browser.get(f"{server}/admin/reports")
        browser.find_element(By.CSS_SELECTOR, "#queue a").click()
        wait(browser).until(lambda d: _playing_past(d, 0.3))
        assert fits_phone(browser)
        assert "harassment" in browser.find_element(By.ID, "reports").text
        screenshot(browser, "console-target.png")

        hide = browser.find_element(By.ID, "hide")
        hide.find_element(By.NAME, "reason").send_keys("Shows the neighbours' house number.")
        hide.find_element(By.CSS_SELECTOR, "button").click()
        wait(browser).until(lambda d: d.find_elements(By.ID, "hidden"))

        gone = await http.get(f"/v1/memories/{memory['id']}", headers=theo.headers)
        assert gone.status_code == 404
        assert (await http.get(f"/m/{memory['id']}")).status_code == 404
        log = await http.get("/v1/admin/audit-log", headers=mod.headers)
        [entry] = log.json()["items"]
        assert (entry["action"], entry["reason"]) == ("hide", "Shows the neighbours' house number.")


async def test_a_normal_user_and_a_form_without_its_token_are_refused(
    live_server: LiveServer, browser: webdriver.Chrome, engine: AsyncEngine
) -> None:
    server = live_server.url
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        mina, mod = [await new_member(http, h) for h in ("mina", "mod")]
    # Both with the second factor, so only the role tells them apart.
    await operator(engine, mina, "user")
    await operator(engine, mod, "moderator")

    browser.get(f"{server}/admin/login")
    _fill_sign_in(browser, mina.email)
    wait(browser).until(lambda d: d.find_elements(By.ID, "error"))
    assert "cannot use the console" in browser.find_element(By.ID, "error").text
    browser.get(f"{server}/admin/reports")
    wait(browser).until(lambda d: d.current_url == f"{server}/admin/login")

    # A moderator's sign-in whose form lost its CSRF token on the way.
    browser.get(f"{server}/admin/login")
    browser.execute_script("document.querySelector('input[name=csrf]').remove()")
    _fill_sign_in(browser, mod.email)
    wait(browser).until(lambda d: _heading(d) == "Not allowed")
    browser.get(f"{server}/admin/reports")
    wait(browser).until(lambda d: d.current_url == f"{server}/admin/login")
