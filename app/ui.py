"""Streamlit widgets shared by the pages: progress, upload handling and the results view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from app import charts
from app.analysis import (
    UPLOAD_TYPES,
    AnalysisResult,
    analyze_upload,
    bundled_samples,
    check_upload,
)
from app.session_files import scratch_folder, session_folder
from posture.clinical import DISCLAIMER, classify_cva
from posture.clinical.change import DEFAULT_MEASURED_ERROR_DEG
from posture.errors import PostureError
from posture.io.text_safety import escape_markdown
from posture.measures import Audience, posture_labels, rom_labels


class StreamlitProgress:
    """Drives a Streamlit progress bar from the library's progress calls."""

    def __init__(self) -> None:
        self._bar = None
        self._total: int | None = None
        self._done = 0

    def start(self, total: int | None, description: str) -> None:
        self._bar = st.progress(0.0, text=description)
        self._total, self._done = total, 0

    def advance(self, n: int = 1) -> None:
        self._done += n
        if self._bar is not None and self._total and self._done % 5 == 0:
            frac = min(self._done / self._total, 1.0)
            self._bar.progress(frac, text=f"Analysing frame {self._done} of {self._total}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.empty()


def set_result(key: str, result: AnalysisResult | None) -> None:
    """Keep a result across reruns; the previous one's temporary files are removed."""
    old = st.session_state.get(key)
    if isinstance(old, AnalysisResult) and old is not result:
        old.discard()
    st.session_state[key] = result


def run_on_path(path: Path, source_name: str, **kwargs: Any) -> AnalysisResult | None:
    """Analyse with a progress bar; a bad input shows one sentence and returns None."""
    try:
        with st.spinner("Analysing..."):
            return analyze_upload(
                path, source_name, StreamlitProgress(), work_dir=session_folder(), **kwargs
            )
    except PostureError as err:  # may quote a file name: shown as text, never markdown
        st.error(escape_markdown(err))
    except Exception as err:  # noqa: BLE001 - the page must survive; say what happened
        st.error(
            f"The analysis failed unexpectedly ({type(err).__name__}): try another recording, "
            "and please report it."
        )
    return None


def media_input(key: str, **kwargs: Any) -> AnalysisResult | None:
    """Bundled sample or upload -> a new result (None when nothing new was analysed)."""
    samples = bundled_samples()
    # The bundled samples come first: `make run` is ready to try without a recording.
    options = (["Bundled sample"] if samples else []) + ["Upload a video or photo"]
    source = st.radio("Input", options, horizontal=True, key=f"{key}_source")
    if source == "Bundled sample":
        choice = st.selectbox("Sample", samples, format_func=lambda p: p.name, key=f"{key}_sam")
        if st.button("Analyse sample", type="primary", key=f"{key}_go_sample"):
            return run_on_path(choice, choice.name, **kwargs)
        return None
    upload = st.file_uploader(
        "Video (mp4, mov, webm, ...) or photo (jpg, png, webp)",
        type=UPLOAD_TYPES,
        key=f"{key}_upload",
        help="Front view for how far the neck moves; side view for how far the head sits forward.",
    )
    if upload is None:
        return None
    problem = check_upload(upload.name, upload.size)
    if problem:
        st.error(escape_markdown(problem))  # it quotes the upload's file name
        return None
    if not st.button("Analyse", type="primary", key=f"{key}_go_upload"):
        return None
    with scratch_folder("upload-") as tmp:
        path = tmp / f"upload{Path(upload.name).suffix.lower()}"
        path.write_bytes(upload.getbuffer())
        return run_on_path(path, upload.name, **kwargs)


# -- results -------------------------------------------------------------------------------


def _deg(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}°"


# What each posture value means, in the audience's words (the card's help).
_POSTURE_HELP = {
    "patient": {
        "cva_deg": "Seen from the side: the angle between your ear, the base of your neck and "
        "the horizontal. The smaller it is, the further forward your head sits.",
        "head_tilt_deg": "Seen from the front: how far your head tips toward one shoulder.",
        "shoulder_tilt_deg": "Seen from the front: how much lower one shoulder sits.",
    },
    "clinician": {
        "cva_deg": "Side view: C7 to tragus vs horizontal; smaller = head further forward.",
        "head_tilt_deg": "+ = left eye lower",
        "shoulder_tilt_deg": "+ = left shoulder lower",
    },
}


def posture_card(report: dict[str, Any], audience: Audience = "clinician") -> None:
    summary = report["summary"]
    labels, helps = posture_labels(audience), _POSTURE_HELP[audience]
    st.markdown("#### Posture")
    c1, c2, c3 = st.columns(3)
    cva = summary.get("cva_deg")
    cls = classify_cva(cva, DEFAULT_MEASURED_ERROR_DEG)
    c1.metric(labels["cva_deg"], _deg(cva), help=helps["cva_deg"])
    if cls is not None:
        error = f", ±{DEFAULT_MEASURED_ERROR_DEG:g}° error" if cls.label == "borderline" else ""
        c1.caption(f"{cls.label} (upright ≥ 50°{error})")
    elif cva is None:
        c1.caption("needs a side view")
    for col, key in ((c2, "head_tilt_deg"), (c3, "shoulder_tilt_deg")):
        col.metric(labels[key], _deg(summary.get(key)), help=helps[key])


def rom_metrics(report: dict[str, Any], audience: Audience = "clinician") -> None:
    rom = report["summary"]["rom"]
    bounded = report["summary"].get("rom_at_least") or []
    st.markdown(
        "#### How far your neck moves (from your resting position)"
        if audience == "patient"
        else "#### Range of motion (from neutral)"
    )
    cols = st.columns(3)
    for i, (key, label) in enumerate(rom_labels(audience).items()):
        v = rom.get(key)
        text = "not performed" if v is None else f"{v:.1f}°"
        if v is not None and key in bounded:
            text = f"at least {v:.0f}°"
        cols[i % 3].metric(
            label,
            text,
            help="The head moved further than the camera could follow" if key in bounded else None,
        )


def _is_red_flag(finding: dict[str, Any]) -> bool:
    return str(finding.get("id", "")).startswith("red_flag")


def _show_findings(findings: list[dict[str, Any]], audience: Audience) -> None:
    text = "patient_text" if audience == "patient" else "clinician_text"
    for f in findings:
        show = {"emergency": st.error, "attention": st.warning}.get(f["severity"], st.info)
        show(f[text])
        if audience == "clinician" and f.get("sources"):
            st.caption("Sources: " + "; ".join(f["sources"]))


def red_flags_view(report: dict[str, Any], audience: Audience) -> None:
    """The red-flag findings (emergency, see a doctor, tell the therapist): above the rest."""
    _show_findings([f for f in report.get("findings") or [] if _is_red_flag(f)], audience)


def findings_view(report: dict[str, Any], audience: Audience) -> None:
    """The other findings, under the values they come from."""
    findings = [f for f in report.get("findings") or [] if not _is_red_flag(f)]
    if not findings:
        return
    st.markdown("#### What this means" if audience == "patient" else "#### Findings")
    _show_findings(findings, audience)


def key_frames_view(result: AnalysisResult) -> None:
    if not result.key_frames:
        return
    st.markdown("#### Key frames")
    cols = st.columns(min(4, len(result.key_frames)))
    for i, (label, rgb) in enumerate(result.key_frames):
        cols[i % len(cols)].image(rgb, caption=label, width="stretch")


def downloads(result: AnalysisResult, key: str, **pdf_kwargs: Any) -> None:
    st.markdown("#### Downloads")
    stem = result.stem()
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button(
        "Report (JSON)", result.json_text(), f"{stem}-report.json", "application/json",
        key=f"{key}_dl_json", on_click="ignore",
    )  # fmt: skip
    c2.download_button(
        "Per-frame values (CSV)", result.csv_text(), f"{stem}-frames.csv", "text/csv",
        key=f"{key}_dl_csv", on_click="ignore",
    )  # fmt: skip
    if result.annotated is not None and result.annotated.exists():
        mime = "video/mp4" if result.annotated.suffix == ".mp4" else "image/png"
        label = "Annotated video (MP4)" if result.is_video else "Annotated photo (PNG)"
        c3.download_button(
            label, result.annotated.read_bytes(), f"{stem}-annotated{result.annotated.suffix}",
            mime, key=f"{key}_dl_media", on_click="ignore",
        )  # fmt: skip
    try:
        pdf = result.pdf(**pdf_kwargs)
    except Exception as err:  # noqa: BLE001 - the other downloads must still work
        c4.error(f"The PDF could not be made ({type(err).__name__}).")
    else:
        c4.download_button(
            "PDF report", pdf, f"{stem}-report.pdf", "application/pdf",
            key=f"{key}_dl_pdf", on_click="ignore",
        )  # fmt: skip


def results_view(
    result: AnalysisResult,
    key: str,
    audience: Audience = "patient",
    *,
    age_years: int | None = None,
    sex: str | None = None,
    pdf_kwargs: dict[str, Any] | None = None,
) -> None:
    """Everything about one result: posture, ROM, charts, key frames, findings, downloads."""
    report = result.report
    q = report["quality"]
    st.subheader("Results")
    st.caption(
        f"{escape_markdown(result.source_name)} · view: **{escape_markdown(report['view'])}** · "
        "a person was measured in "
        f"{100 * q['valid_frame_fraction']:.0f}% of frames"
    )
    red_flags_view(report, audience)  # before any value
    if any(f["severity"] == "emergency" for f in report.get("findings") or []):
        return  # an emergency red flag: nothing else is shown
    posture_card(report, audience)
    if result.is_video:
        rom_metrics(report, audience)
        fig = charts.rom_vs_norms(report, age_years, sex, audience)
        if fig is not None:
            st.plotly_chart(fig, key=f"{key}_rom_chart")
        fig = charts.angles_over_time(report, audience)
        if fig is not None:
            st.plotly_chart(fig, key=f"{key}_angles_chart")
    for w in q["warnings"]:
        st.warning(escape_markdown(w))  # may name a camera profile or a file
    findings_view(report, audience)
    if audience == "patient":
        from app import view_learn

        view_learn.link(key)
    key_frames_view(result)
    if result.annotated is not None and result.annotated.exists():
        with st.expander("Annotated " + ("video" if result.is_video else "photo")):
            if result.is_video:
                st.video(str(result.annotated))
            else:
                st.image(str(result.annotated))
    downloads(result, key, audience=audience, age_years=age_years, sex=sex, **(pdf_kwargs or {}))
    st.caption(DISCLAIMER)
