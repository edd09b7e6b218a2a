"""Browser tests: the real app served over HTTP from a thread, driven by headless Chromium.

Chromium is Debian's package (``/usr/bin/chromium``), driven by Playwright for Python. Where it
is missing the tests skip with a message, unless USSD_GATEWAY_REQUIRE_BROWSER=1 (CI), where
they fail. SMS go through the real worker code to the fake Africa's Talking server.
"""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import REPO, make_test_settings
from tests.fake_africastalking import FakeAfricasTalking
from tests.workers.helpers import AT_API_KEY, AT_USERNAME, at_overrides
from ussd_gateway.settings import Settings

CHROMIUM = os.environ.get("USSD_GATEWAY_CHROMIUM", "/usr/bin/chromium")
REQUIRE_ENV = "USSD_GATEWAY_REQUIRE_BROWSER"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--lang=fr-FR",  # French date fields, as on the commune's PCs
]
SCREENSHOTS = REPO / "docs" / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the browser tests cannot run: {reason}")
    pytest.skip(f"browser tests skipped: {reason} (apt-get install chromium)")


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:  # noqa: BLE001 - report any launch problem the same way
        manager.stop()
        _unavailable(f"Chromium did not start: {exc}")
    try:
        yield browser
    finally:
        browser.close()
        manager.stop()


@pytest.fixture
def fake_at() -> Iterator[FakeAfricasTalking]:
    with FakeAfricasTalking(username=AT_USERNAME, api_key=AT_API_KEY) as fake:
        yield fake


@pytest.fixture
def settings(  # overrides tests/conftest.py: SMS through the fake Africa's Talking server
    migrated_database: str, redis_url: str, tmp_path: Path, fake_at: FakeAfricasTalking
) -> Settings:
    return make_test_settings(migrated_database, redis_url, tmp_path, **at_overrides(fake_at))


@dataclass
class LiveServer:
    url: str


@pytest.fixture
def live_server(app: Any) -> Iterator[LiveServer]:
    """The real WSGI app on 127.0.0.1 (a free port), served from a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="staff-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def browser_context(chromium_browser: Any) -> Iterator[Any]:
    """A fresh browser profile (cookies) at office-PC size; more via ``new_context``."""
    contexts: list[Any] = []

    def new_context(**options: Any) -> Any:
        ctx = chromium_browser.new_context(
            viewport=options.pop("viewport", DESKTOP), locale="fr-FR", **options
        )
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx

    yield new_context
    for ctx in contexts:
        ctx.close()
