"""Per-frame measurements in, the report out: the one report assembly every runner uses.

The trunk reference is steadied over the recording, the head-pose network aligned to the
face mesh, the series filtered (zero phase), neutral and range of motion found, and the
quality warnings written.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

from posture.arrays import Array
from posture.errors import InputError
from posture.geometry.head import net_alignment
from posture.geometry.measure import ANGLE_KEYS, FrameMeasurement, realigned
from posture.geometry.posture_angles import summary_cva_uncertainty_deg as cva_uncertainty
from posture.io.media import MediaInfo, display_name
from posture.measures import ROM_BY_KEY, ROM_KEYS
from posture.options import AnalysisOptions
from posture.report import (
    FrameRow,
    InputInfo,
    NeutralRecord,
    Quality,
    Report,
    ReportView,
    Settings,
    Summary,
)
from posture.signals.filters import clean_series
from posture.signals.rom import Neutral, directions_at_limit, find_neutral, range_of_motion

STATIC_KEYS = ("cva_deg", "head_tilt_deg", "shoulder_tilt_deg")
MIN_ROM_DURATION_S = 1.0
DOMINANT_VIEW_FRACTION = 0.7


def models_aligned(measurements: list[FrameMeasurement]) -> list[FrameMeasurement]:
    """The recording's frames with the head-pose network aligned to the face-mesh fit over
    its frames near facing the camera (unchanged when there are too few)."""
    pairs = [
        (m.head_mesh_cam, m.head_net_cam)
        for m in measurements
        if m.head_mesh_cam is not None and m.head_net_cam is not None
    ]
    d = net_alignment(pairs)
    return measurements if d is None else [realigned(m, d) for m in measurements]


# A view seen in fewer frames than this share of the recording (or MIN_VIEW_FRAMES) is the
# pose model's passing confusion, not a segment filmed from another side: its frames keep
# the recording's overall trunk yaw. So does a frame whose trunk reads turned more than
# FLIPPED_TRUNK_DEG from it: the pose model takes a head bent far forward for a body seen
# from behind (trunk yaw ~180), which would throw the head's rotation by as much.
MIN_VIEW_SHARE = 0.03
MIN_VIEW_FRAMES = 15
FLIPPED_TRUNK_DEG = 135.0


def steady_trunk(measurements: list[FrameMeasurement]) -> list[FrameMeasurement]:
    """Re-refer every frame's head angles to its view's median trunk yaw (whole recording)."""
    yaws = [m.trunk_yaw_deg for m in measurements if m.trunk_yaw_deg is not None]
    if not yaws:
        return [m.with_trunk_yaw(None) for m in measurements]
    overall = _circular_median_deg(np.array(yaws))

    def steady(m: FrameMeasurement) -> bool:
        return m.trunk_yaw_deg is not None and _deg_apart(m.trunk_yaw_deg, overall) <= (
            FLIPPED_TRUNK_DEG
        )

    by_view: dict[str, list[float]] = {}
    for m in measurements:
        if steady(m):
            by_view.setdefault(m.view, []).append(m.trunk_yaw_deg)  # type: ignore[arg-type]
    enough = max(MIN_VIEW_FRAMES, MIN_VIEW_SHARE * len(yaws))
    medians = {v: float(np.median(ys)) for v, ys in by_view.items() if len(ys) >= enough}
    return [
        m.with_trunk_yaw(medians.get(m.view, overall) if steady(m) else overall)
        for m in measurements
    ]


def photo_trunk(m: FrameMeasurement) -> FrameMeasurement:
    """A photo's head angles against its own shoulder line only when the upper arms are in
    the picture; otherwise against the camera (``reference: "camera"``), as if the trunk
    faced it. One picture gives one pose-model reading of the trunk's yaw, and in a
    close-up that reading follows the head: on rendered stills of held-out bodies, front
    photos read head rotation with MAE 9.1 deg from every photo's shoulder line against
    5.3 deg from the camera (docs/accuracy.md). A shoulder line that would put the head
    turned more than a neck can turn from it (the pose model now and then reads a front
    view as a back view) is not used either."""
    if m.trunk_yaw_deg is None:
        return m
    reachable = m.head_in_camera_deg is None or (
        _deg_apart(m.head_in_camera_deg[0], m.trunk_yaw_deg) <= MAX_NECK_TURN_DEG
    )
    # A side view hides the far elbow whatever the framing: there the near one vouches for
    # the trunk. (A close-up whose shoulder line follows a turned head is often classed a
    # side view, and has neither elbow: held-out front stills read rotation 7.8 instead of
    # 5.5 when side views kept their shoulder line without an elbow.)
    needed = 1 if m.view in ("left", "right") else 2
    framed = m.elbows_in_view >= needed
    return m if framed and reachable else m.with_trunk_yaw(None)


# No neck turns the head further than this from the trunk (healthy adults: 70-90 deg).
MAX_NECK_TURN_DEG = 100.0


def _deg_apart(a_deg: float, b_deg: float) -> float:
    return abs((a_deg - b_deg + 180.0) % 360.0 - 180.0)


def _circular_median_deg(yaws_deg: Array) -> float:
    """The median of angles that may wrap at +-180 (a back view reads 175 and -178)."""
    mean = np.degrees(
        np.arctan2(np.sin(np.radians(yaws_deg)).mean(), np.cos(np.radians(yaws_deg)).mean())
    )
    offsets = (yaws_deg - mean + 180.0) % 360.0 - 180.0
    return float((mean + np.median(offsets) + 180.0) % 360.0 - 180.0)


def no_person_error(info: MediaInfo) -> InputError:
    what = "photo" if info.kind == "image" else "video"
    return InputError(
        f"No person was found in {display_name(os.path.basename(info.path))}: use a {what} where "
        "the head and shoulders are clearly visible, upright, well lit, and facing or "
        "side-on to the camera."
    )


def _series(measurements: list[FrameMeasurement]) -> tuple[Array, dict[str, Array]]:
    t = np.array([m.t for m in measurements], dtype=float)
    raw = {
        k: np.array([np.nan if getattr(m, k) is None else getattr(m, k) for m in measurements])
        for k in ANGLE_KEYS
    }
    return t, raw


def _dominant_view(measurements: list[FrameMeasurement]) -> ReportView:
    views = Counter(m.view for m in measurements if m.valid and m.view != "unknown")
    if not views:
        return "unknown"
    view, n = views.most_common(1)[0]
    return view if n >= DOMINANT_VIEW_FRACTION * sum(views.values()) else "mixed"


def _median_or_none(x: Array) -> float | None:
    return round(float(np.nanmedian(x)), 1) if np.isfinite(x).any() else None


def assemble_report(
    info: MediaInfo,
    measurements: list[FrameMeasurement],
    options: AnalysisOptions,
    people_max: int,
    decode_warnings: list[str],
    workers: int | None = None,
) -> Report:
    """Filter the series, find neutral and range of motion, and fill in the report.
    ``workers``: the processes that measured a video in time chunks (None: one)."""
    is_image = info.kind == "image"
    if not is_image:
        measurements = steady_trunk(models_aligned(measurements))
    else:
        measurements = [photo_trunk(m) for m in measurements]
    t, raw = _series(measurements)
    clean = {
        k: raw[k]
        if is_image
        else clean_series(t, raw[k], options.max_gap_s, options.hampel_window_s, options.cutoff_hz)
        for k in ANGLE_KEYS
    }
    frames = tuple(_frame_row(m, raw, clean, i) for i, m in enumerate(measurements))

    warnings = list(decode_warnings)
    rom, neutral = _rom(t, clean, options, is_image, warnings)
    at_least: dict[str, float] = {}
    if neutral is not None:
        followed = {k: np.where(np.isfinite(raw[k]), clean[k], np.nan) for k in ANGLE_KEYS}
        lost = np.array([m.head_lost for m in measurements], dtype=bool)
        at_least = directions_at_limit(followed, neutral, lost, rom)
        rom = {**rom, **at_least}
        warnings += [at_least_warning(k, v) for k, v in at_least.items()]
    posture_deg = {k: _median_or_none(clean[k]) for k in STATIC_KEYS}
    summary = Summary(
        cva_deg=posture_deg["cva_deg"],
        head_tilt_deg=posture_deg["head_tilt_deg"],
        shoulder_tilt_deg=posture_deg["shoulder_tilt_deg"],
        rom=rom,
        cva_uncertainty_deg=cva_uncertainty(measurements) if posture_deg["cva_deg"] else None,
        rom_at_least=tuple(at_least),
    )
    n_valid = sum(m.valid for m in measurements)
    warnings += _quality_warnings(measurements, raw, people_max, is_image)
    pitch_unknown = options.camera_pitch_deg == 0.0 and options.calibration is None
    if is_image and pitch_unknown and np.isfinite(raw["head_flexion_deg"]).any():
        warnings.append(PHOTO_PITCH_UNKNOWN)
    if is_image and any(
        m.reference == "camera" and m.head_in_camera_deg and m.trunk_yaw_deg is not None
        for m in measurements
    ):
        warnings.append(PHOTO_HEAD_VS_CAMERA)
    duration = float(t[-1] - t[0]) if len(t) > 1 else 0.0
    input_info = InputInfo(
        path=info.path if options.input_name is None else options.input_name,
        kind="image" if is_image else "video",
        width=info.width,
        height=info.height,
        fps=round(info.fps, 3) if info.fps else None,
        frame_count=len(measurements),
        duration_s=round(info.duration_s, 3) if info.duration_s else round(duration, 3),
    )
    settings = Settings(
        view=options.view or "auto",
        calibration=options.calibration,
        camera_roll_deg=options.camera_roll_deg,
        camera_pitch_deg=options.camera_pitch_deg,
        focal_px=options.focal_px,
        cutoff_hz=options.cutoff_hz,
        workers=workers,
        frame_stride=options.frame_stride,
    )
    quality = Quality(
        valid_frame_fraction=round(n_valid / len(measurements), 4),
        people_in_view_max=people_max or None,
        warnings=tuple(warnings),
    )
    return Report(
        input=input_info,
        view=_dominant_view(measurements),
        frames=frames,
        summary=summary,
        quality=quality,
        neutral=None if neutral is None else _neutral_record(neutral),
        settings=settings,
    )


def _frame_row(
    m: FrameMeasurement, raw: dict[str, Array], clean: dict[str, Array], i: int
) -> FrameRow:
    """The frame's record: its filtered angles (2 decimals), None where it had no reading."""
    angles: dict[str, float | None] = {}
    for k in ANGLE_KEYS:
        v = clean[k][i]
        angles[k] = round(float(v), 2) if np.isfinite(raw[k][i]) and np.isfinite(v) else None
    return FrameRow(t=m.t, valid=m.valid, view=m.view, reference=m.reference, **angles)


