"""The dashboard's page logic, driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from posture.clinical import QUESTIONS

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")
RED_FLAGS = [q for q in QUESTIONS if q.group == "red_flag"]


@pytest.fixture(autouse=True)
def _own_database(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTURE_DB", str(tmp_path / "history.sqlite3"))


def _app(mode: str | None = None, timeout: float = 60) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout).run()
    assert not at.exception, at.exception
    if mode is not None:
        at.sidebar.radio(key="mode").set_value(mode).run()
        assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.error, *at.warning, *at.info, *at.success, *at.markdown)]
    return "\n".join(str(p) for p in parts)


def test_page_loads_with_privacy_note_and_modes():
    at = _app()
    assert "posture" in at.title[0].value
    assert any("never leave" in c.value for c in at.caption)
    assert at.sidebar.radio(key="mode").options == [
        "Analyse a recording",
        "Self-check",
        "Clinic",
        "History",
    ]
    assert at.radio(key="up_source").options == ["Bundled sample", "Upload a video or photo"]
    assert at.button(key="up_go_sample").label == "Analyse sample"


def _answer_red_flags(at: AppTest, yes: set[str]) -> AppTest:
    for q in RED_FLAGS:
        at.radio(key=f"rf_{q.id}").set_value("Yes" if q.id in yes else "No")
    return at.button[0].click().run()


def test_self_check_asks_red_flags_first():
    at = _app("Self-check")
    keys = [r.key for r in at.main.radio]
    assert keys == [f"rf_{q.id}" for q in RED_FLAGS]  # nothing else is asked before them
    assert not at.get("camera_input") and not at.get("file_uploader")


@pytest.mark.parametrize("flag", [q.id for q in RED_FLAGS])
def test_any_red_flag_stops_the_self_check_with_the_emergency_instruction(flag):
    at = _answer_red_flags(_app("Self-check"), {flag})
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "emergency" in errors.lower() and "9-1-1" in errors
    assert "stopped" in _texts(at)
    # No measurement, no questions, nothing reassuring.
    assert not at.main.radio and not at.metric and not at.success
    assert not at.get("file_uploader") and not at.get("camera_input")
    # Reruns keep the stop (the page cannot be clicked past it).
    at.run()
    assert "9-1-1" in " ".join(e.value for e in at.error)
    assert [b.label for b in at.button] == ["Start over"]


def test_unanswered_red_flags_do_not_continue():
    at = _app("Self-check")
    at.radio(key=f"rf_{RED_FLAGS[0].id}").set_value("No")
    at.button[0].click().run()
    assert "answer every question" in _texts(at)
    assert [r.key for r in at.main.radio] == [f"rf_{q.id}" for q in RED_FLAGS]


def test_no_red_flags_lead_to_symptoms_then_measurement():
    at = _answer_red_flags(_app("Self-check"), set())
    assert not at.error
    symptom_ids = [q.id for q in QUESTIONS if q.group in ("symptom", "history")]
    assert [r.key for r in at.main.radio] == [f"sc_q_{q}" for q in symptom_ids]
    at.radio(key="sc_q_stress").set_value("Yes")
    at.selectbox(key="sc_age_band").set_value("50-69")
    at.button[0].click().run()
    assert not at.exception
    assert at.radio(key="sc_how").options == ["Live webcam (guided)", "Upload a recording instead"]
    assert at.session_state["sc_answers"]["stress"] == "yes"
    assert at.session_state["sc_answers"]["sudden_severe_headache"] == "no"


def test_clinic_adds_a_subject_and_history_deletes_it():
    at = _app("Clinic")
    at.text_input(key="cl_new_id").input("P-042")
    at.selectbox(key="cl_new_age").set_value("50-69")
    at.button[0].click().run()
    assert not at.exception
    assert at.selectbox(key="cl_subject").value == "P-042"
    assert "Age band 50-69" in " ".join(c.value for c in at.caption)
    at.sidebar.radio(key="mode").set_value("History").run()
    assert at.selectbox(key="hi_subject").value == "P-042"
    at.checkbox(key="hi_sure").check().run()
    next(b for b in at.button if b.label == "Delete subject").click().run()
    assert not at.exception
    assert "No subjects yet" in _texts(at)


def test_clinic_refuses_an_empty_pseudonym():
    at = _app("Clinic")
    at.button[0].click().run()
    assert "pseudonymous id" in " ".join(e.value for e in at.error)


@pytest.mark.slow
def test_bundled_sample_is_analysed_with_downloads(rom_full_range_report):
    """Its own analysis on purpose: the dashboard's path (upload glue, annotated video, key
    frames, PDF); its numbers must be the library's (``rom_full_range_report``: the 12 s
    full-range clip, half the 26.6 s rom_front's analysis)."""
    at = _app(timeout=300)
    at.selectbox(key="up_sam").select_index(
        next(i for i, p in enumerate(at.selectbox(key="up_sam").options) if "rom_full" in p)
    ).run()
    next(b for b in at.button if b.label == "Analyse sample").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert any(s.value == "Results" for s in at.subheader)
    assert len(at.metric) >= 9  # three posture values and six range-of-motion values
    labels = {m.label: m.value for m in at.metric}
    result = at.session_state["up_result"]
    assert result.report["summary"] == rom_full_range_report["summary"]
    rom = rom_full_range_report["summary"]["rom"]
    assert rom["rotation_left_deg"] > 70  # a full turn: the clip's point
    assert labels["Rotation left"] == f"{rom['rotation_left_deg']:.1f}°"  # what is shown
    measured = [k for k, v in rom.items() if v is not None]
    assert [k for k, _ in result.key_frames][0] == "Neutral"
    assert len(result.key_frames) == 1 + len(measured) >= 3  # neutral and each peak
    assert result.annotated.exists() and result.annotated.suffix == ".mp4"
    assert result.pdf(audience="patient").startswith(b"%PDF-")


def _camera_profile(tmp_path, monkeypatch) -> None:
    from posture.calibration.profiles import CameraProfile, Level, save_camera

    monkeypatch.setenv("POSTURE_CALIBRATION_DIR", str(tmp_path / "profiles"))
    level = Level(4.0, None, "line", 640, 480, 1, None, "2025-01-01T10:05:00+00:00")
    save_camera(CameraProfile("desk", None, level))


def test_clinic_live_protocol_uses_the_chosen_camera_profile(tmp_path, monkeypatch):
    _camera_profile(tmp_path, monkeypatch)
    at = _app("Clinic")
    at.text_input(key="cl_new_id").input("P-7")
    at.button[0].click().run()
    at.selectbox(key="cl_cam").set_value("desk").run()
    at.radio(key="cl_how").set_value("Live webcam protocol").run()
    assert not at.exception
    assert at.session_state["cl_live_protocol"].camera == "desk"
    at.selectbox(key="cl_cam").set_value("none (level camera assumed)").run()
    assert at.session_state["cl_live_protocol"].camera is None


def test_self_check_offers_a_stored_camera_profile_for_the_live_protocol(tmp_path, monkeypatch):
    _camera_profile(tmp_path, monkeypatch)
    at = _answer_red_flags(_app("Self-check"), set())
    at.button[0].click().run()  # symptoms: all optional
    assert not at.exception
    at.selectbox(key="sc_cam").set_value("desk").run()
    assert at.session_state["sc_live_protocol"].camera == "desk"
