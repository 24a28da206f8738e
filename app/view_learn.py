"""Learn: what a headache from the neck is, what helps, and when to get help
(posture.clinical.education). Linked from every result page."""

from __future__ import annotations

import streamlit as st

from posture.clinical.education import EDUCATION_SOURCES, SECTIONS

MODE = "Learn about neck headaches"


def render() -> None:
    st.header(MODE)
    for section in SECTIONS:
        if section.title:
            st.subheader(section.title)
        for paragraph in section.paragraphs:
            st.markdown(paragraph)
        if section.points:
            st.markdown("\n".join(f"- {p}" for p in section.points))
    st.caption("Sources: " + "; ".join(EDUCATION_SOURCES))


def _open() -> None:
    st.session_state["mode"] = MODE  # a callback: runs before the sidebar radio is drawn


def link(key: str) -> None:
    """A button on a result page that opens this page."""
    st.button(
        "What is a headache from the neck, and what helps? Read more",
        key=f"{key}_learn",
        on_click=_open,
        icon=":material/menu_book:",
    )
