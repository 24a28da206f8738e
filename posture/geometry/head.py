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
from typing import overload

import numpy as np

from posture.arrays import Array
from posture.errors import PostureError
from posture.geometry.rotations import FACING_CAMERA, compose_head_angles, decompose_head_angles

FACE_MODEL_PATH = Path(__file__).resolve().parent / "data" / "face_model.npz"
RIGHT_EYE_POINTS: tuple[int, ...] = (33, 133)  # subject's right eye: outer, inner corner
LEFT_EYE_POINTS: tuple[int, ...] = (263, 362)
N_MESH = 468  # the refined mesh adds 10 iris points, not used for the fit


@dataclass(frozen=True)
class FaceModel:
    template: Array  # (468, 3) unit RMS size, head axes (x left, y back, z up)
    rigid: Array  # indices used in the fit
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


def undo_perspective(xyz: Array, focal_px: float, principal_px: Array) -> Array:
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


def fit_rotation(template: Array, shape: Array, index: Array) -> Array:
    """Rotation R (template axes -> camera) minimising sum |R a_i - b_i|^2 over ``index``."""
    a = template[index] - template[index].mean(axis=0)
    b = shape[index] - shape[index].mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r: Array = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r


def scale_pitch(r_head_cam: Array, gains: tuple[float, float], zero_deg: float = 0.0) -> Array:
    """Correct the pitch relative to the camera as ``gain * (pitch - zero)``, with the
    (down, up) gain by direction; yaw and roll are kept."""
    yaw, pitch, roll = decompose_head_angles(FACING_CAMERA.T @ r_head_cam)
    d = pitch - zero_deg
    corrected = (gains[0] if d > 0 else gains[1]) * d
    return FACING_CAMERA @ compose_head_angles(yaw, corrected, roll)


def head_frame_from_face(
    xyz: Array,
    focal_px: float | None = None,
    principal_px: Array | None = None,
    model: FaceModel | None = None,
) -> Array | None:
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


def eye_centres_px(xyz: Array) -> tuple[Array, Array]:
    """(subject's left eye, subject's right eye) centres in pixels, from the eye corners."""
    left = np.mean(xyz[list(LEFT_EYE_POINTS), :2], axis=0)
    right = np.mean(xyz[list(RIGHT_EYE_POINTS), :2], axis=0)
    return left, right


def ray_rotation(point_px: Array, focal_px: float, principal_px: Array) -> Array:
    """The smallest rotation taking the optical axis (0, 0, 1) onto the ray through
    ``point_px`` (camera axes)."""
    d = np.array([*((np.asarray(point_px, float) - principal_px) / focal_px), 1.0])
    d /= np.linalg.norm(d)
    axis = np.cross([0.0, 0.0, 1.0], d)
    s, c = float(np.linalg.norm(axis)), float(d[2])
    if s < 1e-12:
        return np.eye(3)
    k = axis / s
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    r: Array = np.eye(3) + s * kx + (1.0 - c) * kx @ kx
    return r


def ray_corrected(rotation: Array, centre_px: Array, focal_px: float, principal_px: Array) -> Array:
    """A weak-perspective head rotation (as seen by a camera looking straight at the head's
    crop) in the real camera's axes: turned by the rotation that takes the optical axis
    onto the ray through the crop's centre. A head 20 deg off the optical axis would
    otherwise read 20 deg of yaw or pitch that it does not have."""
    return ray_rotation(centre_px, focal_px, principal_px) @ rotation


def yaw_from_camera_deg(r_head_cam: Array) -> float:
    """How far (deg) the head is turned away from facing the camera, about the camera's
    vertical (+ = the subject's left)."""
    return decompose_head_angles(FACING_CAMERA.T @ r_head_cam)[0]


def away_from_camera_deg(r_head_cam: Array, view: Array | None = None) -> float:
    """How far (deg) the face points away from the camera, in any direction: the angle
    between the face's forward axis (minus the head's back axis) and the direction to the
    camera. Free of any Euler order (a face turned 80 deg and tipped 30 is 81 deg away).

    ``view``: the rotation taking the optical axis onto the ray to the head
    (:func:`ray_rotation`); the angle is then taken against that ray, the line the camera
    sees the face along, instead of the optical axis. A head near the edge of a wide view
    that looks straight at the lens is 0 deg away, not the ray's 30: it is the angle to
    the line of sight that decides what the face mesh and the network can follow."""
    r = r_head_cam if view is None else view.T @ r_head_cam
    return float(np.degrees(np.arccos(np.clip(r[2, 1], -1.0, 1.0))))


