"""One frame's landmarks -> the contract's angles for that frame."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np

from posture.arrays import Array
from posture.geometry.head import (
    away_from_camera_deg,
    eye_centres_px,
    fused_head,
    head_frame_from_face,
    models_disagree,
    ray_corrected,
    ray_rotation,
)
from posture.geometry.posture_angles import (
    cva_deg,
    head_above_shoulders,
    head_tilt_deg,
    shoulder_tilt_deg,
)
from posture.geometry.rotations import (
    FACING_CAMERA,
    compose_head_angles,
    decompose_head_angles,
    rot_x,
    rot_z,
)
from posture.geometry.trunk import View, classify_view, elbows_in_view, trunk_frame
from posture.landmarks.types import LEFT_EYE, RIGHT_EYE, FrameLandmarks

Reference = Literal["trunk", "camera"]
ANGLE_KEYS: tuple[str, ...] = (
    "cva_deg",
    "head_rotation_deg",
    "head_flexion_deg",
    "head_lateral_flexion_deg",
    "head_tilt_deg",
    "shoulder_tilt_deg",
)


@dataclass(frozen=True)
class FrameMeasurement:
    """The contract's per-frame record; None where a value cannot be measured."""

    t: float
    valid: bool
    view: View
    reference: Reference
    cva_deg: float | None = None
    head_rotation_deg: float | None = None
    head_flexion_deg: float | None = None
    head_lateral_flexion_deg: float | None = None
    head_tilt_deg: float | None = None
    shoulder_tilt_deg: float | None = None
    # Not in the report: the head relative to the (roll-corrected) camera-facing
    # frame, and the trunk's own yaw in this frame, so that a recording can be
    # re-referenced to its steady trunk (see ``with_trunk_yaw``).
    head_in_camera_deg: tuple[float, float, float] | None = field(default=None, repr=False)
    trunk_yaw_deg: float | None = field(default=None, repr=False)
    # Elbows (0-2) inside the frame: evidence that this frame's shoulder line is the
    # trunk's (``posture.geometry.trunk.elbows_in_view``; a photo uses it only then).
    elbows_in_view: int = field(default=0, repr=False)
    # A person was in view but the head's angles could not be measured (face turned
    # past what the models follow, or hidden): a range-of-motion peak next to such frames
    # is only a lower bound (``posture.signals.rom.directions_at_limit``).
    head_lost: bool = field(default=False, repr=False)
    # The two head models' frames in camera axes (before the upright reference), so that
    # a recording can align the network to the mesh fit (``realigned``).
    head_mesh_cam: Array | None = field(default=None, repr=False, compare=False)
    head_net_cam: Array | None = field(default=None, repr=False, compare=False)
    reference_frame: Array | None = field(default=None, repr=False, compare=False)
    # The rotation taking the optical axis onto the ray to the head (the line of sight).
    head_view_cam: Array | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The contract's per-frame fields only."""
        hidden = {
            "head_in_camera_deg", "trunk_yaw_deg", "elbows_in_view", "head_lost",
            "head_mesh_cam", "head_net_cam", "reference_frame", "head_view_cam",
        }  # fmt: skip
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in hidden}

    def with_trunk_yaw(self, trunk_yaw_deg: float | None) -> FrameMeasurement:
        """The same frame with head angles relative to a trunk at ``trunk_yaw_deg``.

        The pose model turns the shoulders with the head (about a quarter of a head
        turn), so a recording is referred to its trunk's steady yaw instead of each
        frame's shoulder line. None refers the head to the camera.
        """
        if self.head_in_camera_deg is None:
            return replace(self, reference="trunk" if trunk_yaw_deg is not None else "camera")
        angles = head_relative_to_trunk(self.head_in_camera_deg, trunk_yaw_deg)
        return replace(
            self,
            reference="trunk" if trunk_yaw_deg is not None else "camera",
            head_rotation_deg=angles[0],
            head_flexion_deg=angles[1],
            head_lateral_flexion_deg=angles[2],
        )


