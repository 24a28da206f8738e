"""The history database for this browser session (opened once, kept in session state)."""

from __future__ import annotations

import streamlit as st

from posture.io.text_safety import escape_markdown
from posture.store import Store, StoreError, default_db_path


def get_store() -> Store | None:
    """The Store at ``$POSTURE_DB`` (or the user data dir); None with a message if it fails."""
    path = str(default_db_path())
    cached = st.session_state.get("_store")
    if isinstance(cached, Store) and cached.path == path:
        return cached
    try:
        store = Store(path)
    except (StoreError, OSError) as err:
        st.error(
            f"The history database cannot be opened ({escape_markdown(path)}): "
            f"{escape_markdown(err)}"
        )
        return None
    st.session_state["_store"] = store
    return store
