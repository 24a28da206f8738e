"""Exports of a report: key frames, figures and the PDF report (no Streamlit here)."""

from __future__ import annotations

from posture.export.keyframes import KeyMoment, extract_frames, key_moments
from posture.export.pdf import pdf_bytes, write_pdf

__all__ = ["KeyMoment", "extract_frames", "key_moments", "pdf_bytes", "write_pdf"]
