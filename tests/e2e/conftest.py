"""Real-browser fixtures: a `streamlit run` server on a free port, Debian chromium via
Playwright (never a downloaded browser), and a screenshots folder (test-artifacts/)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _skip_without_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (make test installs it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[dev]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[str]:
    """The dashboard on a free localhost port, with its own history database."""
    _skip_without_browser()
    port = _free_port()
    tmp = tmp_path_factory.mktemp("server")
    env = dict(os.environ)
    env.update(
        POSTURE_DB=str(tmp / "history.sqlite3"),
        POSTURE_LIVE_STEP_TIMEOUT_S="15",
    )
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    log = open(tmp / "streamlit.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {(tmp / 'streamlit.log').read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
