"""Patient self-check: symptoms, then measurement, then results.

The red-flag screen has come first (app/safety.py, before every mode): an emergency "yes"
keeps the session on the stop page, so nothing is measured and nothing reassuring is
shown; "start a new self-check" asks the symptoms again, never the red flags.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import safety
from app.analysis import (
    AnalysisResult,
    camera_profiles,
    merge_photo_cva,
    refresh_findings,
    result_from_report,
)
from app.session_files import scratch_folder
from app.ui import media_input, results_view, run_on_path, set_result
from posture.clinical import QUESTIONS, Questionnaire
from posture.io.file_types import IMAGE_EXTENSIONS, upload_types
from posture.store import AGE_BANDS, SEXES, age_for_band, sex_for_norms

KEY = "sc"
STEPS = ("symptoms", "measure", "results")
STEP_TITLES = {
    "symptoms": "1. Your symptoms (the safety questions are done)",
    "measure": "2. Measure",
    "results": "3. Your results",
}
YES_NO_UNSURE = ["No", "Yes", "Not sure"]
_ANSWER = {"No": "no", "Yes": "yes", "Not sure": "unknown", None: "unknown"}
# A "which side" question's options and the answer each gives.
SIDE_OPTIONS = {
    "Left": "left",
    "Right": "right",
    "Both sides": "both",
    "Neither / not sure": "unknown",
}


def _step() -> str:
    return st.session_state.get(f"{KEY}_step", "symptoms")


def _go(step: str) -> None:
    st.session_state[f"{KEY}_step"] = step
    st.rerun()


def restart() -> None:
    """A new self-check from the symptoms on. The red-flag answers are the session's
    (app/safety.py) and stay: a "yes" cannot be undone by starting over."""
    for k in list(st.session_state):
        if isinstance(k, str) and k.startswith(f"{KEY}_"):
            if k.endswith("_result"):
                set_result(k, None)
            del st.session_state[k]


def _answers() -> Questionnaire:
    """The session's red-flag answers with this self-check's symptom answers."""
    red_flags = safety.answers()
    given = red_flags.to_dict() if red_flags is not None else {}
    given.update(st.session_state.get(f"{KEY}_answers", {}))
    return Questionnaire.from_dict(given)


def symptoms_step() -> None:
    st.markdown("These questions help explain your results. Answer what you can.")
    with st.form(f"{KEY}_symptom_form"):
        for group, title in (("symptom", "Symptoms"), ("history", "Background")):
            st.markdown(f"**{title}**")
            for q in QUESTIONS:
                if q.group == group:
                    options = list(SIDE_OPTIONS) if q.sides else YES_NO_UNSURE
                    st.radio(q.text, options, index=None, horizontal=True,
                             key=f"{KEY}_q_{q.id}")  # fmt: skip
        st.markdown("**About you** (optional: picks the right reference values)")
        c1, c2 = st.columns(2)
        c1.selectbox("Age", AGE_BANDS, key=f"{KEY}_age_band")
        c2.selectbox("Sex", SEXES, key=f"{KEY}_sex")
        submitted = st.form_submit_button("Continue to the measurement", type="primary")
    if submitted:
        answers = {}
        for q in QUESTIONS:
            if q.group != "red_flag":
                given = st.session_state.get(f"{KEY}_q_{q.id}")
                answers[q.id] = SIDE_OPTIONS.get(given, "unknown") if q.sides else _ANSWER[given]
        st.session_state[f"{KEY}_answers"] = answers
        _go("measure")


def _subject() -> tuple[int | None, str | None]:
    return (
        age_for_band(st.session_state.get(f"{KEY}_age_band", "not given")),
        sex_for_norms(st.session_state.get(f"{KEY}_sex", "not given")),
    )


def _photo_input() -> None:
    st.markdown(
        "#### Side photo for posture\nAsk someone to take a photo of you **from the side**, "
        "sitting or standing as you usually do, ear and shoulder visible. Or use the camera."
    )
    use_camera = st.toggle("Use the camera for the photo", key=f"{KEY}_photo_cam")
    if use_camera:
        shot = st.camera_input("Side photo", key=f"{KEY}_camera")
        name = "side-photo.jpg"
    else:
        shot = st.file_uploader("Side photo", type=upload_types(IMAGE_EXTENSIONS),
                                key=f"{KEY}_photo_upload")  # fmt: skip
        name = shot.name if shot is not None else ""
    if shot is None:
        return
    digest = (name, shot.size)
    if st.session_state.get(f"{KEY}_photo_digest") == digest:
        return
    with scratch_folder("photo-") as tmp:
        path = tmp / f"photo{Path(name).suffix.lower() or '.jpg'}"
        path.write_bytes(shot.getbuffer())
        result = run_on_path(path, name)
    st.session_state[f"{KEY}_photo_digest"] = digest
    if result is not None:
        if result.report["summary"].get("cva_deg") is None:
            st.warning(
                "The posture angle could not be measured on this photo: it needs a side view "
                "with the ear and shoulder visible."
            )
        set_result(f"{KEY}_photo_result", result)


def _camera_choice() -> str | None:
    """A stored camera profile to apply (only offered when one exists), or None."""
    profiles = camera_profiles()
    if not profiles:
        return None
    none = "none (level camera assumed)"
    choice = st.selectbox(
        "Camera calibration (optional)", [none, *profiles], key=f"{KEY}_cam",
        help="A profile made for this camera with 'posture calibrate' (see the README).",
    )  # fmt: skip
    return choice if choice in profiles else None


def measure_step() -> None:
    from app.webcam import live_protocol

    st.markdown("#### Neck movement")
    how = st.radio(
        "How", ["Live webcam (guided)", "Upload a recording instead"], horizontal=True,
        key=f"{KEY}_how",
    )  # fmt: skip
    camera = _camera_choice()
    if how == "Live webcam (guided)":
        proc = live_protocol(
            f"{KEY}_live",
            on_restart=lambda: set_result(f"{KEY}_movement_result", None),
            camera=camera,
        )
        if proc is not None and st.session_state.get(f"{KEY}_movement_result") is None:
            report = proc.report()
            if report is not None:
                result = result_from_report(report, "webcam", proc.key_frames())
                set_result(f"{KEY}_movement_result", result)
    else:
        new = media_input(f"{KEY}_media", calibration=camera)
        if new is not None:
            set_result(f"{KEY}_movement_result", new)
    movement = st.session_state.get(f"{KEY}_movement_result")
    if movement is not None:
        st.success("Movement recorded.")
    _photo_input()
    photo = st.session_state.get(f"{KEY}_photo_result")
    if photo is not None and photo.report["summary"].get("cva_deg") is not None:
        st.success(f"Side photo measured: {photo.report['summary']['cva_deg']:.0f}°.")
    ready = movement is not None or photo is not None
    if st.button("Show my results", type="primary", disabled=not ready, key=f"{KEY}_show"):
        _go("results")


def _combined() -> AnalysisResult | None:
    movement = st.session_state.get(f"{KEY}_movement_result")
    photo = st.session_state.get(f"{KEY}_photo_result")
    if movement is None and photo is None:
        return None
    if movement is not None and photo is not None:
        report = merge_photo_cva(movement.report, photo.report)
        frames = movement.key_frames + photo.key_frames
        combined = AnalysisResult(
            report, movement.source_name, movement.out_dir, movement.annotated, frames
        )
    else:
        combined = movement if movement is not None else photo
    age, sex = _subject()
    refresh_findings(combined, _answers(), age_years=age, sex=sex)
    return combined


def _given_answers() -> dict[str, str]:
    return {k: v for k, v in _answers().to_dict().items() if v != "unknown"}


def history_section(result: AnalysisResult) -> None:
    """Optional and local: keep this self-check in the history file on this computer, and
    see each measure's trend and the change since the last saved self-check."""
    from app import charts
    from app.db import get_store
    from posture.clinical import compare_reports
    from posture.io.text_safety import escape_markdown
    from posture.measures import ROM_KEYS
    from posture.store import StoreError

    st.markdown("#### Your record on this computer (optional)")
    st.caption(
        "Saved only in the history file on this computer, never sent anywhere. On a shared "
        "computer anyone using this dashboard can see it; it can be deleted on the History "
        "page."
    )
    name = st.text_input("A name for your record (a nickname is fine)", "me",
                         key=f"{KEY}_record").strip()  # fmt: skip
    store = get_store()
    if store is None or not name:
        return
    saved = st.session_state.get(f"{KEY}_saved")
    if saved is None and st.button("Save this self-check", key=f"{KEY}_save"):
        try:
            if store.subject(name) is None:
                store.add_subject(name)
            saved = store.save_session(
                name,
                result.report,
                mode="self-check",
                source=result.source_name,
                answers=_given_answers(),
            )
        except (StoreError, ValueError) as err:  # fmt: skip
            st.error(f"Nothing was saved: {escape_markdown(err)}")
            return
        st.session_state[f"{KEY}_saved"] = saved
        st.rerun()
    if saved is not None:
        st.success(f"Saved to your record '{escape_markdown(name)}'.")
    rows = store.history(name) if store.subject(name) is not None else []
    if not rows:
        return
    previous = store.latest_report(name, before_session=saved)
    if previous is not None:
        changes = compare_reports(result.report, previous)
        fig = charts.change_chart(changes)
        if fig is not None:
            st.markdown("**Since your last saved self-check**")
            st.plotly_chart(fig, key=f"{KEY}_change_chart")
            st.caption(
                "A change inside the grey band is within this tool's measurement error: "
                "it may be noise, not a real change."
            )
    if len(rows) >= 2:
        st.markdown("**Your trend**")
        groups = [[k] for k in ("cva_deg",)] + [list(ROM_KEYS)]
        shown = [[k for k in g if any(r.get(k) is not None for r in rows)] for g in groups]
        shown = [g for g in shown if g]  # a measure never taken gets no empty chart
        for col, metrics in zip(st.columns(max(len(shown), 1)), shown, strict=False):
            col.plotly_chart(charts.history_chart(rows, metrics), key=f"{KEY}_trend_{metrics[0]}")


def results_step() -> None:
    result = _combined()
    if result is None:
        _go("measure")
        return
    age, sex = _subject()
    results_view(result, KEY, audience="patient", age_years=age, sex=sex)
    if not any(f["severity"] == "emergency" for f in result.report.get("findings") or []):
        history_section(result)
    if st.button("Start a new self-check", key=f"{KEY}_again"):
        restart()
        st.rerun()


def render() -> None:
    st.header("Self-check")
    step = _step()
    st.progress((STEPS.index(step) + 1) / len(STEPS), text=STEP_TITLES[step])
    {"symptoms": symptoms_step, "measure": measure_step, "results": results_step}[step]()
