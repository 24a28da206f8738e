"""Full-range head pose from a face crop: 3DDFA_V2's MobileNet (width 0.5) in onnxruntime.

The face mesh under-reads head yaw past ~60 deg; this network, trained on 300W-LP
(faces to +-90 deg of yaw), reads the whole range. It takes a 120x120 crop and gives
62 3DMM parameters whose first 12 are a weak-perspective pose ``[s R | t]`` (3x4). The
ONNX file (``data/head_pose_3ddfa_mb05.onnx``, exported by ``tools/export_3ddfa_onnx.py``)
holds 3DDFA_V2's input normalisation and parameter de-normalisation; it takes RGB.

Axes. 3DDFA's R maps the face model's axes (BFM: x = the subject's left, which is image
right on a frontal face; y = up; z = out of the face, toward the viewer) into the view's
(x = image right, y = image UP, z = toward the viewer). The project's camera axes are
x right, y down, z away (``D = diag(1, -1, -1)`` from the view's), and a head frame's
columns are the head's left, back and up axes, i.e. the BFM's ``e_x, -e_z, e_y``
(``M``). Hence ``R_head_cam = D @ R @ M``; ``D @ M`` is ``FACING_CAMERA``.
Checked on AFLW2000 (``benchmarks/head_pose_net_aflw.py``): the network's R agrees with
AFLW's ``Rx(-pitch) Ry(-yaw) Rz(-roll)`` within a few degrees (geodesic), and a face
turned toward image-left (AFLW yaw > 0, the subject's right) reads head rotation < 0.

(Mirrored images read the opposite rotation and lateral flexion: tests/test_head_pose_net.py.)

Crops. The network was trained on 3DDFA_V2's crop around 68 face landmarks. A box from
FaceMesh or from Pose's head points is re-framed from the network's own answer (where it
puts the face and how large) and run again; from Pose's rough head box,
:meth:`HeadPoseNet.estimate_around` also tries larger boxes. Every answer carries a
confidence: how well its crop is framed x whether the mirrored crop gives the mirrored
pose (a background patch scores ~0).

A weak-perspective model sees the head along the ray to the crop's centre, not along
the optical axis; given the focal length, :meth:`HeadPoseNet.estimate` turns the answer
by the rotation that takes the optical axis onto that ray.

Example::

    net = HeadPoseNet()
    pose = net.estimate(rgb, roi_box_from_face_mesh(face_xyz), focal_px=1000.0)
    rotation, flexion, lateral = decompose_head_angles(FACING_CAMERA.T @ pose.rotation)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np

from posture.arrays import Array
from posture.errors import PostureError
from posture.geometry.head import ray_rotation  # noqa: F401 - part of this module's API
from posture.geometry.rotations import nearest_rotation
from posture.landmarks.types import (
    LEFT_EAR,
    LEFT_EYE,
    LEFT_SHOULDER,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    NOSE,
    RIGHT_EAR,
    RIGHT_EYE,
    RIGHT_SHOULDER,
)

MODEL_PATH = Path(__file__).resolve().parent / "data" / "head_pose_3ddfa_mb05.onnx"
INPUT_SIZE = 120  # px, the network's square input

# BFM (view) axes -> camera axes, and head axes (left, back, up) written in BFM axes.
VIEW_TO_CAMERA = np.diag([1.0, -1.0, -1.0])
HEAD_IN_BFM = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

# Where 3DDFA_V2's crop (``parse_roi_box_from_landmark`` on the 68 landmarks) puts a
# face, read back from the network's own pose: on the 75 aflw2000_subset faces cropped
# that way, ``s R FACE_CENTRE_BFM + t`` lands at CROP_CENTRE (rms 3.4 px of 120) and the
# scale s is SCALE_AT_0 + SCALE_PER_SIN_YAW * |sin yaw| (a profile's 68-point box is
# narrower, so the crop is tighter). Used to re-frame a rough crop and to grade it.
# (``benchmarks/head_pose_net_aflw.py --calibrate`` prints these.)
FACE_CENTRE_BFM = np.array([1294.5, -22455.7, 61870.4])
CROP_CENTRE = np.array([61.0, 60.0])  # the crop's centre in 3DDFA's (x + 1, y up) pixels
SCALE_AT_0 = 5.70e-4
SCALE_PER_SIN_YAW = 0.48e-4
# Crop quality: 1 for a face framed as in training, 0.5 at this shift (fraction of the
# box) or this scale error (ratio).
QUALITY_HALF_SHIFT = 0.15
QUALITY_HALF_SCALE = 1.3
# A rough box (from pose landmarks) is tried at these sizes about its centre: on face
# close-ups Pose often puts the head on the ear or one eye, and a larger first crop lets
# the re-framing find the face (aflw2000_subset, 60-75 deg: yaw MAE 48 -> 5 deg).
SEARCH_SCALES = (1.0, 1.6, 2.5, 4.0)
# A search answer whose face lies farther than this (fraction of its crop side) from the
# rough box's centre is someone else's face (on aflw2000_subset right answers drift at
# most 0.60).
MAX_SEARCH_DRIFT = 0.75
# Mirror check: the confidence halves at this disagreement (deg) between the answer and
# the un-mirrored answer on the mirrored crop (see HeadPose.mirror_disagreement_deg).
MIRROR_HALF_DEG = 8.0
# Mirroring a crop flips the BFM's x axis (the face model is left-right symmetric).
MIRROR_BFM = np.diag([-1.0, 1.0, 1.0])

# 3DDFA_V2's box around FaceMesh points is taller than around the 68 landmarks (the
# mesh covers the forehead): on aflw2000_subset the 68-point box is this much smaller
# and lower (fraction of the mesh box size).
FACE_MESH_SCALE = 0.887
FACE_MESH_SHIFT_DOWN = 0.065
# Box around the head from pose landmarks. Its side is the largest of: the longer
# nose-ear distance x 3.0 (the median on aflw2000_subset: 3.04; the hidden ear of a
# profile is predicted near the visible one, so this distance keeps its length), the
# longer eye-ear distance x 3.4 (a profile's ratio there, ~3.2; frontal faces give 6
# but are covered by the nose-ear term) and the shoulder width x 0.55 (a floor, for a
# head whose points collapse). Its centre is 0.09 side below the mean of the head
# points (subset median 0.093). Re-framing absorbs the rest (0.6-1.8x, 15% off).
HEAD_BOX_PER_NOSE_EAR = 3.0
HEAD_BOX_PER_EYE_EAR = 3.4
HEAD_BOX_PER_SHOULDERS = 0.55
HEAD_BOX_SHIFT_DOWN = 0.09
HEAD_POINTS = (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR, MOUTH_LEFT, MOUTH_RIGHT)

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass(frozen=True)
class HeadPose:
    """One head pose from the network.

    Attributes:
        rotation: (3, 3) head frame in camera axes: columns = the head's left, back and
            up axes (x right, y down, z away from the camera).
        roi_box: the crop (x0, y0, x1, y1 px) the answer came from (after re-framing).
        confidence: 0..1, ``crop_quality`` x the mirror check (1 at 0 deg, 0.5 at
            MIRROR_HALF_DEG). Low: a poor crop, or something that is not a face (the
            back of a head, hair), or the wrong face.
        crop_quality: 0..1, how closely that crop frames the face as 3DDFA_V2 was
            trained (1 = centred and sized as the training crops).
        crop_shift: distance (fraction of the box side) between the crop's centre and
            where the network puts the face's centre.
        crop_scale: the box side the network asks for / the side given.
        mirror_disagreement_deg: rotation (deg) between the answer and the mirrored
            answer on the mirrored crop; a real face's pose mirrors (on aflw2000_subset
            95% of right answers within 4.1 deg, 20 of 21 wrong ones beyond 11 deg).
            NaN when not checked.
        params: the 62 de-normalised 3DMM parameters of that crop.
    """

    rotation: Array
    roi_box: Box
    confidence: float
    crop_quality: float
    crop_shift: float
    crop_scale: float
    mirror_disagreement_deg: float
    params: Array


def roi_box_from_points(points_xy: Array) -> Box:
    """3DDFA_V2's ``parse_roi_box_from_landmark``: the points' bounding square, enlarged
    to its diagonal (x sqrt 2), same centre. Meant for the 68 landmarks (AFLW's
    ``pt3d_68``); for FaceMesh points use :func:`roi_box_from_face_mesh`."""
    xy = np.asarray(points_xy, dtype=float)[:, :2]
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if len(xy) < 2:
        raise ValueError("need at least two finite points for a face box")
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    centre = (lo + hi) / 2
    side = float(np.max(hi - lo)) * np.sqrt(2.0)
    return _square(centre, side)


def roi_box_from_face_mesh(xyz: Array) -> Box:
    """The crop 3DDFA_V2 would take around this face, from FaceMesh's (478, 2 or 3) points."""
    x0, y0, x1, y1 = roi_box_from_points(np.asarray(xyz)[:468, :2])
    side = (x1 - x0) * FACE_MESH_SCALE
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2 + FACE_MESH_SHIFT_DOWN * (x1 - x0)])
    return _square(centre, side)


