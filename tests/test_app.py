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


def _answer_red_flags(at: AppTest, yes: set[str], form: str = "safety_form") -> AppTest:
    for q in RED_FLAGS:
        at.radio(key=f"{form}_{q.id}").set_value("Yes" if q.id in yes else "No")
    return at.button[0].click().run()


def _app(mode: str | None = None, timeout: float = 60, screened: bool = True) -> AppTest:
    """The dashboard in ``mode``; ``screened``: the red-flag screen answered 'No' first."""
    at = AppTest.from_file(APP, default_timeout=timeout).run()
    assert not at.exception, at.exception
    if screened:
        at = _answer_red_flags(at, set())
        assert not at.exception, at.exception
    if mode is not None:
        at.sidebar.radio(key="mode").set_value(mode).run()
        assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.error, *at.warning, *at.info, *at.success, *at.markdown)]
    return "\n".join(str(p) for p in parts)


SCREEN_KEYS = [f"safety_form_{q.id}" for q in RED_FLAGS]
MODES = ["Analyse a recording", "Self-check", "Clinic", "History", "Learn about neck headaches"]
EMERGENCY = [q.id for q in RED_FLAGS if q.urgency == "emergency"]


def test_page_loads_with_privacy_note_and_modes():
    at = _app()
    assert "posture" in at.title[0].value
    assert any("never leave" in c.value for c in at.caption)
    assert at.sidebar.radio(key="mode").options == MODES
    assert at.radio(key="up_source").options == ["Bundled sample", "Upload a video or photo"]
    assert at.button(key="up_go_sample").label == "Analyse sample"


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_opens_on_the_red_flag_screen(mode):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.radio(key="mode").set_value(mode).run()
    assert not at.exception
    assert [h.value for h in at.header] == ["Safety questions"]
    assert [r.key for r in at.main.radio] == SCREEN_KEYS  # nothing is asked or shown first
    assert not at.metric and not at.get("file_uploader") and not at.get("camera_input")
    assert not at.main.selectbox and not at.main.text_input  # no sample, no subject
    assert [b.label for b in at.button] == ["Continue"]


@pytest.mark.parametrize("flag", EMERGENCY)
def test_an_emergency_flag_stops_every_mode_for_the_session(flag):
    at = _answer_red_flags(AppTest.from_file(APP, default_timeout=60).run(), {flag})
    assert not at.exception
    for mode in MODES:
        at.sidebar.radio(key="mode").set_value(mode).run()
        errors = " ".join(e.value for e in at.error)
        assert "emergency" in errors.lower() and "9-1-1" in errors, mode
        assert "No measurement" in _texts(at) or "Nothing is measured" in _texts(at)
        # No value, no question, nothing reassuring, and no button: not even "start over".
        assert not at.main.radio and not at.metric and not at.success, mode
        assert not at.button and not at.get("file_uploader") and not at.get("camera_input")
    at.run()  # reruns keep the stop
    assert "9-1-1" in " ".join(e.value for e in at.error)


def test_a_stop_cannot_be_answered_away_by_starting_over():
    at = _answer_red_flags(AppTest.from_file(APP, default_timeout=60).run(), {EMERGENCY[0]})
    # What "start over" did before: the self-check's keys cleared. The stop stays.
    from app import view_selfcheck

    for k in list(at.session_state.filtered_state):
        if str(k).startswith(("sc_", "rf_")):
            del at.session_state[k]
    assert view_selfcheck.KEY == "sc"
    at.sidebar.radio(key="mode").set_value("Self-check").run()
    assert "9-1-1" in " ".join(e.value for e in at.error)
    assert not at.main.radio


@pytest.mark.parametrize(
    ("flag", "words"),
    [
        ("history_of_cancer", "See a doctor within the next few days"),
        ("blood_thinning_medicine", "Tell your physical therapist"),
    ],
)
def test_a_later_flag_is_shown_above_every_page_and_the_check_goes_on(flag, words):
    at = _answer_red_flags(AppTest.from_file(APP, default_timeout=60).run(), {flag})
    for mode in MODES:
        at.sidebar.radio(key="mode").set_value(mode).run()
        assert not at.exception
        assert any(words in w.value for w in at.warning), mode
        assert not any("9-1-1" in e.value for e in at.error)
    at.sidebar.radio(key="mode").set_value("Analyse a recording").run()
    assert at.radio(key="up_source").options  # the page itself is there, under the banner


