"""Calibration applied to an analysis: camera profile and subject neutral -> AnalysisOptions.

The one place the CLI (``posture analyze --calibration NAME --subject ID``), the
dashboard's clinic mode and batch runs turn profiles into analysis settings.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from posture.calibration.profiles import (
    lens_for_frame,
    load_camera,
    load_subject,
    pitch_for_frame,
    roll_for_frame,
)
from posture.errors import InputError
from posture.options import AnalysisOptions


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    """``--calibration NAME`` and ``--subject ID`` for ``posture analyze``."""
    parser.add_argument(
        "--calibration",
        metavar="NAME",
        help="camera profile from 'posture calibrate camera/level' (lens and level)",
    )
    parser.add_argument(
        "--subject",
        metavar="ID",
        help="measure range of motion from this subject's stored neutral "
        "('posture calibrate neutral')",
    )


def analysed_frame_size(width_px: int, height_px: int, max_side_px: int | None) -> tuple[int, int]:
    """The size frames have after decoding scales them down (see posture.io.media)."""
    from posture.io.media import _scaled_size

    return _scaled_size(width_px, height_px, max_side_px)


def calibrated_options(
    options: AnalysisOptions,
    camera: str | None = None,
    subject: str | None = None,
    frame_size_px: tuple[int, int] | None = None,
) -> AnalysisOptions:
    """``options`` with a camera profile and/or a subject's neutral applied.

    Args:
        options: the analysis settings so far.
        camera: camera profile name; its lens is scaled to ``frame_size_px``.
        subject: subject ID whose stored neutral head angles ROM is measured from.
        frame_size_px: (width, height) of the frames as analysed (after
            scaling); needed with ``camera``.
    """
    labels: list[str] = []
    if camera:
        if frame_size_px is None:
            raise ValueError("frame_size_px is needed to apply a camera profile")
        options = _with_camera(options, camera, frame_size_px)
        labels.append(camera)
    if subject:
        neutral = load_subject(subject)
        options = replace(options, neutral_deg=dict(neutral.neutral_deg))
        labels.append(f"subject {subject}")
    if labels:
        options = replace(options, calibration="; ".join(labels))
    return options


def _with_camera(
    options: AnalysisOptions, name: str, frame_size_px: tuple[int, int]
) -> AnalysisOptions:
    profile = load_camera(name)
    lens = lens_for_frame(profile, *frame_size_px)
    roll_deg = roll_for_frame(profile, *frame_size_px)
    pitch_deg = pitch_for_frame(profile, *frame_size_px)
    if lens is not None:
        options = replace(
            options,
            focal_px=lens.focal_px,
            principal_px=(lens.cx_px, lens.cy_px),
            distortion=tuple(lens.distortion),
        )
    if roll_deg is not None:
        options = replace(options, camera_roll_deg=roll_deg)
    if pitch_deg is not None:
        options = replace(options, camera_pitch_deg=pitch_deg)
    return options


def apply_to_options(
    args: argparse.Namespace,
    options: AnalysisOptions,
    frame_size_px: tuple[int, int] | None = None,
) -> AnalysisOptions:
    """Apply ``args.calibration`` and ``args.subject`` (see :func:`calibrated_options`).

    ``frame_size_px`` is the input's size as the source reports it (before
    scaling, e.g. ``(source.info.width, source.info.height)``); when omitted,
    ``args.input`` is opened to read it.
    """
    camera = getattr(args, "calibration", None)
    subject = getattr(args, "subject", None)
    if not camera and not subject:
        return options
    size = None
    if camera:
        load_camera(camera)  # a missing profile is refused before the input is opened
        raw = frame_size_px or _probe_size(args)
        size = analysed_frame_size(*raw, options.max_side_px)
    return calibrated_options(options, camera, subject, size)


def _probe_size(args: argparse.Namespace) -> tuple[int, int]:
    from posture.io.media import open_media

    path = getattr(args, "input", None)
    if not path:
        raise InputError(
            "--calibration needs the input's picture size: give an INPUT file "
            "(with a webcam, calibrate from a clip recorded with it)."
        )
    source = open_media(path, None)
    try:
        return source.info.width, source.info.height
    finally:
        source.close()
