"""Calibration profiles: readable JSON files, one per camera and one per subject.

Layout (``profiles_dir()``)::

    cameras/NAME.json    lens (intrinsics, distortion) and level (roll, pitch)
    subjects/ID.json     the subject's neutral head angles

The folder is ``$POSTURE_CALIBRATION_DIR`` when set, else the user's data folder
(``platformdirs.user_data_dir("posture")/calibration``). See calibration/README.md
for the fields.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from posture.arrays import Array
from posture.errors import InputError
from posture.io.bounded import (
    MAX_PROFILE_BYTES,
    FileTooLarge,
    read_text_at_most,
    too_large_sentence,
)

ENV_DIR = "POSTURE_CALIBRATION_DIR"
CAMERA_KIND = "posture camera profile"
SUBJECT_KIND = "posture subject neutral"
FORMAT_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Frames of another aspect ratio come from another part of the sensor (photo 4:3
# vs video 16:9): the lens figures no longer apply.
ASPECT_TOLERANCE = 0.01


def profiles_dir() -> Path:
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("posture")) / "calibration"


def camera_path(name: str) -> Path:
    return profiles_dir() / "cameras" / f"{check_name(name, 'camera name')}.json"


def subject_path(subject_id: str) -> Path:
    return profiles_dir() / "subjects" / f"{check_name(subject_id, 'subject ID')}.json"


def check_name(name: str, what: str) -> str:
    """Profile names become file names: letters, digits, '.', '_' and '-' only."""
    if not _NAME_RE.match(name or ""):
        raise InputError(
            f"'{name}' cannot be used as a {what}: use up to 64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit."
        )
    return name


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Intrinsics:
    """A camera's lens at one picture size: focal lengths and principal point in pixels,
    OpenCV distortion coefficients (k1, k2, p1, p2, k3)."""

    width_px: int
    height_px: int
    fx_px: float
    fy_px: float
    cx_px: float
    cy_px: float
    distortion: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)

    def matrix(self) -> Array:
        return np.array(
            [[self.fx_px, 0.0, self.cx_px], [0.0, self.fy_px, self.cy_px], [0.0, 0.0, 1.0]]
        )

    @property
    def focal_px(self) -> float:
        """One focal length for code that assumes square pixels (phones and webcams have them)."""
        return (self.fx_px + self.fy_px) / 2

    def scaled_to(self, width_px: int, height_px: int) -> Intrinsics:
        """The same lens for pictures scaled to another size (same aspect ratio).

        Pixel centres sit at integer coordinates, so the principal point scales
        about the corner at (-0.5, -0.5). Distortion is in normalised
        coordinates and does not change.
        """
        sx, sy = width_px / self.width_px, height_px / self.height_px
        return replace(
            self,
            width_px=width_px,
            height_px=height_px,
            fx_px=self.fx_px * sx,
            fy_px=self.fy_px * sy,
            cx_px=(self.cx_px + 0.5) * sx - 0.5,
            cy_px=(self.cy_px + 0.5) * sy - 0.5,
        )


def default_intrinsics(width_px: int, height_px: int) -> Intrinsics:
    """What the pipeline assumes without calibration: a 65 deg lens, centred, no distortion."""
    from posture.geometry.measure import default_focal_px

    f = float(default_focal_px(width_px, height_px))
    return Intrinsics(width_px, height_px, f, f, (width_px - 1) / 2, (height_px - 1) / 2)


@dataclass(frozen=True)
class LensCalibration:
    intrinsics: Intrinsics
    reprojection_error_px: float
    views_used: int
    board: dict[str, Any]
    calibrated_at: str


@dataclass(frozen=True)
class Level:
    """The camera's attitude against gravity (see posture.geometry.posture_angles).

    roll_deg: + = camera rolled clockwise as seen from behind it.
    pitch_deg: + = camera looking down; None when not measurable (a marked line,
        or a lens that was not calibrated).
    """

    roll_deg: float
    pitch_deg: float | None
    method: str  # "board" or "line"
    width_px: int
    height_px: int
    views_used: int
    spread_deg: float | None
    measured_at: str


@dataclass(frozen=True)
class CameraProfile:
    name: str
    lens: LensCalibration | None = None
    level: Level | None = None

    def to_dict(self) -> dict[str, Any]:
        lens = None
        if self.lens is not None:
            k = self.lens.intrinsics
            lens = {
                "image_width_px": k.width_px,
                "image_height_px": k.height_px,
                "fx_px": round(k.fx_px, 3),
                "fy_px": round(k.fy_px, 3),
                "cx_px": round(k.cx_px, 3),
                "cy_px": round(k.cy_px, 3),
                "distortion_k1_k2_p1_p2_k3": [round(v, 6) for v in k.distortion],
                "reprojection_error_px": round(self.lens.reprojection_error_px, 4),
                "views_used": self.lens.views_used,
                "board": self.lens.board,
                "calibrated_at": self.lens.calibrated_at,
            }
        level = None
        if self.level is not None:
            lv = self.level
            level = {
                "roll_deg": round(lv.roll_deg, 3),
                "pitch_deg": None if lv.pitch_deg is None else round(lv.pitch_deg, 3),
                "method": lv.method,
                "image_width_px": lv.width_px,
                "image_height_px": lv.height_px,
                "views_used": lv.views_used,
                "spread_deg": None if lv.spread_deg is None else round(lv.spread_deg, 3),
                "measured_at": lv.measured_at,
            }
        return {
            "kind": CAMERA_KIND,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "lens": lens,
            "level": level,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CameraProfile:
        lens = level = None
        if d.get("lens"):
            x = d["lens"]
            k = Intrinsics(
                int(x["image_width_px"]), int(x["image_height_px"]),
                float(x["fx_px"]), float(x["fy_px"]), float(x["cx_px"]), float(x["cy_px"]),
                tuple(float(v) for v in x["distortion_k1_k2_p1_p2_k3"]),
            )  # fmt: skip
            lens = LensCalibration(
                k,
                float(x["reprojection_error_px"]),
                int(x["views_used"]),
                dict(x.get("board") or {}),
                str(x["calibrated_at"]),
            )
        if d.get("level"):
            x = d["level"]
            level = Level(
                float(x["roll_deg"]),
                None if x.get("pitch_deg") is None else float(x["pitch_deg"]),
                str(x["method"]),
                int(x["image_width_px"]),
                int(x["image_height_px"]),
                int(x.get("views_used", 1)),
                None if x.get("spread_deg") is None else float(x["spread_deg"]),
                str(x["measured_at"]),
            )
        return cls(str(d["name"]), lens, level)


@dataclass(frozen=True)
class SubjectNeutral:
    """A subject's neutral: head angles (deg) that ROM is measured from, and their posture."""

    subject: str
    neutral_deg: dict[str, float]
    posture_deg: dict[str, float | None]
    view: str
    camera: str | None
    recorded_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": SUBJECT_KIND, "format_version": FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubjectNeutral:
        return cls(
            str(d["subject"]),
            {str(k): float(v) for k, v in d["neutral_deg"].items()},
            {str(k): None if v is None else float(v) for k, v in d["posture_deg"].items()},
            str(d.get("view", "unknown")),
            d.get("camera"),
            str(d["recorded_at"]),
        )