def roi_box_from_head(
    pose_xy: Array, visibility: Array | None = None, min_visibility: float = 0.3
) -> Box | None:
    """A face crop from MediaPipe Pose's head landmarks (33-point pose, pixels).

    Centre: the mean of the nose, eyes, ears and mouth corners (all predicted, also the
    hidden ear of a profile). Side: from the longer nose-ear and eye-ear distances, which
    keep their length when the head turns 90 deg (the ear-to-ear and eye-to-eye
    distances shrink to nothing), with the shoulder width as a floor. The box is
    rough: :meth:`HeadPoseNet.estimate` re-frames it. None when the nose is not seen.
    """
    xy = np.asarray(pose_xy, dtype=float)
    if visibility is not None and visibility[NOSE] < min_visibility:
        return None
    if not np.all(np.isfinite(xy[list(HEAD_POINTS)])):
        return None
    nose_ear = max(_dist(xy, NOSE, LEFT_EAR), _dist(xy, NOSE, RIGHT_EAR))
    eye_ear = max(_dist(xy, LEFT_EYE, LEFT_EAR), _dist(xy, RIGHT_EYE, RIGHT_EAR))
    side = max(HEAD_BOX_PER_NOSE_EAR * nose_ear, HEAD_BOX_PER_EYE_EAR * eye_ear)
    shoulders = _dist(xy, LEFT_SHOULDER, RIGHT_SHOULDER)
    if np.isfinite(shoulders):
        side = max(side, HEAD_BOX_PER_SHOULDERS * shoulders)
    if side < 8.0:
        return None
    centre = np.mean(xy[list(HEAD_POINTS)], axis=0) + [0.0, HEAD_BOX_SHIFT_DOWN * side]
    return _square(centre, side)


