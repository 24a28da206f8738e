"""Analyse a recording: a bundled sample or an uploaded video or photo."""

from __future__ import annotations

import streamlit as st

from app import safety
from app.analysis import refresh_findings
from app.ui import media_input, results_view, set_result

KEY = "up"


def render() -> None:
    st.header("Analyse a recording")
    st.markdown(
        "Upload a video or photo, or try a bundled sample. **Front view**, head and shoulders "
        "in view, for range of motion: start with 2 s of stillness, then turn, bend and tilt "
        "the head. **Side view** for how far the head sits forward (forward head posture)."
    )
    new = media_input(KEY)
    if new is not None:
        refresh_findings(new, safety.answers())  # the red-flag answers go with the result
        set_result(f"{KEY}_result", new)
    result = st.session_state.get(f"{KEY}_result")
    if result is not None:
        results_view(result, KEY, audience="patient")
