"""posture dashboard: a thin face over the ``posture`` library (``make run``).

Pages: analyse a recording (bundled sample or upload), the patient self-check, the clinic
view and the history. The red-flag screen comes first in every one (app/safety.py). Every
number comes from the library, the same code as the CLI. Nothing leaves this computer.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run app/streamlit_app.py` puts only app/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import (  # noqa: E402
    auth,
    safety,
    view_clinic,
    view_history,
    view_learn,
    view_selfcheck,
    view_upload,
)
from posture.clinical import DISCLAIMER  # noqa: E402

MODES = {
    "Analyse a recording": view_upload.render,
    "Self-check": view_selfcheck.render,
    "Clinic": view_clinic.render,
    "History": view_history.render,
    view_learn.MODE: view_learn.render,
}


def main() -> None:
    st.set_page_config(page_title="posture", layout="wide")
    auth.require_access()
    st.title("posture: neck posture and range of motion")
    st.caption("Everything runs on this computer: video and results never leave it. " + DISCLAIMER)
    mode = st.sidebar.radio("Mode", list(MODES), key="mode")
    st.sidebar.caption(
        "**Self-check**: for people with neck pain or headaches, guided step by step. "
        "**Clinic**: for physical therapists, with subjects, norms and history."
    )
    if safety.gate(mode):
        MODES[mode]()


main()
