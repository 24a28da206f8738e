"""History: progress per measure across visits; delete a subject and everything about them."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app import charts
from app.db import get_store
from posture.io.text_safety import escape_markdown
from posture.measures import DESCRIPTIONS, ROM_KEYS
from posture.store import StoreError

KEY = "hi"


def render() -> None:
    st.header("History")
    store = get_store()
    if store is None:
        return
    st.caption(f"Database: {escape_markdown(store.path)} (set POSTURE_DB to use another file)")
    subjects = store.subjects()
    if not subjects:
        st.info("No subjects yet: measure one in the Clinic page and save it to history.")
        return
    sid = st.selectbox("Subject", [s.id for s in subjects], key=f"{KEY}_subject")
    rows = store.history(sid)
    if not rows:
        st.info("No sessions saved for this subject yet.")
    else:
        df = pd.DataFrame(rows).rename(columns=DESCRIPTIONS)
        st.dataframe(df, hide_index=True, width="stretch")
        c1, c2 = st.columns(2)
        c1.plotly_chart(charts.history_chart(rows, ["cva_deg"]), key=f"{KEY}_cva")
        c2.plotly_chart(charts.history_chart(rows, ROM_KEYS), key=f"{KEY}_rom")
        session = st.selectbox("Session", [r["session_id"] for r in rows], key=f"{KEY}_session")
        report = store.report(session)
        if report is not None:
            st.download_button(
                "Download this session's report (JSON)", json.dumps(report, indent=1),
                f"{sid}-session-{session}.json", "application/json", on_click="ignore",
                key=f"{KEY}_dl",
            )  # fmt: skip
    shown = escape_markdown(sid)  # a subject id is typed by a user: text, never markdown
    with st.expander("Delete this subject"):
        st.warning(
            f"This deletes {shown} and every session, result, answer and note about them, "
            "and their calibration neutral."
        )
        sure = st.checkbox(f"Yes, delete {shown} permanently", key=f"{KEY}_sure")
        if st.button("Delete subject", disabled=not sure, key=f"{KEY}_delete"):
            try:
                store.delete_subject(sid)
            except StoreError as err:
                st.error(escape_markdown(err))
            else:
                st.session_state.pop(f"{KEY}_subject", None)
                st.session_state.pop(f"{KEY}_sure", None)
                st.success(f"{shown} and everything about them was deleted.")
                st.rerun()