def realigned(m: FrameMeasurement, net_to_mesh: Array) -> FrameMeasurement:
    """The frame with the network's head frame turned by ``net_to_mesh`` in the head's own
    axes (see ``posture.geometry.head.net_alignment``) before the two models are fused; a
    head then read past ``MAX_FOLLOWED_DEG`` from the camera is lost, as in
    :func:`measure_frame`."""
    if m.head_net_cam is None or m.reference_frame is None or m.head_in_camera_deg is None:
        return m
    head = fused_head(m.head_mesh_cam, m.head_net_cam @ net_to_mesh)
    if away_from_camera_deg(head, m.head_view_cam) > MAX_FOLLOWED_DEG:
        return replace(
            m,
            head_in_camera_deg=None,
            head_lost=True,
            head_rotation_deg=None,
            head_flexion_deg=None,
            head_lateral_flexion_deg=None,
        )
    angles = decompose_head_angles(m.reference_frame.T @ head)
    return replace(m, head_in_camera_deg=angles).with_trunk_yaw(m.trunk_yaw_deg)


def head_relative_to_trunk(
    head_in_camera_deg: tuple[float, float, float], trunk_yaw_deg: float | None
) -> tuple[float, float, float]:
    """Head angles against an upright trunk turned ``trunk_yaw_deg`` from facing the camera."""
    if trunk_yaw_deg is None:
        return head_in_camera_deg
    return decompose_head_angles(rot_z(-trunk_yaw_deg) @ compose_head_angles(*head_in_camera_deg))


# The head-pose network was trained on faces turned up to 90 deg from the camera (300W-LP);
# a head read further away than this from the line of sight (the ray from the camera to
# the head, not the optical axis: a crop's network sees its face along that ray) is past
# what it follows: the frame counts as lost.
MAX_FOLLOWED_DEG = 95.0


# Without a calibrated camera, assume this field of view across the long side of
# the frame (typical of webcams and phone main cameras, 60-75 deg).
DEFAULT_FOV_DEG = 65.0


def default_focal_px(width: int, height: int) -> float:
    focal: float = max(width, height) / (2 * np.tan(np.radians(DEFAULT_FOV_DEG / 2)))
    return focal


