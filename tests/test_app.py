"""The dashboard page logic, driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


def test_page_loads_with_privacy_note_and_inputs():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "posture" in at.title[0].value
    assert any("never leave" in c.value for c in at.caption)
    assert at.radio[0].options == ["Bundled sample", "Upload a video or photo"]


@pytest.mark.slow
def test_bundled_sample_is_analysed_on_the_page():
    at = AppTest.from_file(APP, default_timeout=300).run()
    if not at.selectbox:
        pytest.skip("no bundled sample in sample_videos/")
    at.button[0].click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert any(s.value == "Results" for s in at.subheader)
    assert len(at.metric) >= 9  # three posture values and six range-of-motion values