# -- files ---------------------------------------------------------------------------------


def _read(path: Path, kind: str, what: str, make_hint: str) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"No {what} is stored at {path}: {make_hint}")
    try:
        data = json.loads(read_text_at_most(path, MAX_PROFILE_BYTES))
    except FileTooLarge as err:
        raise InputError(too_large_sentence(what, path, err.limit_bytes)) from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(
            f"The {what} file {path} is not readable JSON: make it again ({make_hint})"
        ) from err
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise InputError(f"{path} is not a {what} file: make it again ({make_hint})")
    return data


def _write(path: Path, data: dict[str, Any]) -> Path:
    from posture.io.private import private_dir
    from posture.report import write_atomic

    private_dir(path.parent)

    def write(fh: TextIO) -> None:
        fh.write(json.dumps(data, indent=2, allow_nan=False) + "\n")

    write_atomic(path, write)
    return path


def load_camera(name: str) -> CameraProfile:
    path = camera_path(name)
    data = _read(
        path,
        CAMERA_KIND,
        f"camera profile '{name}'",
        f"run 'posture calibrate camera' or 'posture calibrate level' with --name {name}.",
    )
    try:
        return CameraProfile.from_dict(data)
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(
            f"The camera profile {path} is incomplete or damaged: calibrate the camera again."
        ) from err


