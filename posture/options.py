"""The settings of one analysis. Imports nothing heavy, so any layer may use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Frames larger than this (long side, pixels) are scaled down while decoding. The
# models see 256 px (pose) and 192 px (face) crops, so a 4K frame only costs time
# and memory; at 1280 px a face 2 m from a 65 deg camera is still ~75 px wide.
DEFAULT_MAX_SIDE_PX = 1280

# Which side of the subject faces the camera (posture.geometry.trunk classifies frames).
View = Literal["front", "left", "right", "unknown"]


@dataclass(frozen=True)
class AnalysisOptions:
    """Settings of one analysis; units in the names.

    Attributes:
        view: force 'front', 'left' or 'right'; None detects it per frame.
        camera_roll_deg: camera roll from calibration (0 = level camera assumed).
        camera_pitch_deg: camera pitch from calibration, + = looking down (0 = level
            camera assumed); tilts the vertical that head angles are measured against.
        max_side_px: frames are scaled down to this long side while decoding.
        cutoff_hz: zero-phase low-pass cutoff for file analysis (voluntary neck
            movement is below ~1.5 Hz; 3 Hz keeps peaks and removes jitter).
        max_gap_s: gaps up to this long are interpolated before filtering.
        hampel_window_s: window of the outlier filter.
        neutral_deg: the subject's neutral head angles from a calibration profile;
            None finds a still period at the start of the recording.
        focal_px, principal_px, distortion: the camera's intrinsics from
            calibration (pixels of the analysed frame, OpenCV distortion
            coefficients); None assumes a 65 deg lens without distortion.
        calibration: name of the calibration profile applied, for the report.
        neutral_source: what the report says ``neutral_deg`` came from.
        frame_stride: analyse every Nth video frame (times still from the container);
            None analyses every frame and leaves the stride out of the report.
        input_name: the name the report gives the input (an upload's own name, never
            the temporary file it was saved to); None gives its path.
    """

    view: View | None = None
    camera_roll_deg: float = 0.0
    camera_pitch_deg: float = 0.0
    focal_px: float | None = None
    principal_px: tuple[float, float] | None = None
    distortion: tuple[float, ...] | None = None
    calibration: str | None = None
    max_side_px: int | None = DEFAULT_MAX_SIDE_PX
    cutoff_hz: float = 3.0
    max_gap_s: float = 0.3
    hampel_window_s: float = 0.5
    neutral_deg: dict[str, float] | None = None
    neutral_source: str = "calibration profile"
    frame_stride: int | None = None
    input_name: str | None = None