def measure_frame(
    lm: FrameLandmarks,
    view_hint: View | None = None,
    camera_roll_deg: float = 0.0,
    focal_px: float | None = None,
    trunk_yaw_deg: float | None = None,
    camera_pitch_deg: float = 0.0,
) -> FrameMeasurement:
    """Angles for one frame.

    Args:
        lm: the frame's landmarks.
        view_hint: force 'front', 'left' or 'right' (the CLI's ``--view``); None = detect.
        camera_roll_deg: camera roll from calibration (see ``posture_angles``).
        focal_px: focal length in pixels from calibration; None assumes
            :data:`DEFAULT_FOV_DEG`.
        trunk_yaw_deg: the recording's steady trunk yaw; None uses this frame's
            shoulder line (or the camera when the shoulders are not seen).
        camera_pitch_deg: camera pitch from calibration, + = looking down (see
            ``posture.calibration.level``). It tilts the true vertical in the
            camera's axes, and so the upright reference of the head angles; image
            angles (CVA, head and shoulder tilt) are not corrected for it.
    """
    pose, face = lm.pose, lm.face
    # The network's head crop stands on the pose model's head points (or the face mesh);
    # a head found there is measured even when no upright body is below it (a face
    # close-up: the pose's shoulders are guesses), camera-relative, since then nothing
    # says where the trunk is. The adapter's confidence gates vouch for the face.
    head_seen = pose is not None or face is not None
    if pose is not None and not head_above_shoulders(pose, camera_roll_deg):
        pose = None  # no upright person: body angles from it would be false
    # The trunk is taken as upright (its vertical is true vertical: the camera's,
    # corrected for roll and pitch) and turned about it by the shoulder line's yaw.
    reference_frame = _camera_reference(camera_roll_deg, camera_pitch_deg)
    trunk = (
        trunk_frame(pose, reference_frame[:, 2], (lm.width, lm.height))
        if pose is not None
        else None
    )
    view: View = "unknown"
    if pose is not None:
        view = view_hint or classify_view(pose, trunk)
    elif face is not None:
        view = view_hint or "front"
    own_trunk_yaw = None
    if trunk is not None:
        left = reference_frame.T @ trunk[:, 0]
        own_trunk_yaw = float(np.degrees(np.arctan2(left[1], left[0])))

    values: dict[str, float | None] = {k: None for k in ANGLE_KEYS}
    head_in_camera = None
    focal = focal_px or default_focal_px(lm.width, lm.height)
    principal = np.array([lm.width / 2, lm.height / 2])
    head_mesh = head_frame_from_face(face.xyz, focal, principal) if face is not None else None
    head_net = None
    if lm.head is not None and head_seen:
        head_net = ray_corrected(lm.head.rotation, lm.head.centre_px, focal, principal)
    view_ray = _line_of_sight(lm, focal, principal)
    # Two models that disagree where both should follow the head: not a value.
    head = None if models_disagree(head_mesh, head_net) else fused_head(head_mesh, head_net)
    if head is not None and away_from_camera_deg(head, view_ray) > MAX_FOLLOWED_DEG:
        head = None  # past what the models were trained on: a bound, not a value
    if head is not None:
        head_in_camera = decompose_head_angles(reference_frame.T @ head)
    if view == "front":
        if face is not None:
            left_eye, right_eye = eye_centres_px(face.xyz)
            values["head_tilt_deg"] = head_tilt_deg(left_eye, right_eye, camera_roll_deg)
        elif pose is not None and pose.visible(LEFT_EYE) and pose.visible(RIGHT_EYE):
            values["head_tilt_deg"] = head_tilt_deg(
                pose.image_xy[LEFT_EYE], pose.image_xy[RIGHT_EYE], camera_roll_deg
            )
        if pose is not None:
            values["shoulder_tilt_deg"] = shoulder_tilt_deg(pose, camera_roll_deg)
    if pose is not None and view in ("left", "right"):
        values["cva_deg"] = cva_deg(
            pose, view, camera_roll_deg, camera_pitch_deg=camera_pitch_deg,
            focal_px=focal_px or default_focal_px(lm.width, lm.height),
            image_size=(lm.width, lm.height),
        )  # fmt: skip

    valid = any(v is not None for v in values.values()) or head_in_camera is not None
    m = FrameMeasurement(
        lm.t_s, valid, view, "camera", **values,
        head_in_camera_deg=head_in_camera, trunk_yaw_deg=own_trunk_yaw,
        elbows_in_view=0 if pose is None else elbows_in_view(pose, lm.width, lm.height),
        head_lost=lm.pose is not None and head_in_camera is None,
        head_mesh_cam=head_mesh, head_net_cam=head_net, reference_frame=reference_frame,
        head_view_cam=view_ray,
    )  # fmt: skip
    trunk_yaw = trunk_yaw_deg if trunk_yaw_deg is not None else own_trunk_yaw
    return m.with_trunk_yaw(trunk_yaw)


def _line_of_sight(lm: FrameLandmarks, focal_px: float, principal_px: Array) -> Array:
    """The rotation taking the optical axis onto the ray to the head: through the
    network's crop centre, else the face mesh's centre, else the optical axis."""
    if lm.head is not None:
        return ray_rotation(lm.head.centre_px, focal_px, principal_px)
    if lm.face is not None and np.isfinite(lm.face.xyz[:, :2]).all():
        return ray_rotation(lm.face.xyz[:, :2].mean(axis=0), focal_px, principal_px)
    return np.eye(3)


def _camera_reference(camera_roll_deg: float, camera_pitch_deg: float = 0.0) -> Array:
    """An upright subject squarely facing a (possibly rolled and pitched) camera, in camera
    axes: the face-only reference, whose up axis is the true vertical.

    The camera is pitched (about its x axis, + = looking down) and then rolled about its
    optical axis (+ = clockwise seen from behind), as ``synthetic.calibration_boards.
    camera_to_world``; gravity in camera axes is then ``(sin r cos p, cos r cos p, sin p)``,
    the convention of ``posture.calibration.level``.
    """
    # Rolling the camera clockwise makes the world appear rotated counter-clockwise;
    # pitching it down makes true up lean towards the camera's forward axis.
    reference: Array = rot_z(-camera_roll_deg) @ rot_x(camera_pitch_deg) @ FACING_CAMERA
    return reference


def empty_measurement(t_s: float) -> FrameMeasurement:
    return FrameMeasurement(t_s, False, "unknown", "camera")