def load_camera_or_new(name: str) -> CameraProfile:
    return load_camera(name) if camera_path(name).is_file() else CameraProfile(name)


def save_camera(profile: CameraProfile) -> Path:
    return _write(camera_path(profile.name), profile.to_dict())


def load_subject(subject_id: str) -> SubjectNeutral:
    path = subject_path(subject_id)
    data = _read(
        path,
        SUBJECT_KIND,
        f"neutral for subject '{subject_id}'",
        f"record one with 'posture calibrate neutral VIDEO --subject {subject_id}'.",
    )
    try:
        return SubjectNeutral.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(
            f"The subject file {path} is incomplete or damaged: record the neutral again."
        ) from err


def save_subject(neutral: SubjectNeutral) -> Path:
    return _write(subject_path(neutral.subject), neutral.to_dict())


def delete_subject_files(subject_id: str) -> list[Path]:
    """Remove the subject's calibration neutral; returns what was removed (an ID that
    cannot name a file has none)."""
    try:
        path = subject_path(subject_id)
    except InputError:
        return []
    try:
        path.unlink()
    except FileNotFoundError:
        return []
    return [path]


# -- fitting a profile to the frames being analysed ------------------------------------------


def _orientation(width_px: int, height_px: int) -> str:
    return "portrait" if height_px > width_px else "landscape"


def check_same_orientation(
    profile_size: tuple[int, int], frame_size: tuple[int, int], name: str
) -> None:
    if _orientation(*profile_size) != _orientation(*frame_size):
        raise InputError(
            f"The camera profile '{name}' was made with {_orientation(*profile_size)} pictures "
            f"but this input is {_orientation(*frame_size)}: calibrate the camera held the "
            "same way as for the recording."
        )


def lens_for_frame(profile: CameraProfile, width_px: int, height_px: int) -> Intrinsics | None:
    """The profile's lens scaled to the analysed frame; refuses another shape of picture."""
    if profile.lens is None:
        return None
    k = profile.lens.intrinsics
    check_same_orientation((k.width_px, k.height_px), (width_px, height_px), profile.name)
    aspect_profile, aspect_frame = k.width_px / k.height_px, width_px / height_px
    if abs(aspect_frame / aspect_profile - 1) > ASPECT_TOLERANCE:
        raise InputError(
            f"The camera profile '{profile.name}' was made at {k.width_px}x{k.height_px} but "
            f"this input is {width_px}x{height_px} (another picture shape, so another part of "
            "the sensor): calibrate the lens with the same camera mode as the recording."
        )
    return k.scaled_to(width_px, height_px)


def roll_for_frame(profile: CameraProfile, width_px: int, height_px: int) -> float | None:
    if profile.level is None:
        return None
    lv = profile.level
    check_same_orientation((lv.width_px, lv.height_px), (width_px, height_px), profile.name)
    return lv.roll_deg


def pitch_for_frame(profile: CameraProfile, width_px: int, height_px: int) -> float | None:
    """The camera's pitch (deg, + = looking down); None when the level has no pitch."""
    if profile.level is None or profile.level.pitch_deg is None:
        return None
    lv = profile.level
    check_same_orientation((lv.width_px, lv.height_px), (width_px, height_px), profile.name)
    return lv.pitch_deg