# The same function under the name the adapter's first integration calls.
roi_box_from_pose = roi_box_from_head


def rotation_from_params(params: Array) -> Array:
    """3DDFA's rotation (BFM axes -> view axes) from the 3x4 pose: the nearest rotation
    (SVD) to its 3x3 part, which carries the scale and some skew."""
    return nearest_rotation(np.asarray(params[:12], dtype=float).reshape(3, 4)[:, :3])


def head_frame_from_bfm(r_bfm: Array) -> Array:
    """The project's head frame (columns left, back, up in camera axes) from 3DDFA's R."""
    r_head: Array = VIEW_TO_CAMERA @ r_bfm @ HEAD_IN_BFM
    return r_head


def bfm_from_head_frame(r_head_cam: Array) -> Array:
    """Inverse of :func:`head_frame_from_bfm`."""
    r_bfm: Array = VIEW_TO_CAMERA @ r_head_cam @ HEAD_IN_BFM.T
    return r_bfm


def crop_for_net(rgb: Array, roi_box: Box) -> Array:
    """The 120x120 RGB crop of ``roi_box``, as 3DDFA_V2's ``crop_img`` + ``cv2.resize``
    (bilinear, pixel centres aligned; outside the image is black) in one warp."""
    import cv2

    x0, y0, x1, y1 = (float(v) for v in roi_box)
    sx, sy = (x1 - x0) / INPUT_SIZE, (y1 - y0) / INPUT_SIZE
    # dst = (src - x0 + 0.5) / s - 0.5, cv2.resize's centre alignment
    m = np.array([[1 / sx, 0.0, (0.5 - x0) / sx - 0.5], [0.0, 1 / sy, (0.5 - y0) / sy - 0.5]])
    return cv2.warpAffine(
        rgb, m, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0),
    )  # fmt: skip


