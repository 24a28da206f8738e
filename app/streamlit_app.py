"""posture dashboard (minimal first version): analyse a bundled sample or an upload.

A thin face over the ``posture`` library: every number comes from
``posture.pipeline.analyze``, the same code path as the CLI.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import streamlit as st

from posture.clinical import DISCLAIMER
from posture.errors import PostureError
from posture.io.media import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from posture.pipeline import AnalysisOptions, analyze
from posture.report import attach_findings
from posture.summary_text import POSTURE_LABELS, ROM_LABELS

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_videos"
MAX_UPLOAD_MB = 500


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
        if self._bar is not None and self._total:
            self._bar.progress(
                min(self._done / self._total, 1.0), text=f"Analysing frame {self._done}"
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.empty()


def _show_report(report: dict, annotated: Path | None) -> None:
    summary, quality = report["summary"], report["quality"]
    st.subheader("Results")
    st.caption(
        f"View: **{report['view']}** · measured in "
        f"{100 * quality['valid_frame_fraction']:.0f}% of frames"
    )
    cols = st.columns(3)
    for col, (key, label) in zip(cols, POSTURE_LABELS.items(), strict=True):
        v = summary.get(key)
        col.metric(label, "—" if v is None else f"{v:.1f}°")
    if report["input"]["kind"] == "video":
        st.markdown("**Range of motion** (from the recording's neutral)")
        cols = st.columns(3)
        for i, (key, label) in enumerate(ROM_LABELS.items()):
            v = summary["rom"].get(key)
            cols[i % 3].metric(label, "not performed" if v is None else f"{v:.1f}°")
        series = {
            k: [f[k] for f in report["frames"]]
            for k in (
                "head_rotation_deg",
                "head_flexion_deg",
                "head_lateral_flexion_deg",
                "cva_deg",
            )
        }
        t = [f["t"] for f in report["frames"]]
        import pandas as pd

        df = pd.DataFrame(series, index=pd.Index(t, name="time (s)"))
        df = df.dropna(axis=1, how="all")
        if not df.empty:
            st.line_chart(df)
    for w in quality["warnings"]:
        st.warning(w)
    for f in report["findings"]:
        show = {"emergency": st.error, "attention": st.warning}.get(f["severity"], st.info)
        show(f["patient_text"])
    if annotated is not None and annotated.exists():
        if annotated.suffix == ".mp4":
            st.video(str(annotated))
        else:
            st.image(str(annotated))
    st.download_button(
        "Download report (JSON)",
        json.dumps(report, indent=1),
        file_name="posture-report.json",
        mime="application/json",
    )
    st.caption(DISCLAIMER)


def _analyze_path(path: Path) -> None:
    out_dir = Path(tempfile.mkdtemp(prefix="posture-"))
    is_image = path.suffix.lower() in IMAGE_EXTENSIONS
    annotated = out_dir / ("annotated.png" if is_image else "annotated.mp4")
    try:
        report = analyze(path, AnalysisOptions(), StreamlitProgress(), annotated_path=annotated)
    except PostureError as err:
        st.error(str(err))
        return
    except Exception as err:  # noqa: BLE001 - the page must survive; say what happened
        st.error(f"The analysis failed unexpectedly ({type(err).__name__}). Please report it.")
        return
    _show_report(attach_findings(report).to_dict(), annotated)


def main() -> None:
    st.set_page_config(page_title="posture", layout="wide")
    st.title("posture: neck posture and range of motion")
    st.caption("Everything runs on this computer: video and results never leave it. " + DISCLAIMER)
    samples = sorted(SAMPLES.glob("*.mp4"))
    source = st.radio("Input", ["Bundled sample", "Upload a video or photo"], horizontal=True)
    if source == "Bundled sample":
        if not samples:
            st.info("No bundled sample found in sample_videos/.")
            return
        choice = st.selectbox("Sample", samples, format_func=lambda p: p.name)
        if st.button("Analyse sample", type="primary"):
            _analyze_path(choice)
        return
    types = sorted(e.lstrip(".") for e in VIDEO_EXTENSIONS | IMAGE_EXTENSIONS)
    upload = st.file_uploader("Video or photo", type=types)
    if upload is None:
        return
    if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
        st.error(f"{upload.name} is larger than {MAX_UPLOAD_MB} MB: trim or compress it first.")
        return
    suffix = Path(upload.name).suffix.lower()
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as tmp:
        tmp.write(upload.getbuffer())
    _analyze_path(Path(tmp.name))


main()
