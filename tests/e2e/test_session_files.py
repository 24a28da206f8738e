"""No patient data left behind by the dashboard: a session's uploads and results live in
one folder that goes when the session ends, and the server's folder when it stops."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

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


def _wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def _analyse(browser, url: str, photo: Path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.get_by_text("posture: neck posture and range of motion").wait_for(timeout=60_000)
    pass_safety_screen(page)
    upload(page, photo)
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.get_by_role("heading", name="Results").wait_for(timeout=180_000)
    wait_idle(page)
    return context


def test_session_files_go_with_the_session_and_the_server(playwright_instance, tmp_path):
    photo = sample_still("sitting_side.mp4", tmp_path / "side.png")
    temp = tmp_path / "systemp"
    temp.mkdir()
    stale = temp / "posture-server-999999-old"  # left by a killed server (no such pid)
    (stale / "session-x").mkdir(parents=True)
    port = free_port()
    env = dict(os.environ, TMPDIR=str(temp), POSTURE_DB=str(tmp_path / "h.sqlite3"),
               POSTURE_SESSION_FILES_GRACE_S="2", PYTHONPATH=str(ROOT))  # fmt: skip
    cmd = [sys.executable, "-m", "posture.cli", "dashboard", "--port", str(port)]
    with streamlit_server(cmd, tmp_path, env, port, tmp_path / "log.txt") as (url, proc):
        browser = launch(playwright_instance)
        first = _analyse(browser, url, photo)
        second = _analyse(browser, url, photo)
        roots = list(temp.glob("posture-server-*"))
        assert not stale.exists()  # removed when the new server started
        assert len(roots) == 1 and oct(roots[0].stat().st_mode & 0o777) == "0o700"
        sessions = sorted(roots[0].glob("session-*"))
        assert len(sessions) == 2  # one folder per browser session
        for s in sessions:
            assert list(s.glob("posture-result-*/annotated.png"))
            assert not list(s.glob("upload-*"))  # the upload went when analysed
        first.close()
        assert _wait_until(lambda: sum(s.exists() for s in sessions) == 1, 60)
        second.close()
        assert _wait_until(lambda: not any(s.exists() for s in sessions), 60)
        third = _analyse(browser, url, photo)
        assert list(roots[0].glob("session-*/posture-result-*"))
        browser.close()
        proc.send_signal(signal.SIGTERM)  # the server stops: its folder goes too
        proc.wait(timeout=30)
        del third
    assert not roots[0].exists()
    assert list(temp.iterdir()) == []