class HeadPoseNet:
    """The head-pose network, loaded once; one instance per thread.

    Args:
        model_path: the ONNX file (default :data:`MODEL_PATH`). A missing or unreadable
            file raises :class:`PostureError`: there is no fallback.
        reframe_steps: times the crop is re-framed from the network's own answer (where
            it puts the face and how large) before the final run; each costs one more
            inference (~1 ms). 0 uses the given box as is. On aflw2000_subset, one step
            makes a box 0.6-1.8x too large or 15% off centre as good as 3DDFA_V2's own
            crop; a second also converges from the rough boxes of pose landmarks.
    """

    def __init__(self, model_path: Path | str | None = None, reframe_steps: int = 2) -> None:
        import onnxruntime

        path = Path(model_path) if model_path is not None else MODEL_PATH
        if not path.is_file():
            raise PostureError(
                f"The head-pose network file {path} is missing: the posture installation "
                "is incomplete, reinstall posture."
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own untyped errors
            raise PostureError(
                f"The head-pose network file {path} cannot be read ({err}): reinstall posture."
            ) from err
        self._input = self._session.get_inputs()[0].name
        self.reframe_steps = reframe_steps

    def params(self, rgb_image: Array, roi_box: Box) -> Array:
        """The 62 de-normalised 3DMM parameters of the face in ``roi_box`` (RGB uint8)."""
        params: Array = self._run(crop_for_net(rgb_image, roi_box)[None])[0]
        return params

    def _run(self, crops: Array) -> Array:
        """(N, 120, 120, 3) uint8 RGB crops -> (N, 62) parameters."""
        x = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)
        out: Array = self._session.run(None, {self._input: x})[0].astype(float)
        return out

    def estimate(
        self,
        rgb_image: Array,
        roi_box: Box,
        focal_px: float | None = None,
        principal_px: Array | None = None,
        mirror_check: bool = True,
    ) -> HeadPose:
        """Head pose of the face in ``roi_box`` of an RGB image.

        Args:
            rgb_image: (H, W, 3) uint8 RGB.
            roi_box: (x0, y0, x1, y1) pixels, square, from :func:`roi_box_from_points`,
                :func:`roi_box_from_face_mesh` or :func:`roi_box_from_head` (or the
                ``roi_box`` of the previous frame's answer, in a video).
            focal_px: focal length in pixels; given, the pose is corrected for viewing
                the head off the optical axis. None: weak perspective along the axis.
            principal_px: principal point; default the image centre.
            mirror_check: also run the mirrored final crop (in the same call) for the
                confidence figure.
        """
        box = cast(Box, tuple(float(v) for v in roi_box))
        params = np.empty(0)
        for step in range(self.reframe_steps + 1):
            if step:
                box = _reframed(params, box)
            crop = crop_for_net(rgb_image, box)
            last = step == self.reframe_steps
            out = self._run(
                np.stack([crop, crop[:, ::-1]]) if last and mirror_check else crop[None]
            )
            params = out[0]
        r_bfm = rotation_from_params(params)
        mirror = float("nan")
        if mirror_check:
            r_mirror = MIRROR_BFM @ rotation_from_params(out[1]) @ MIRROR_BFM
            mirror = _angle_deg(r_bfm.T @ r_mirror)
        shift, scale = _framing(params, box)
        quality = float(
            np.exp(-np.log(2) * ((shift / QUALITY_HALF_SHIFT) ** 2
                                 + (np.log(scale) / np.log(QUALITY_HALF_SCALE)) ** 2))
        )  # fmt: skip
        confidence = quality * (0.5 ** ((mirror / MIRROR_HALF_DEG) ** 2) if mirror_check else 1)
        r_head = head_frame_from_bfm(r_bfm)
        if focal_px is not None:
            h, w = rgb_image.shape[:2]
            principal = (
                np.array([w / 2, h / 2]) if principal_px is None else np.asarray(principal_px)
            )
            centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
            r_head = ray_rotation(centre, focal_px, principal) @ r_head
        return HeadPose(r_head, box, confidence, quality, shift, scale, mirror, params)

    def estimate_around(
        self,
        rgb_image: Array,
        roi_box: Box,
        focal_px: float | None = None,
        principal_px: Array | None = None,
        scales: tuple[float, ...] = SEARCH_SCALES,
    ) -> HeadPose:
        """:meth:`estimate` for a rough box (e.g. :func:`roi_box_from_head`): the box is
        tried at each of ``scales`` about its centre and the answer with the highest
        ``confidence`` is kept, among those whose face stays near the box's centre (the
        larger tries can reach a neighbour's face); if none does, the best is returned
        with confidence 0. Costs ``len(scales)`` estimates."""
        centre = np.array([(roi_box[0] + roi_box[2]) / 2, (roi_box[1] + roi_box[3]) / 2])
        side = float(roi_box[2] - roi_box[0])
        tries = [
            self.estimate(rgb_image, _square(centre, side * k), focal_px, principal_px)
            for k in scales
        ]
        near = [p for p in tries if _drift(p.roi_box, centre) <= MAX_SEARCH_DRIFT]
        if near:
            return max(near, key=lambda p: p.confidence)
        return replace(max(tries, key=lambda p: p.confidence), confidence=0.0)


