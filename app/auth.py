"""Who may see the dashboard: this computer, or whoever knows the password.

``posture dashboard`` listens on localhost. Served to other machines (``--host``), it
passes a salted hash of the password (never the password) to this process, and every
browser session must log in first. Started some other way on a non-local address
without a password, the dashboard refuses to show anything.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from posture.dashboard import PASSWORD_HASH_ENV, is_loopback, verify_password

FAILED_LOGIN_DELAY_S = 1.0
_KEY = "posture_authenticated"


def require_access() -> None:
    """Return when this browser session may use the dashboard; otherwise show why (or the
    login form) and stop the script run."""
    stored = os.environ.get(PASSWORD_HASH_ENV, "")
    address = st.get_option("server.address")
    if not stored:
        if is_loopback(address):
            return
        st.error(
            "This dashboard is reachable from other machines but has no password, so it "
            "shows nothing: start it with `posture dashboard` (this computer only), or "
            "`posture dashboard --host ADDRESS` with a password."
        )
        st.stop()
    if st.session_state.get(_KEY):
        return
    with st.form("login"):
        st.subheader("Log in")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        if verify_password(password, stored):
            st.session_state[_KEY] = True
            st.rerun()
        time.sleep(FAILED_LOGIN_DELAY_S)  # slows guessing
        st.error("Wrong password: try again.")
    st.stop()
