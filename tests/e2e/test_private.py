"""Private by default, proven: `posture dashboard` started from another folder, with every
connection or lookup beyond this computer refused and recorded, in the server and in the
browser, while a photo is analysed; and a password-protected dashboard in a real browser."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import launch
from tests.e2e.helpers import (
    free_port,
    pass_safety_screen,
    sample_still,
    streamlit_server,
    upload,
    wait_idle,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NETGUARD = Path(__file__).resolve().parent / "netguard"


def _dashboard(tmp_path: Path, port: int, extra_env: dict[str, str]):
    env = dict(os.environ)
    env.update(
        POSTURE_DB=str(tmp_path / "history.sqlite3"),
        PYTHONPATH=os.pathsep.join([str(NETGUARD), str(ROOT)]),
        POSTURE_NETGUARD_LOG=str(tmp_path / "refused.jsonl"),
        **extra_env,
    )
    for key in [k for k in env if k.startswith("STREAMLIT_")]:
        env.pop(key)  # nothing from the caller's environment helps
    cmd = [sys.executable, "-m", "posture.cli", "dashboard", "--port", str(port)]
    # Started from an empty folder: no .streamlit/config.toml beside it.
    return streamlit_server(cmd, tmp_path, env, port, tmp_path / "dashboard.log")


def _record_foreign_requests(context, seen: list[str]) -> None:
    def handle(route):
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost", None) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            seen.append(route.request.url)
            route.abort()

    context.route("**/*", handle)


def test_dashboard_analyses_a_photo_with_every_outside_connection_refused(
    playwright_instance, tmp_path
):
    photo = sample_still("sitting_side.mp4", tmp_path / "side.png")
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    port = free_port()
    with _dashboard(run_dir, port, {}) as (url, proc):
        browser = launch(playwright_instance)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        foreign: list[str] = []
        _record_foreign_requests(context, foreign)
        page = context.new_page()
        page.goto(url)
        page.get_by_text("posture: neck posture and range of motion").wait_for(timeout=60_000)
        pass_safety_screen(page)
        upload(page, photo)
        page.get_by_role("button", name="Analyse", exact=True).click()
        page.get_by_role("heading", name="Results").wait_for(timeout=180_000)
        wait_idle(page)
        context.close()
        browser.close()
    log = (run_dir / "dashboard.log").read_text()
    refused = run_dir / "refused.jsonl"
    attempts = [json.loads(x) for x in refused.read_text().splitlines()] if refused.exists() else []
    assert attempts == [], f"the server tried to reach the network: {attempts}"
    assert foreign == [], f"the page tried to reach the network: {foreign}"
    assert "this computer only" in log
    assert "External URL" not in log and "Network URL" not in log


def test_the_guard_sees_a_lookup_when_one_is_made(tmp_path):
    """The guard itself works: a lookup and a connection from a guarded process are refused
    and recorded (so an empty record above means none was made)."""
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(NETGUARD), POSTURE_NETGUARD_LOG=str(tmp_path / "r"))
    code = (
        "import socket\n"
        "for f in (lambda: socket.getaddrinfo('checkip.amazonaws.com', 80),\n"
        "          lambda: socket.create_connection(('8.8.8.8', 53), timeout=1)):\n"
        "    try: f()\n"
        "    except OSError: pass\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    kinds = [json.loads(x)["kind"] for x in (tmp_path / "r").read_text().splitlines()]
    assert kinds == ["lookup", "connect"]


def test_password_protected_dashboard_in_a_browser(playwright_instance, tmp_path):
    port = free_port()
    with _dashboard(tmp_path, port, {"POSTURE_DASHBOARD_PASSWORD": "tablet-pass-42"}) as (
        url,
        _,
    ):
        browser = launch(playwright_instance)
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("textbox", name="Password").fill("nope-nope")
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("Wrong password").wait_for(timeout=30_000)
        assert page.get_by_text("Analyse a recording").count() == 0
        page.get_by_role("textbox", name="Password").fill("tablet-pass-42")
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("Analyse a recording").first.wait_for(timeout=30_000)
        # A second browser session must log in on its own.
        other = browser.new_context().new_page()
        other.goto(url)
        other.get_by_role("textbox", name="Password").wait_for(timeout=30_000)
        assert other.get_by_text("Analyse a recording").count() == 0
        browser.close()
