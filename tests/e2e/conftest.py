"""Real-browser tests: Playwright drives Debian's Chromium against Django's live test server."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("AGGLO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail("Chromium is missing: run scripts/ensure-chromium (or set AGGLO_CHROMIUM).")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(scope="session", autouse=True)
def one_request_at_a_time():
    """Serve the browser's requests one at a time. On in-memory SQLite the live server's threads share the test's
    single database connection, so overlapping requests (a panel loading while a form posts) can break each
    other's transactions: a failure of the test setup, not of the platform, where every thread has its own
    connection. Started before the session's live server; SQLite only."""
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread

    if connection.vendor != "sqlite":  # PostgreSQL: a connection per thread, nothing shared
        yield
        return

    class Serialized(ThreadedWSGIServer):
        def set_app(self, application: Callable[..., Iterable[bytes]]) -> None:
            lock = threading.Lock()

            def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
                with lock:
                    return application(environ, start_response)

            super().set_app(app)

    original = LiveServerThread.server_class
    LiveServerThread.server_class = Serialized
    yield
    LiveServerThread.server_class = original
