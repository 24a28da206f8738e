"""Head orientation from the face mesh: a rigid fit of a face template.

The face mesh gives 468 points with image positions and a relative depth. After
undoing perspective, a template face (the mean mesh of rendered heads at an
exactly known neutral, stored in the head's own axes) is fitted to them by
least squares (Kabsch) over the points that do not move with speech. The fitted
rotation is the head's orientation in the camera. A whole-shape fit stays
within ~2 deg at 60 deg of yaw, where a few point pairs read 30% short.

The face mesh also under-reports pitch, by about a seventh looking down (toward
the chest) and a sixth looking up, when it follows a moving head in a video;
gains fitted on the frames of rendered ROM videos whose bodies are not in the
accuracy benchmark (``benchmarks/fit_face_model.py --video-gains``) undo that,
on the pitch relative to the camera.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from posture.errors import PostureError
from posture.geometry.rotations import FACING_CAMERA, compose_head_angles, decompose_head_angles

FACE_MODEL_PATH = Path(__file__).resolve().parent / "data" / "face_model.npz"
RIGHT_EYE_POINTS: tuple[int, ...] = (33, 133)  # subject's right eye: outer, inner corner
LEFT_EYE_POINTS: tuple[int, ...] = (263, 362)
N_MESH = 468  # the refined mesh adds 10 iris points, not used for the fit


@dataclass(frozen=True)
class FaceModel:
    template: np.ndarray  # (468, 3) unit RMS size, head axes (x left, y back, z up)
    rigid: np.ndarray  # indices used in the fit
    pitch_gain: tuple[float, float]  # (looking down, looking up), relative to the camera
    pitch_zero_deg: float = 0.0  # raw pitch the face mesh reports for a level head


@lru_cache(maxsize=1)
def load_face_model(path: Path | None = None) -> FaceModel:
    """The fitted face model (FACE_MODEL_PATH by default); PostureError when the file is
    missing or unreadable: an incomplete installation, never replaced by defaults."""
    path = FACE_MODEL_PATH if path is None else path
    try:
        with np.load(path) as z:
            down, up = (float(g) for g in z["pitch_gain"])
            zero = float(z["pitch_zero_deg"]) if "pitch_zero_deg" in z else 0.0
            return FaceModel(z["template"].astype(float), z["rigid"], (down, up), zero)
    except FileNotFoundError as err:
        raise PostureError(
            f"The head-pose model file {path} is missing: the posture installation is "
            "incomplete, reinstall posture."
        ) from err
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise PostureError(
            f"The head-pose model file {path} cannot be read ({err}): the posture "
            "installation is incomplete, reinstall posture."
        ) from err


def undo_perspective(xyz: np.ndarray, focal_px: float, principal_px: np.ndarray) -> np.ndarray:
    """3D face points (up to scale) in camera axes from image points and relative depth.

    The face mesh gives image positions (perspective) and a depth offset from the
    head centre in the weak-perspective pixel scale, ``z_px = dZ * f / Z0``. Then
    ``Z / Z0 = 1 + z_px / f`` and ``X / Z0 = (u - cx) / f * Z / Z0``: the shape is
    recovered without knowing the distance. Without this, a face turned 80 deg at
    0.6 m reads about 5 deg too far.
    """
    depth = 1.0 + xyz[:, 2] / focal_px
    xy = (xyz[:, :2] - principal_px) / focal_px * depth[:, None]
    return np.column_stack([xy, depth])


def fit_rotation(template: np.ndarray, shape: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Rotation R (template axes -> camera) minimising sum |R a_i - b_i|^2 over ``index``."""
    a = template[index] - template[index].mean(axis=0)
    b = shape[index] - shape[index].mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def scale_pitch(
    r_head_cam: np.ndarray, gains: tuple[float, float], zero_deg: float = 0.0
) -> np.ndarray:
    """Correct the pitch relative to the camera as ``gain * (pitch - zero)``, with the
    (down, up) gain by direction; yaw and roll are kept."""
    yaw, pitch, roll = decompose_head_angles(FACING_CAMERA.T @ r_head_cam)
    d = pitch - zero_deg
    corrected = (gains[0] if d > 0 else gains[1]) * d
    return FACING_CAMERA @ compose_head_angles(yaw, corrected, roll)


def head_frame_from_face(
    xyz: np.ndarray,
    focal_px: float | None = None,
    principal_px: np.ndarray | None = None,
    model: FaceModel | None = None,
) -> np.ndarray | None:
    """Head frame (columns = left, back, up in camera axes) from (478, 3) face points.

    Points are pixels with z in the same pixel scale (as MediaPipe's face mesh
    gives them once scaled by the image width). With the camera's focal length
    (pixels) and principal point, perspective is undone first; without them the
    points are taken as a weak-perspective view. Returns None if points are missing.
    """
    model = model or load_face_model()
    if focal_px is not None and principal_px is not None:
        xyz = undo_perspective(xyz, focal_px, principal_px)
    shape = xyz[:N_MESH]
    if not np.all(np.isfinite(shape[model.rigid])):
        return None
    r = fit_rotation(model.template, shape, model.rigid)
    return scale_pitch(r, model.pitch_gain, model.pitch_zero_deg)


def eye_centres_px(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(subject's left eye, subject's right eye) centres in pixels, from the eye corners."""
    left = np.mean(xyz[list(LEFT_EYE_POINTS), :2], axis=0)
    right = np.mean(xyz[list(RIGHT_EYE_POINTS), :2], axis=0)
    return left, right
