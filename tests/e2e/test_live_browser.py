"""The live webcam protocol in a real browser (Debian chromium + Playwright), fed by a fake
camera that plays the bundled front-view clip. A file of its own so that pytest-xdist can
run it beside the other browser tests (tests/conftest.py, FILE_SECONDS).

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ROOT, launch
from tests.e2e.fake_camera import fake_camera_args, make_y4m
from tests.e2e.helpers import choose_mode, pass_safety_screen, shot, wait_idle

SAMPLES = ROOT / "sample_videos"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_live_webcam_protocol_with_a_fake_camera(playwright_instance, server, artifacts, tmp_path):
    clip = make_y4m(SAMPLES / "rom_front.mp4", tmp_path / "camera.y4m", (320, 240), 15, None, 6.0)
    browser = launch(playwright_instance, fake_camera_args(clip))
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(server)
        page.get_by_text("posture: neck posture and range of motion").wait_for(timeout=60_000)
        pass_safety_screen(page)
        choose_mode(page, "Self-check")
        page.get_by_role("button", name="Continue to the measurement").click()
        frame = page.frame_locator('iframe[title*="webrtc"]').first
        frame.get_by_role("button", name="START").click(timeout=60_000)
        page.get_by_text("Step 2 of 9").or_(page.get_by_text("Step 3 of 9")).first.wait_for(
            timeout=120_000
        )
        page.wait_for_timeout(4000)
        shot(page, artifacts, "09-selfcheck-live-protocol")
        page.get_by_text("Movement recorded.").wait_for(timeout=300_000)
        wait_idle(page)
        shot(page, artifacts, "10-selfcheck-live-done")
        page.get_by_role("button", name="Show my results").click()
        page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
        # The metric cards can arrive after the findings below them: wait for them.
        page.locator(
            '[data-testid="stMetric"]', has_text="Turning your head to the left"
        ).first.wait_for(timeout=60_000)
        wait_idle(page)
        body = page.locator("body").inner_text()
        values = re.findall(r"Turning your head to the left\s*\n\s*([\d.]+)°", body)
        assert values, body[:2000]
        assert 30 <= float(values[0]) <= 90
        shot(page, artifacts, "11-selfcheck-results")
    finally:
        browser.close()