def _neutral_record(neutral: Neutral) -> NeutralRecord:
    values_deg = {k: round(v, 2) for k, v in neutral.values_deg.items()}
    return NeutralRecord(neutral.source, neutral.t_start_s, neutral.t_end_s, values_deg)


PHOTO_HEAD_VS_CAMERA = (
    "Head angles in this photo are measured against the camera, not the trunk: the upper "
    "arms are not in the picture, so the trunk's turn is unknown. Sit square to the camera, "
    "or frame the photo to include the shoulders and upper arms."
)
PHOTO_PITCH_UNKNOWN = (
    "Head flexion from a photo assumes a level camera: a camera below the eyes and tilted "
    "up (a laptop on a desk) makes the head read bent back by about the camera's tilt. "
    "Measure the camera's level once (posture calibrate level) to correct it."
)


def at_least_warning(rom_key: str, lower_bound_deg: float) -> str:
    """The sentence for a direction whose peak is only a lower bound."""
    return (
        f"{ROM_BY_KEY[rom_key].phrase}: at least {lower_bound_deg:.0f} deg. The head moved "
        "further than the camera could follow, so the full range is not known and it is "
        "not judged."
    )


def _rom(
    t: Array,
    clean: dict[str, Array],
    options: AnalysisOptions,
    is_image: bool,
    warnings: list[str],
) -> tuple[dict[str, float | None], Neutral | None]:
    empty: dict[str, float | None] = dict.fromkeys(ROM_KEYS)
    if is_image:
        return empty, None
    head_measured = np.isfinite(clean["head_rotation_deg"])
    if not head_measured.any():
        return empty, None
    if t[head_measured][-1] - t[head_measured][0] < MIN_ROM_DURATION_S:
        warnings.append(
            "The recording is too short to measure range of motion "
            "(under 1 s with the face in view)."
        )
        return empty, None
    neutral: Neutral | None
    if options.neutral_deg is not None:
        neutral = Neutral(dict(options.neutral_deg), None, None, options.neutral_source)
    else:
        neutral = find_neutral(t, clean)
        if neutral is None:
            return empty, None
        if neutral.source != "still period":
            warnings.append(
                "No still period was found at the start to serve as neutral; range of motion "
                "is measured from the first second. Start recordings with 2 s of stillness."
            )
    return range_of_motion(clean, neutral), neutral