# The face mesh follows the head well while it faces the camera, and under-reads past
# about 45 deg (real faces: yaw 12 deg short at 60-75 deg, 19 at 75-90; renders: extension
# 12-17 deg short at 60) until it loses the face; the head-pose network follows the whole
# range. Between these angles from the camera (by the network) the head angle moves from
# the mesh fit to the network's, so that nothing jumps.
BLEND_FROM_DEG = 35.0
BLEND_TO_DEG = 55.0


@overload
def fused_head(r_mesh: Array | None, r_net: Array) -> Array: ...
@overload
def fused_head(r_mesh: Array | None, r_net: Array | None) -> Array | None: ...


def fused_head(r_mesh: Array | None, r_net: Array | None) -> Array | None:
    """The head frame from the face-mesh fit and the network (either may be missing).

    The blend follows the network's angle from the optical axis, the measure the band was
    chosen with (the fit bodies' ROM videos). Taken from the line of sight instead, it
    moved extension on the bundled ROM video from 35.1 to 39.6 deg for a true 35 (the
    head sits above the middle of the view), so the band keeps its measure; the 95 deg
    limit, which is about what the network sees in its crop, uses the line of sight."""
    if r_net is None:
        return r_mesh
    if r_mesh is None:
        return r_net
    away = away_from_camera_deg(r_net)
    w = float(np.clip((away - BLEND_FROM_DEG) / (BLEND_TO_DEG - BLEND_FROM_DEG), 0.0, 1.0))
    if w <= 0.0:
        return r_mesh
    if w >= 1.0:
        return r_net
    from scipy.spatial.transform import Rotation

    delta = Rotation.from_matrix(r_mesh.T @ r_net).as_rotvec()
    blended: Array = r_mesh @ Rotation.from_rotvec(w * delta).as_matrix()
    return blended


def models_disagree(r_mesh: Array | None, r_net: Array | None) -> bool:
    """True when the face-mesh fit and the network, both found, are further apart than
    :data:`MAX_MODEL_DISAGREEMENT_DEG` while the mesh still carries weight in the blend
    (the network's head within :data:`BLEND_TO_DEG` of the camera). There the two follow
    the same head within a few degrees, so one of them has misread the face: neither is
    reported. Beyond the blend the mesh is expected to fall short and is not asked."""
    if r_mesh is None or r_net is None or away_from_camera_deg(r_net) >= BLEND_TO_DEG:
        return False
    cos = (np.trace(r_mesh.T @ r_net) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))) > MAX_MODEL_DISAGREEMENT_DEG


# Mesh and network apart by more than this (deg, geodesic) where both count: one misread the
# face. Largest seen where the mesh counts, on fit sets only: 28.5 in any frame of the fit
# bodies' 8 full- and restricted-range videos, 16.6 on the AFLW2000 subset. Held-out real
# faces (aflw2000_wide) show 46 and 72 on the two photos whose yaw was read 72 and 47 deg off.
MAX_MODEL_DISAGREEMENT_DEG = 35.0


# Frames where both the mesh fit and the network are trusted to agree up to a constant:
# the head within this angle (deg) of facing the camera.
ALIGN_WITHIN_DEG = 25.0
ALIGN_MIN_FRAMES = 10


def net_alignment(pairs: list[tuple[Array, Array]]) -> Array | None:
    """The constant rotation D (head axes) with ``mesh ~ net @ D`` over (mesh, net) pairs
    of one recording's frames near facing the camera, or None with too few.

    Each model has its own idea of a level, straight head (on renders the network reads
    a neutral head 6 deg more bent than the mesh fit): a bias in the head's own axes, so
    it turns with the head. A recording measured by the mesh at neutral and by the
    network at the end of a movement would carry that difference into its range of
    motion. The mean is the chordal one (the SVD projection of the sum)."""
    kept = [
        (m, n)
        for m, n in pairs
        if away_from_camera_deg(n) <= ALIGN_WITHIN_DEG
        and away_from_camera_deg(m) <= ALIGN_WITHIN_DEG
    ]
    if len(kept) < ALIGN_MIN_FRAMES:
        return None
    total = sum(n.T @ m for m, n in kept)
    u, _, vt = np.linalg.svd(total)
    mean: Array = u @ np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))]) @ vt
    return mean
