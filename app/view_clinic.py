"""Clinic (therapist): subject, protocol or upload, exact values with norms, asymmetry,
change since the last visit with measurement-error bands, notes, saved to history."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app import charts, safety
from app.analysis import AnalysisResult, camera_profiles, refresh_findings, result_from_report
from app.db import get_store
from app.ui import media_input, results_view, set_result
from posture.clinical import (
    Questionnaire,
    asymmetry,
    classify_cva,
    classify_rom,
    compare_reports,
    red_flag_findings,
    screen_red_flags,
)
from posture.clinical.change import DEFAULT_MEASURED_ERROR_DEG, at_least_values, summary_values
from posture.clinical.findings import frt_from_recording
from posture.clinical.fitness import SHORT_REASONS, unfit_measures
from posture.clinical.norms import FRT_POSITIVE_BELOW_DEG
from posture.io.text_safety import escape_markdown
from posture.measures import DESCRIPTIONS, POSTURE_LABELS, ROM_KEYS, ROM_LABELS
from posture.store import AGE_BANDS, SEXES, Store, StoreError, age_for_band, sex_for_norms

KEY = "cl"
NEW = "+ New subject"


def subject_picker(store: Store) -> tuple[str, str, str] | None:
    """(id, age band, sex) of the chosen subject, or None while none is chosen."""
    ids = [s.id for s in store.subjects()]
    choice = st.selectbox("Subject (pseudonymous id)", [NEW, *ids], key=f"{KEY}_subject",
                          index=1 if ids else 0)  # fmt: skip
    if choice == NEW:
        with st.form(f"{KEY}_new_subject"):
            sid = st.text_input("Pseudonymous id (never a name)", key=f"{KEY}_new_id")
            c1, c2 = st.columns(2)
            band = c1.selectbox("Age band", AGE_BANDS, key=f"{KEY}_new_age")
            sex = c2.selectbox("Sex", SEXES, key=f"{KEY}_new_sex")
            if st.form_submit_button("Add subject"):
                try:
                    store.add_subject(sid, band, sex)
                except StoreError as err:
                    st.error(escape_markdown(err))  # it quotes the id as typed
                else:
                    st.session_state[f"{KEY}_pending_subject"] = sid.strip()
                    st.rerun()
        return None
    subject = store.subject(choice)
    if subject is None:
        return None
    st.caption(
        f"Age band {escape_markdown(subject.age_band)} · sex {escape_markdown(subject.sex)} · "
        f"since {escape_markdown(subject.created_at)}"
    )
    return subject.id, subject.age_band, subject.sex


def values_table(report: dict[str, Any], age: int | None, sex: str | None) -> pd.DataFrame:
    summary = report["summary"]
    unfit = unfit_measures(report)  # values kept, but this recording supports no label

    def judged(key: str, label: str) -> str:
        return f"not judged: {SHORT_REASONS[unfit[key]]}" if key in unfit else label

    rows = []
    c = classify_cva(summary.get("cva_deg"), DEFAULT_MEASURED_ERROR_DEG)
    rows.append((POSTURE_LABELS["cva_deg"], summary.get("cva_deg"),
                 c.norm.describe() if c else "side view needed",
                 judged("cva_deg", c.label if c else "")))  # fmt: skip
    for key in ("head_tilt_deg", "shoulder_tilt_deg"):
        rows.append((DESCRIPTIONS[key], summary.get(key), "", judged(key, "")))
    bounded = at_least_values(report)
    for key in ROM_KEYS:
        v = summary["rom"].get(key)
        c = classify_rom(key, v, age, sex, DEFAULT_MEASURED_ERROR_DEG)
        label = "at least: past the camera, not judged" if key in bounded else c.label if c else ""
        rows.append((ROM_LABELS[key], v, c.norm.describe() if c else "", judged(key, label)))
    frt = frt_from_recording(report)
    if frt is not None:  # the recording holds a flexion-rotation test (posture.signals.frt)
        for side, v in (("left", frt.rotation_left_deg), ("right", frt.rotation_right_deg)):
            positive = v is not None and side in frt.positive_sides()
            rows.append((f"FRT rotation {side} (approximation)", v,
                         f"positive < {FRT_POSITIVE_BELOW_DEG:g}", "positive" if positive
                         else ("" if v is None else "negative")))  # fmt: skip
    shown = [(m, "not measured" if v is None else f"{v:.1f}", r, lab) for m, v, r, lab in rows]
    return pd.DataFrame(shown, columns=["Measure", "Value (deg)", "Reference", "Label"])


def asymmetry_table(report: dict[str, Any]) -> pd.DataFrame | None:
    rom = summary_values(report)  # an "at least" side is None: no asymmetry from a bound
    rows = []
    for movement in ("rotation", "lateral_flexion"):
        a = asymmetry(movement, rom.get(f"{movement}_left_deg"), rom.get(f"{movement}_right_deg"))
        if a is not None:
            rows.append((movement.replace("_", " "), a.left_deg, a.right_deg, a.difference_deg,
                         a.threshold_deg, a.smaller_side or "no (within error)"))  # fmt: skip
    if not rows:
        return None
    cols = ["Movement", "Left", "Right", "Left - right", "Threshold", "Smaller side"]
    return pd.DataFrame(rows, columns=cols)


def _given(answers: Questionnaire) -> dict[str, str]:
    """The answers given (yes or no) for the history; a question not asked is left out."""
    return {k: v for k, v in answers.to_dict().items() if v != "unknown"}


def clinic_results(
    store: Store, result: AnalysisResult, subject: tuple[str, str, str], answers: Questionnaire
) -> None:
    sid, band, sex_label = subject
    age, sex = age_for_band(band), sex_for_norms(sex_label)
    # Once this session is saved, "last visit" is the one before it.
    previous = store.latest_report(sid, before_session=st.session_state.get(f"{KEY}_saved"))
    refresh_findings(result, answers, age_years=age, sex=sex, previous=previous)
    st.markdown(f"### Subject {escape_markdown(sid)}")
    st.markdown("#### Exact values with norms")
    st.dataframe(values_table(result.report, age, sex), hide_index=True, width="stretch")
    asym = asymmetry_table(result.report)
    if asym is not None:
        st.markdown("#### Asymmetry")
        st.dataframe(asym, hide_index=True, width="stretch")
    st.markdown("#### Change since the last visit")
    if previous is None:
        st.info("No earlier visit for this subject: this session is the baseline.")
    else:
        changes = compare_reports(result.report, previous)
        fig = charts.change_chart(changes)
        if fig is None:
            st.info("No measure was taken in both visits.")
        else:
            st.plotly_chart(fig, key=f"{KEY}_change_chart")
    notes = st.text_area("Notes (saved with the session and printed in the PDF)",
                         key=f"{KEY}_notes")  # fmt: skip
    saved = st.session_state.get(f"{KEY}_saved")
    if saved:
        st.success(f"Saved to history (session {saved}).")
        if st.button("Update notes", key=f"{KEY}_update_notes"):
            store.update_notes(saved, notes)
            st.success("Notes updated.")
    elif st.button("Save to history", type="primary", key=f"{KEY}_save"):
        try:
            session_id = store.save_session(sid, result.report, mode="clinic",
                                            source=result.source_name, notes=notes,
                                            answers=_given(answers))  # fmt: skip
        except (StoreError, ValueError) as err:
            st.error(f"Nothing was saved: {escape_markdown(err)}")
        else:
            st.session_state[f"{KEY}_saved"] = session_id
            st.rerun()
    results_view(result, KEY, audience="clinician", age_years=age, sex=sex,
                 pdf_kwargs={"subject_id": sid, "notes": notes})  # fmt: skip


def render() -> None:
    st.header("Clinic")
    store = get_store()
    if store is None:
        return
    pending = st.session_state.pop(f"{KEY}_pending_subject", None)
    if pending:
        st.session_state[f"{KEY}_subject"] = pending
    subject = subject_picker(store)
    if subject is None:
        return
    if st.session_state.get(f"{KEY}_result_subject") not in (None, subject[0]):
        set_result(f"{KEY}_result", None)  # a result belongs to the subject it was taken for
        st.session_state.pop(f"{KEY}_saved", None)
    answers = safety.therapist_form(subject[0])
    if answers is None:
        return  # the red-flag screen comes before any measurement
    if screen_red_flags(answers).stop_self_check:
        for f in red_flag_findings(answers):
            st.error(f["clinician_text"], icon=":material/emergency:")
            st.caption("Sources: " + "; ".join(f["sources"]))
        st.markdown("No measurement is taken for this subject in this session.")
        return
    how = st.radio("Measure with", ["Upload or sample", "Live webcam protocol"],
                   horizontal=True, key=f"{KEY}_how")  # fmt: skip
    st.caption(
        "Flexion-rotation test (an active, self-held approximation): record the patient from "
        "the front holding the chin on the chest for a few seconds, turning the head to each "
        "side, and upload it; the test is measured about the flexed head's own axis."
    )
    new: AnalysisResult | None = None
    # One camera profile for uploads and the live protocol alike.
    profiles = camera_profiles()
    camera = st.selectbox(
        "Camera calibration", ["none (level camera assumed)", *profiles], key=f"{KEY}_cam",
        help="Profiles made with 'posture calibrate camera/level' (see the README); "
        "applied to uploads and to the live webcam protocol.",
    )  # fmt: skip
    chosen = camera if camera in profiles else None
    if how == "Upload or sample":
        new = media_input(f"{KEY}_media", calibration=chosen)
    else:
        from app.webcam import live_protocol

        proc = live_protocol(f"{KEY}_live", camera=chosen)
        if proc is not None and st.button("Use this protocol's result", key=f"{KEY}_use_live"):
            report = proc.report()
            if report is not None:
                new = result_from_report(report, "webcam", proc.key_frames())
                proc.reset()
    if new is not None:
        set_result(f"{KEY}_result", new)
        st.session_state[f"{KEY}_result_subject"] = subject[0]
        st.session_state.pop(f"{KEY}_saved", None)
    result = st.session_state.get(f"{KEY}_result")
    if result is not None:
        clinic_results(store, result, subject, answers)
