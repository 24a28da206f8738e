"""Several people at once: two browser sessions analysing at the same time each see only
their own results."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import launch
from tests.e2e.helpers import pass_safety_screen, sample_still, upload, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_two_sessions_analysing_at_once_see_only_their_own_results(
    playwright_instance, server, tmp_path
):
    photos = [sample_still("sitting_side.mp4", tmp_path / "alice-side.png"),
              sample_still("rom_front.mp4", tmp_path / "bob-front.png", 10)]  # fmt: skip
    browser = launch(playwright_instance)
    pages = []
    for photo in photos:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(server)
        page.get_by_text("posture: neck posture and range of motion").wait_for(timeout=60_000)
        pass_safety_screen(page)
        upload(page, photo)
        page.get_by_role("button", name="Analyse", exact=True).wait_for(timeout=30_000)
        pages.append(page)
    for page in pages:  # both analyses run at the same time
        page.get_by_role("button", name="Analyse", exact=True).click()
    for page in pages:
        page.get_by_role("heading", name="Results").wait_for(timeout=240_000)
        wait_idle(page)
    texts = [p.locator("body").inner_text() for p in pages]
    assert "alice-side.png" in texts[0] and "bob-front.png" not in texts[0]
    assert "bob-front.png" in texts[1] and "alice-side.png" not in texts[1]
    # Each sees its own view: a side photo and a front photo.
    assert "view: left" in texts[0] or "view: right" in texts[0]
    assert "view: front" in texts[1]
    # A new session sees neither.
    fresh = browser.new_context().new_page()
    fresh.goto(server)
    fresh.get_by_text("posture: neck posture and range of motion").wait_for(timeout=60_000)
    wait_idle(fresh)
    body = fresh.locator("body").inner_text()
    assert "alice-side.png" not in body and "bob-front.png" not in body
    browser.close()
