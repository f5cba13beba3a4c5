"""A real browser on the real app: Debian's Chromium, driven by Playwright, on a live server.

``live_server`` serves the test's database (see ``tests/conftest.py``) with uvicorn in a
thread on a free loopback port; ``demo_server`` serves a copy of a database holding the
demo workspace (Caffè Aurora), made once per pytest worker. ``page`` and ``demo_page``
are fresh browser contexts on them (``demo_page`` is already signed in); ``open_page``
opens more, in another language or on another server. Playwright never downloads a
browser here: it launches the system Chromium (``apt-get install chromium``). Without
one, browser tests are skipped on a developer's machine and fail in CI.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    StorageState,
    ViewportSize,
    expect,
    sync_playwright,
)
from sqlalchemy import create_engine, make_url, text

from dialoga.accounts.actions import do_add_member, do_create_user
from dialoga.accounts.models import User, Workspace
from dialoga.core.db import transaction
from dialoga.core.settings import Settings
from dialoga.demo.load import DEMO_EMAIL, DEMO_PASSWORD, load_demo
from dialoga.runtime import Runtime
from dialoga.web.app import create_app

POSTGRES_URL = os.environ.get("DIALOGA_TEST_DATABASE_URL", "")
DEMO_SLUG = "caffe-aurora"
MEMBER_EMAIL = "giulia@example.it"
PASSWORD = "una-password-lunga"
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000  # generous: a busy 2-core machine is slow, not broken
_COPIES = itertools.count()  # names the demo copies of one worker apart

OpenPage = Callable[..., Page]


@dataclass(frozen=True)
class LiveServer:
    """A running app: where to reach it, the runtime (database) behind it, and the app
    itself, whose ``state`` a test may tune while it runs (``live_poll_seconds``)."""

    url: str
    runtime: Runtime
    app: FastAPI


def sign_in(page: Page, email: str, password: str) -> None:
    """Fill and submit the real sign-in form, and wait for the answer."""
    page.goto("/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form[action='/signin'] button[type=submit]")


def sign_out(page: Page) -> None:
    """Press the sign-out button of the page's header."""
    with page.expect_navigation():
        page.click("form[action='/signout'] button[type=submit]")


def screenshot(page: Page, path: str | Path, *, full_page: bool = True) -> Path:
    """Save the page as a PNG at ``path`` (relative: under ``docs/images``): the whole
    page, or only what the window shows."""
    target = DOCS_IMAGES / path
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=target, full_page=full_page, animations="disabled")
    return target


@contextmanager
def serve(runtime: Runtime) -> Iterator[LiveServer]:
    """Run the app for ``runtime`` under uvicorn in a thread until the block ends."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    app = create_app(runtime)
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        _wait_until_healthy(url, thread)
        yield LiveServer(url, runtime, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def _wait_until_healthy(url: str, thread: threading.Thread, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise
        time.sleep(0.02)


def chromium_path() -> str:
    """The system Chromium; skipped without one, except in CI where it must be there."""
    found = shutil.which("chromium")
    if found is None:
        message = "no chromium on PATH: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium, one per pytest worker (no sandbox: tests may run as root)."""
    executable = chromium_path()
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """Open a page in a fresh context on a server, in a browser language: with no cookies,
    or with those of ``storage_state`` (a context's ``storage_state()``: signed in)."""
    contexts: list[BrowserContext] = []

    def opener(
        server: LiveServer, locale: str = "en-US", storage_state: StorageState | None = None
    ) -> Page:
        context = browser.new_context(
            base_url=server.url, locale=locale, viewport=VIEWPORT, storage_state=storage_state
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[LiveServer]:
    """The app on the test's (empty, migrated) database."""
    with serve(runtime) as server:
        yield server


@pytest.fixture
def member(runtime: Runtime, workspace: Workspace) -> User:
    """An English-speaking agent of the ``workspace`` fixture, password ``PASSWORD``."""
    with transaction(runtime.sessions) as session:
        user = do_create_user(session, MEMBER_EMAIL, "Giulia", PASSWORD, actor="test", locale="en")
        do_add_member(session, workspace.id, user.id, "agent", actor="test")
    return user


@pytest.fixture
def page(open_page: OpenPage, live_server: LiveServer) -> Page:
    """A signed-out English browser page on ``live_server``."""
    return open_page(live_server)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database holding the demo workspace, loaded once per worker, to copy from."""
    if POSTGRES_URL:
        url = _create_postgres_database(f"dialoga_demo_{_worker()}_{os.getpid()}")
        yield _load_demo_into(url, tmp_path_factory.mktemp("demo"))
        _drop_postgres_database(url)
    else:
        path = tmp_path_factory.mktemp("demo") / "demo.db"
        yield _load_demo_into(f"sqlite:///{path}", path.parent)


@contextmanager
def serve_demo_copy(template: str, directory: Path, **settings: object) -> Iterator[LiveServer]:
    """Serve a fresh copy of the demo database ``template`` (files under ``directory``)
    until the block ends; each copy is a database of its own. ``settings`` override the
    defaults (the embedded job worker runs, as in ``dialoga serve``)."""
    url = _copy_database(template, directory)
    runtime = Runtime.from_settings(
        Settings(database_url=url, data_dir=directory / "data", **settings)  # type: ignore[arg-type]
    )
    try:
        with serve(runtime) as server:
            yield server
    finally:
        runtime.engine.dispose()
        if POSTGRES_URL:
            _drop_postgres_database(url)


@pytest.fixture
def demo_server(demo_template: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The app on a fresh copy of the demo database."""
    with serve_demo_copy(demo_template, tmp_path) as server:
        yield server


@pytest.fixture
def demo_page(open_page: OpenPage, demo_server: LiveServer) -> Page:
    """An English browser signed in as the demo owner (whose pages are in Italian)."""
    opened = open_page(demo_server)
    sign_in(opened, DEMO_EMAIL, DEMO_PASSWORD)
    return opened


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _load_demo_into(url: str, data_dir: Path) -> str:
    runtime = Runtime.from_settings(Settings(database_url=url, data_dir=data_dir))
    runtime.upgrade_database()
    load_demo(runtime.sessions, DEMO_SLUG)
    runtime.engine.dispose()
    return url


def _copy_database(template: str, tmp_path: Path) -> str:
    if not POSTGRES_URL:
        path = tmp_path / "demo.db"
        shutil.copy(make_url(template).database or "", path)
        return f"sqlite:///{path}"
    name = f"dialoga_demo_copy_{_worker()}_{os.getpid()}_{next(_COPIES)}"
    return _create_postgres_database(name, template=make_url(template).database)


def _create_postgres_database(name: str, template: str | None = None) -> str:
    base = make_url(POSTGRES_URL)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()
