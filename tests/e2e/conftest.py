"""Real-browser fixtures: a `streamlit run` server on a free port, Debian chromium via
Playwright (never a downloaded browser), and a screenshots folder (test-artifacts/)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import CHROMIUM, CHROMIUM_ARGS, STREAMLIT_ARGS, free_port, streamlit_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _skip_without_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (make test installs it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[dev]')")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def server_db(tmp_path_factory) -> Path:
    """The history database file of the ``server`` fixture's dashboard."""
    return tmp_path_factory.mktemp("server-db") / "history.sqlite3"


@pytest.fixture(scope="session")
def server(tmp_path_factory, server_db) -> Iterator[str]:
    """The dashboard on a free localhost port, with its own history database."""
    _skip_without_browser()
    port = free_port()
    tmp = tmp_path_factory.mktemp("server")
    env = dict(os.environ)
    env.update(
        POSTURE_DB=str(server_db),
        POSTURE_LIVE_STEP_TIMEOUT_S="15",
    )
    app = str(ROOT / "app" / "streamlit_app.py")
    cmd = [sys.executable, "-m", "streamlit", "run", app, "--server.port", str(port),
           *STREAMLIT_ARGS]  # fmt: skip
    try:
        with streamlit_server(cmd, ROOT, env, port, tmp / "streamlit.log") as (url, _):
            yield url
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def playwright_instance():
    _skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def launch(playwright_instance, extra_args: list[str] | None = None):
    return playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS + (extra_args or [])
    )


@pytest.fixture
def page(playwright_instance, server):
    browser = launch(playwright_instance)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.goto(server)
    pg.get_by_text("posture: neck posture and range of motion").wait_for(timeout=60_000)
    yield pg
    context.close()
    browser.close()
