"""A subject's own neutral head position, from a short still recording.

The recording goes through the same pipeline as any analysis; its still period
at the start (posture.signals.rom.find_neutral) gives the neutral head angles
that later ROM is measured from (``AnalysisOptions.neutral_deg``).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from posture.calibration.profiles import SubjectNeutral, check_name, now_iso
from posture.errors import InputError
from posture.signals.rom import HEAD_KEYS

if TYPE_CHECKING:
    from posture.options import AnalysisOptions
    from posture.progress import Progress

NEUTRAL_POSTURE_KEYS = ("cva_deg", "head_tilt_deg", "shoulder_tilt_deg")


def neutral_from_report(report: dict[str, Any], subject: str, camera: str | None) -> SubjectNeutral:
    """The subject's neutral from an analysis report; refuses a recording without a still start."""
    if report["input"]["kind"] == "image":
        raise InputError(
            "A neutral needs a short video (3-5 s of the subject sitting still, looking "
            "ahead), not a photo."
        )
    neutral = report.get("neutral")
    if neutral is None or any(neutral.get(k) is None for k in HEAD_KEYS):
        raise InputError(
            "No neutral head position could be measured: the face must be in view for at "
            "least 2 s; record the subject facing the camera, sitting still, looking ahead."
        )
    if neutral.get("source") != "still period":
        raise InputError(
            "The subject did not keep still at the start of the recording: record 3-5 s of "
            "sitting still, looking straight ahead, and try again."
        )
    summary = report["summary"]
    return SubjectNeutral(
        subject=subject,
        neutral_deg={k: float(neutral[k]) for k in HEAD_KEYS},
        posture_deg={k: summary.get(k) for k in NEUTRAL_POSTURE_KEYS},
        view=str(report.get("view", "unknown")),
        camera=camera,
        recorded_at=now_iso(),
    )


def measure_neutral(
    path: str | os.PathLike[str],
    subject: str,
    options: AnalysisOptions,
    progress: Progress | None = None,
) -> SubjectNeutral:
    """Analyse a neutral recording (``options``: AnalysisOptions, calibrated or not)."""
    from posture.pipeline import analyze

    check_name(subject, "subject ID")
    # A stored neutral must come from the recording itself, never from an older one.
    options = replace(options, neutral_deg=None)
    report = analyze(path, options, progress).to_dict()
    return neutral_from_report(report, subject, options.calibration)