def _quality_warnings(
    measurements: list[FrameMeasurement],
    raw: dict[str, Array],
    people_max: int,
    is_image: bool,
) -> list[str]:
    out: list[str] = []
    n = len(measurements)
    valid = sum(m.valid for m in measurements)
    if people_max > 1:
        out.append(
            f"Several people were in view (up to {people_max}): the person who was largest and "
            "most central at the start was followed. Record one person at a time for best results."
        )
    if not is_image and valid < 0.5 * n:
        out.append(
            f"A person was measured in only {100 * valid / n:.0f}% of frames: keep the whole "
            "head and shoulders in view, with good light."
        )
    face_frames = int(np.isfinite(raw["head_rotation_deg"]).sum())
    body_frames = sum(1 for m in measurements if m.valid)
    if face_frames == 0 and body_frames > 0:
        out.append(
            "The face was not found (masked, turned away or too small), so head rotation, "
            "flexion and lateral flexion could not be measured."
        )
    elif not is_image and face_frames < 0.5 * body_frames:
        out.append(
            f"The face was found in only {100 * face_frames / max(body_frames, 1):.0f}% of the "
            "frames with a person: head angles are missing elsewhere."
        )
    if any(m.reference == "camera" and m.trunk_yaw_deg is None for m in measurements if m.valid):
        out.append(
            "The shoulders were not visible in some frames: head angles there are relative "
            "to the camera, not to the trunk."
        )
    if is_image:
        out.append("A single photo shows posture only; range of motion needs a video.")
    return out
