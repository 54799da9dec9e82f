"""Browser tests' fixtures: a real Chromium against a real server.

Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
browser tests skip with one line, except in CI (`CI=true`), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from keepsake.config import Settings
from keepsake.main import create_app
from tests.fixtures.keepsake_cli import wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE_WIDTH = 390
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Clips start from the page's own Play button; no autoplay policy needed, but
    # headless Chromium has no sound card to wait for either.
    "--mute-audio",
)
WAIT_S = 30.0


def require_chromium() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = "no Chromium: apt-get install chromium chromium-driver to run the browser tests"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture
def live_server(make_settings: Callable[..., Settings]) -> Iterator[LiveServer]:
    """The app under uvicorn on 127.0.0.1, its job worker inside, in a thread of its own."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(public_url=url, worker_in_process=True)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=WAIT_S, what="the server to start")
        yield LiveServer(url, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT_S)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    require_chromium()
    profile = tempfile.mkdtemp(prefix="keepsake-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.set_window_size(PHONE_WIDTH, 844)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    # An element found while the next page replaces the current one goes stale before it
    # is read: the condition is then simply not met yet.
    return WebDriverWait(
        driver, WAIT_S, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)
    )


def fits_phone(driver: webdriver.Chrome) -> bool:
    """No horizontal scrolling on a 390-pixel-wide screen."""
    width = driver.execute_script("return document.documentElement.scrollWidth")
    return isinstance(width, int) and width <= PHONE_WIDTH


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    """Saved only when asked (`KEEPSAKE_SCREENSHOTS=docs`), for the README's pictures."""
    folder = os.environ.get("KEEPSAKE_SCREENSHOTS")
    if folder:
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(Path(folder) / name))