def test_the_education_page_explains_and_lists_the_emergency_signs():
    from posture.clinical.education import SECTIONS

    at = _app("Learn about neck headaches")
    assert not at.exception
    titles = [h.value for h in at.subheader]
    assert titles == [s.title for s in SECTIONS if s.title]
    for words in ("cervicogenic", "referred pain", "physical therapist", "Sleep", "Stress",
                  "Desk", "9-1-1"):  # fmt: skip
        assert words in _texts(at), words
    emergency = [q.short for q in RED_FLAGS if q.urgency == "emergency"]
    listed = _texts(at).lower()
    assert all(short.lower() in listed for short in emergency)  # the screen's own signs
    assert "you have" not in listed and "diagnos" not in listed


def test_unanswered_red_flags_do_not_continue():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.radio(key=SCREEN_KEYS[0]).set_value("No")
    at.button[0].click().run()
    assert "answer every question" in _texts(at)
    assert [r.key for r in at.main.radio] == SCREEN_KEYS


def test_no_red_flags_lead_to_symptoms_then_measurement():
    at = _app("Self-check")
    assert not at.error
    symptom_ids = [q.id for q in QUESTIONS if q.group in ("symptom", "history")]
    assert [r.key for r in at.main.radio] == [f"sc_q_{q}" for q in symptom_ids]
    at.radio(key="sc_q_stress").set_value("Yes")
    at.selectbox(key="sc_age_band").set_value("50-69")
    at.button[0].click().run()
    assert not at.exception
    assert at.radio(key="sc_how").options == ["Live webcam (guided)", "Upload a recording instead"]
    assert at.session_state["sc_answers"]["stress"] == "yes"
    assert at.session_state["safety_answers"]["sudden_severe_headache"] == "no"


def test_clinic_with_the_therapist_asking_records_the_answers_per_subject(monkeypatch):
    monkeypatch.setenv("POSTURE_RED_FLAGS", "therapist")
    at = _app("Clinic", screened=False)
    assert not at.header or at.header[0].value == "Clinic"  # no patient screen in front
    at.text_input(key="cl_new_id").input("P-9")
    at.button[0].click().run()
    form = "cl_red_flags_P-9"
    assert [r.key for r in at.main.radio] == [f"{form}_{q.id}" for q in RED_FLAGS]
    assert not at.get("radio") or not any(r.key == "cl_how" for r in at.radio)
    at = _answer_red_flags(at, {"neck_instability_risk"}, form)
    assert not at.exception
    assert at.radio(key="cl_how").options  # measuring comes after the screen
    assert at.session_state["safety_subject_answers_P-9"]["neck_instability_risk"] == "yes"
    assert not any(r.key.startswith(form) for r in at.main.radio)  # never asked again


def test_clinic_with_the_therapist_asking_stops_on_an_emergency(monkeypatch):
    monkeypatch.setenv("POSTURE_RED_FLAGS", "therapist")
    at = _app("Clinic", screened=False)
    at.text_input(key="cl_new_id").input("P-10")
    at.button[0].click().run()
    at = _answer_red_flags(at, {"numbness_or_weakness"}, "cl_red_flags_P-10")
    assert "numbness" in " ".join(e.value for e in at.error)
    assert "No measurement is taken" in _texts(at)
    assert not any(r.key == "cl_how" for r in at.radio)


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
    # What is shown, in plain words on this patient-facing page (no technical labels).
    assert labels["Turning your head to the left"] == f"{rom['rotation_left_deg']:.1f}°"
    assert "How far your head sits forward" in labels
    jargon = ("Craniovertebral", "Rotation left", "Lateral flexion", "Flexion", "+ = left")
    assert not [lab for lab in labels if any(j in lab for j in jargon)], list(labels)
    measured = [k for k, v in rom.items() if v is not None]
    assert [k for k, _ in result.key_frames][0] == "Neutral"
    assert len(result.key_frames) == 1 + len(measured) >= 3  # neutral and each peak
    assert result.annotated.exists() and result.annotated.suffix == ".mp4"
    assert result.pdf(audience="patient").startswith(b"%PDF-")
    # The result links to the education page.
    next(b for b in at.button if b.key == "up_learn").click().run()
    assert at.sidebar.radio(key="mode").value == "Learn about neck headaches"
    assert [h.value for h in at.header] == ["Learn about neck headaches"]


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
    at = _app("Self-check")
    at.button[0].click().run()  # symptoms: all optional
    assert not at.exception
    at.selectbox(key="sc_cam").set_value("desk").run()
    assert at.session_state["sc_live_protocol"].camera == "desk"
