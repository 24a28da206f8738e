"""Page-independent analysis glue (no Streamlit): uploads in, results and exports out.

Everything the pages show comes from here, so it is tested without a browser.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from posture.clinical import Questionnaire
from posture.errors import InputError
from posture.export import extract_frames, key_moments, pdf_bytes
from posture.io.file_types import is_image_name, upload_types
from posture.io.media import empty_sentence, type_problem
from posture.options import AnalysisOptions
from posture.pipeline import analyze
from posture.progress import Progress
from posture.report import Report, attach_findings, write_frame_rows
from posture.settings import (  # noqa: F401 - re-exported for the pages
    DEFAULT_MAX_UPLOAD_MB,
    MAX_UPLOAD_ENV,
    env_number,
    max_upload_mb,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = ROOT / "sample_videos"
UPLOAD_TYPES: list[str] = upload_types()


def bundled_samples() -> list[Path]:
    return sorted(SAMPLES_DIR.glob("*.mp4"))


def check_upload(name: str, size_bytes: int, limit_mb: float | None = None) -> str | None:
    """One sentence saying why an upload cannot be used, or None when it may be analysed."""
    limit = max_upload_mb() if limit_mb is None else limit_mb
    unreadable = type_problem(name)
    if unreadable is not None:
        return unreadable
    if size_bytes == 0:
        return empty_sentence(name)
    if size_bytes > limit * 1024 * 1024:
        return (
            f"{name} is {size_bytes / 1024 / 1024:.0f} MB, over the {limit:g} MB limit: "
            "trim or compress it first."
        )
    return None


@dataclass
class AnalysisResult:
    """A finished analysis: the report dict and what the page shows and offers to download."""

    report: dict[str, Any]
    source_name: str
    out_dir: Path | None = None
    annotated: Path | None = None  # H.264 mp4 (video) or png (photo)
    key_frames: list[tuple[str, np.ndarray]] = field(default_factory=list)
    _pdf_cache: dict[tuple, bytes] = field(default_factory=dict, repr=False)

    @property
    def is_video(self) -> bool:
        return self.report["input"]["kind"] == "video"

    def json_text(self) -> str:
        return json.dumps(self.report, indent=1, allow_nan=False)

    def csv_text(self) -> str:
        buf = io.StringIO()
        write_frame_rows(buf, self.report["frames"])
        return buf.getvalue()

    def pdf(self, **kwargs: Any) -> bytes:
        """The PDF report (cached per set of arguments); see ``posture.export.pdf``."""
        key = tuple(sorted((k, str(v)) for k, v in kwargs.items()))
        if key not in self._pdf_cache:
            self._pdf_cache[key] = pdf_bytes(self.report, key_frames=self.key_frames, **kwargs)
        return self._pdf_cache[key]

    def stem(self) -> str:
        return Path(self.source_name).stem or "posture"

    def discard(self) -> None:
        """Remove the temporary files of this result."""
        if self.out_dir is not None:
            shutil.rmtree(self.out_dir, ignore_errors=True)


def _key_frames(report: dict[str, Any], annotated: Path | None) -> list[tuple[str, np.ndarray]]:
    if annotated is None or not annotated.exists():
        return []
    moments = key_moments(report)
    if annotated.suffix == ".png":
        import cv2

        bgr = cv2.imread(str(annotated))
        return [] if bgr is None else [("Photo", bgr[:, :, ::-1].copy())]
    frames = extract_frames(annotated, [m.t_s for m in moments])
    out = []
    for m, rgb in zip(moments, frames, strict=True):
        if rgb is not None:
            label = m.label if m.value_deg is None else f"{m.label}: {m.value_deg:.0f}°"
            out.append((label, rgb))
    return out


def camera_profiles() -> list[str]:
    """Names of the stored camera profiles (``posture calibrate``), sorted."""
    from posture.calibration.profiles import profiles_dir

    folder = profiles_dir() / "cameras"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def _calibrated(path: Path, options: AnalysisOptions, camera: str) -> AnalysisOptions:
    from posture.calibration.options import analysed_frame_size, calibrated_options
    from posture.io.media import open_media

    source = open_media(path, options.max_side_px)
    try:
        size = analysed_frame_size(source.info.width, source.info.height, options.max_side_px)
    finally:
        source.close()
    return calibrated_options(options, camera=camera, frame_size_px=size)


def analyze_upload(
    path: Path,
    source_name: str,
    progress: Progress | None = None,
    *,
    options: AnalysisOptions | None = None,
    answers: Questionnaire | None = None,
    age_years: int | None = None,
    sex: str | None = None,
    previous: dict[str, Any] | None = None,
    calibration: str | None = None,
    work_dir: Path | None = None,
) -> AnalysisResult:
    """Analyse a video or photo; on any error nothing is left behind and the error is raised.

    ``calibration``: a camera profile name from ``posture calibrate`` (lens and level).
    ``work_dir``: where the result's files go (the browser session's folder); default the
    system temp folder.
    """
    problem = check_upload(source_name, path.stat().st_size if path.exists() else 0)
    if problem:
        raise InputError(problem)
    options = options or AnalysisOptions()
    if calibration:
        options = _calibrated(path, options, calibration)
    out_dir = Path(tempfile.mkdtemp(prefix="posture-result-", dir=work_dir))
    is_image = is_image_name(path)
    annotated = out_dir / ("annotated.png" if is_image else "annotated.mp4")
    try:
        # The report names the upload, never the temporary file it was saved to.
        named = replace(options, input_name=source_name)
        report = analyze(path, named, progress, annotated_path=annotated)
        report = attach_findings(report, answers, age_years=age_years, sex=sex, previous=previous)
        d = report.to_dict()
        return AnalysisResult(d, source_name, out_dir, annotated, _key_frames(d, annotated))
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise


def result_from_report(
    report: Report,
    source_name: str,
    key_frames: dict[str, np.ndarray] | None = None,
    *,
    answers: Questionnaire | None = None,
    age_years: int | None = None,
    sex: str | None = None,
    previous: dict[str, Any] | None = None,
) -> AnalysisResult:
    """A result from a report made elsewhere (the live protocol), with its key frames
    (captioned in plain words: the patient sees them too)."""
    from posture.measures import rom_labels

    report = attach_findings(report, answers, age_years=age_years, sex=sex, previous=previous)
    d = report.to_dict()
    frames = []
    for key, rgb in (key_frames or {}).items():
        label = "Neutral" if key == "neutral" else f"{rom_labels('patient').get(key, key)} (peak)"
        frames.append((label, rgb))
    return AnalysisResult(d, source_name, key_frames=frames)


def refresh_findings(
    result: AnalysisResult,
    answers: Questionnaire | None = None,
    *,
    age_years: int | None = None,
    sex: str | None = None,
    previous: dict[str, Any] | None = None,
) -> None:
    """Recompute findings (answers, subject details or previous visit) and keep the answers
    in the report, as ``posture analyze --answers`` does; drops cached PDFs."""
    from posture.clinical import build_findings

    result.report["findings"] = build_findings(
        result.report, answers, age_years=age_years, sex=sex, previous=previous
    )
    if answers is not None:
        result.report["questionnaire"] = answers.to_dict()
    else:
        result.report.pop("questionnaire", None)
    result.report["subject"] = {"age_years": age_years, "sex": sex}
    result._pdf_cache.clear()


def merge_photo_cva(movement: dict[str, Any], photo: dict[str, Any]) -> dict[str, Any]:
    """A live/video report with the craniovertebral angle from a side photo added."""
    merged = json.loads(json.dumps(movement))
    cva = (photo.get("summary") or {}).get("cva_deg")
    merged["summary"]["cva_deg"] = cva
    merged["cva_source"] = {"kind": "side photo", "view": photo.get("view")}
    merged["quality"]["warnings"] = list(merged["quality"]["warnings"]) + [
        f"Side photo: {w}" for w in photo["quality"]["warnings"] if "range of motion" not in w
    ]
    return merged