def _drift(box: Box, centre: Array) -> float:
    """Distance from ``centre`` to the box's centre, as a fraction of the box's side."""
    own = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    return float(np.linalg.norm(own - centre) / (box[2] - box[0]))


def _face_box_in_crop(params: Array) -> tuple[Array, float]:
    """Where the network puts the face's landmark box (centre, crop px with y down, as
    3DDFA_V2's ``similar_transform``) and the side of the training crop it implies."""
    p = np.asarray(params[:12], dtype=float).reshape(3, 4)
    s = float(np.mean(np.linalg.norm(p[:2, :3], axis=1)))
    r = rotation_from_params(params)
    centre_up = s * (r[:2] @ FACE_CENTRE_BFM) + p[:2, 3]
    centre = np.array([centre_up[0] - 1.0, INPUT_SIZE - centre_up[1]])
    sin_yaw = abs(float(r[0, 2]))  # |sin| of the turn about the vertical
    side = INPUT_SIZE * s / (SCALE_AT_0 + SCALE_PER_SIN_YAW * sin_yaw)
    return centre, side


def _reframed(params: Array, box: Box) -> Box:
    """The box 3DDFA_V2's landmark crop would have given, from this crop's answer."""
    centre, side = _face_box_in_crop(params)
    k = (box[2] - box[0]) / INPUT_SIZE
    return _square(np.array([box[0], box[1]]) + centre * k, side * k)


def _framing(params: Array, box: Box) -> tuple[float, float]:
    """(shift as a fraction of the box, asked side / given side) of this crop."""
    centre, side = _face_box_in_crop(params)
    shift = np.linalg.norm(centre - INPUT_SIZE / 2) / INPUT_SIZE
    return float(shift), float(side / INPUT_SIZE)


def _angle_deg(r: Array) -> float:
    """Angle (deg) of a rotation matrix."""
    return float(np.degrees(np.arccos(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0))))


def _square(centre: Array, side: float) -> Box:
    h = side / 2
    return (float(centre[0] - h), float(centre[1] - h), float(centre[0] + h), float(centre[1] + h))


def _dist(xy: Array, i: int, j: int) -> float:
    return float(np.linalg.norm(xy[i] - xy[j]))
