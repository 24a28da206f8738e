"""The red-flag screen, first in every mode (posture.clinical.red_flags).

Asked once per browser session, before any page shows a result. Its answers are kept
for the whole session under keys that no "start over" removes: an emergency "yes" keeps
every mode on the stop page until the session ends (the tab is closed). A clinic can
set ``POSTURE_RED_FLAGS=therapist`` so that in Clinic mode the therapist asks the
questions and records the answers with the session (:func:`therapist_form`).
"""

from __future__ import annotations

import streamlit as st

from posture.clinical import Questionnaire, red_flag_findings, screen_red_flags
from posture.clinical.red_flags import (
    EMERGENCY_DISCLAIMER,
    RED_FLAG_QUESTIONS,
)
from posture.settings import red_flag_screen_by

ANSWERS_KEY = "safety_answers"  # {question id: "yes" | "no"}, once the screen is complete
EMERGENCY_KEY = "safety_emergency"  # True once an emergency sign was answered "yes"
YES_NO = ["No", "Yes"]
SECTIONS = (
    ("emergency", "Signs that need care today"),
    ("doctor_soon", "Signs a doctor should check soon"),
    ("tell_therapist", "Things your therapist needs to know"),
)


def answers() -> Questionnaire | None:
    """The red-flag answers of this session, or None while the screen is not complete."""
    given = st.session_state.get(ANSWERS_KEY)
    return Questionnaire.from_dict(given) if given else None


def _record(given: dict[str, str]) -> None:
    """Keep the answers; an emergency "yes" is kept whatever is answered later."""
    st.session_state[ANSWERS_KEY] = given
    if screen_red_flags(Questionnaire.from_dict(given)).stop_self_check:
        st.session_state[EMERGENCY_KEY] = True


def _questions_form(form_key: str, intro: str, button: str) -> dict[str, str] | None:
    """The questions in one form; the answers once every one is answered and sent."""
    st.markdown(intro)
    with st.form(form_key):
        for urgency, title in SECTIONS:
            st.markdown(f"**{title}**")
            for q in RED_FLAG_QUESTIONS:
                if q.urgency == urgency:
                    st.radio(q.text, YES_NO, index=None, horizontal=True,
                             key=f"{form_key}_{q.id}")  # fmt: skip
        sent = st.form_submit_button(button, type="primary")
    if not sent:
        return None
    given = {q.id: st.session_state.get(f"{form_key}_{q.id}") for q in RED_FLAG_QUESTIONS}
    if any(v is None for v in given.values()):
        st.warning("Please answer every question (Yes or No) before going on.")
        return None
    return {k: "yes" if v == "Yes" else "no" for k, v in given.items()}


def stop_page() -> None:
    """The emergency instruction and nothing else: no value, no result, no way round it."""
    st.header("Get emergency care now")
    for f in red_flag_findings(answers()):
        st.error(f"**{f['patient_text']}**", icon=":material/emergency:")
    st.error(EMERGENCY_DISCLAIMER)
    st.markdown(
        "Nothing is measured and no result is shown in this session. If you answered by "
        "mistake, talk to a doctor or your therapist before you use posture again."
    )


def later_flags_banner() -> None:
    """The 'see a doctor within days' and 'tell your therapist' answers, above every page."""
    for f in red_flag_findings(answers()):
        st.warning(f["patient_text"], icon=":material/medical_services:")


def gate(mode: str) -> bool:
    """True when ``mode`` may show its page; otherwise the screen or the stop page is shown.

    The screen comes first in every mode. In Clinic mode with the therapist asking
    (``POSTURE_RED_FLAGS=therapist``) the page opens and :func:`therapist_form` asks."""
    if st.session_state.get(EMERGENCY_KEY):
        stop_page()
        return False
    if answers() is not None:
        later_flags_banner()
        return True
    if mode == "Clinic" and red_flag_screen_by() == "therapist":
        return True
    st.header("Safety questions")
    given = _questions_form(
        "safety_form",
        "Before anything is measured or shown: some headaches and neck problems need a "
        "doctor **right away**, not a self-check. Please answer each question; each one "
        "says which time it is about.",
        "Continue",
    )
    if given is not None:
        _record(given)
        st.rerun()
    return False


def _subject_key(subject_id: str) -> str:
    return f"safety_subject_answers_{subject_id}"


def subject_answers(subject_id: str) -> Questionnaire | None:
    """The red-flag answers that go with this subject's session: those the therapist
    recorded for them, else this browser session's own screen; None while neither."""
    given = st.session_state.get(_subject_key(subject_id))
    if given:
        return Questionnaire.from_dict(given)
    return answers()


def therapist_form(subject_id: str) -> Questionnaire | None:
    """Clinic mode: the red-flag answers for this subject's session.

    With the therapist asking (``POSTURE_RED_FLAGS=therapist``) the therapist records them
    here, once per subject and browser session: recorded answers are never asked again
    (a "yes" cannot be taken back by asking again). Otherwise they are the patient's own
    screen (:func:`gate`). None while the form is still open."""
    given = subject_answers(subject_id)
    if given is not None:
        return given
    st.markdown("#### Red-flag screen (asked by the therapist)")
    recorded = _questions_form(
        f"cl_red_flags_{subject_id}",
        "Ask the patient each question and record the answer. The answers are saved with "
        "this session and go into its report.",
        "Record the answers",
    )
    if recorded is not None:
        st.session_state[_subject_key(subject_id)] = recorded
        st.rerun()
    return None
