"""Harness of the end-to-end tests: simulators, a real Home Assistant process, Chromium.

One simulator process, one Home Assistant and one browser serve all tests of this package (HA
boots in seconds, but only once; package scope, so all of it is gone before the unit tests in
later folders run); every test gets a fresh browser context and page, and a screenshot of its
final page in `artifacts/e2e/<test name>.png` (also when it fails).

These are not Home Assistant unit tests: nothing here uses phacc's `hass` fixture. They use
Playwright's sync API in plain (sync) tests. While the sync API is started, its event loop
counts as the thread's running loop, also between calls (its dispatcher runs in a greenlet):
phacc's autouse asyncio fixtures would then fail, so they are replaced below for this package.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_socket
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from .harness import (
    ARTIFACTS,
    HomeAssistant,
    Simulators,
    start_home_assistant,
    start_simulators,
)

# Debian's package (scripts/install-browser); another Chromium/Chrome binary through the env.
CHROMIUM = Path(os.environ.get("KSEM_ZAPTEC_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ACTION_TIMEOUT_MS = 15_000  # one click/fill; the tests' own waits are bounded too
# An expectation on the page: covers a pairing check (every 3 s), a KSEM state write (every
# 5 s) and reading a Zaptec account after a reload.
expect.set_options(timeout=20_000)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override tests/conftest.py's autouse fixture: it needs phacc's in-process `hass`.

    The Home Assistant under test is a separate process that loads the integration from the
    checkout through PYTHONPATH (like scripts/develop).
    """


@pytest.fixture(autouse=True)
def configure_event_loop() -> None:
    """Replaces phacc's async fixture: these tests run no asyncio loop of their own."""


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Replaces phacc's async fixture (see `configure_event_loop`)."""


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """Replaces phacc's check for lingering tasks/timers/threads of an in-process `hass`.

    There is none here (HA runs in its own process), and the check needs to run the asyncio
    loop, which Playwright's sync API holds (see the module docstring).
    """


def _allow_loopback() -> None:
    """Let this process open TCP sockets again; connecting stays limited to 127.0.0.1.

    phacc's `pytest_runtest_setup` calls pytest-socket's `socket_allow_hosts(["127.0.0.1"])`
    (a guard on connect) and then `disable_socket()` (no socket may even be created). It runs
    after pytest-socket's own hook, so the `enable_socket` marker is undone again; what works
    is pytest-socket's `enable_socket()` (the body of its `socket_enabled` fixture), called once
    the hooks ran: session fixtures call it here, tests get `socket_enabled` (autouse below).
    The connect guard stays, so nothing here can reach beyond loopback.
    """
    pytest_socket.enable_socket()


@pytest.fixture(autouse=True)
def _loopback_for_tests(socket_enabled: None) -> None:
    """The tests talk to HA and the simulators over loopback (see `_allow_loopback`)."""


# ---- processes -----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def e2e_dir() -> Iterator[Path]:
    """Artifacts folder (screenshots, process logs) and a temporary work folder."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    work = Path(tempfile.mkdtemp(prefix="ksem-zaptec-e2e-"))
    yield work
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="package")
def sims(e2e_dir: Path) -> Iterator[Simulators]:
    """The simulated KSEM and Zaptec cloud (`python -m simulator`) on free loopback ports."""
    _allow_loopback()
    running = start_simulators(ARTIFACTS / "simulator.log")
    yield running
    running.process.stop()


@pytest.fixture(scope="package")
def ha(e2e_dir: Path, sims: Simulators) -> Iterator[HomeAssistant]:
    """A real, onboarded Home Assistant with the scripts/develop configuration."""
    _allow_loopback()
    running = start_home_assistant(
        e2e_dir / "config", ARTIFACTS / "home-assistant.log", sims.zaptec_url
    )
    yield running
    running.stop()


# ---- browser -------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver (sync API)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium from Debian: Playwright cannot download its own build here."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser")
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


def _hass_tokens(ha: HomeAssistant) -> dict[str, Any]:
    """What the frontend keeps in localStorage["hassTokens"] after logging in."""
    return {
        "hassUrl": ha.url,
        "clientId": ha.client_id,
        "access_token": ha.access_token,
        "refresh_token": ha.refresh_token,
        "token_type": "Bearer",
        "expires_in": ha.token_expires_in,
        "expires": int(time.time() * 1000) + ha.token_expires_in * 1000,
    }


@pytest.fixture
def context(browser: Browser, ha: HomeAssistant) -> Iterator[BrowserContext]:
    """A fresh browser profile, logged in to Home Assistant as the onboarded admin.

    The tokens come from HA's own onboarding API (the wizard's calls) and are put where the
    frontend stores them after a login, so every test starts on a logged-in page without
    going through the login form again.
    """
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    ctx.set_default_timeout(ACTION_TIMEOUT_MS)
    tokens = json.dumps(json.dumps(_hass_tokens(ha)))
    ctx.add_init_script(
        f"if (location.origin === {json.dumps(ha.url)})"
        f" localStorage.setItem('hassTokens', {tokens});"
    )
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The test's main tab; its final state is saved as `artifacts/e2e/<test name>.png`.

    Taken in teardown, so a failing test leaves its screenshot too.
    """
    tab = context.new_page()
    yield tab
    if not tab.is_closed():
        tab.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
