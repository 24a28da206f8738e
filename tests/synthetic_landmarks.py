"""Synthetic landmarks with known true angles, projected through a pinhole camera.

A small face (the face-mesh indices the geometry uses) and a trunk are posed in
the contract's body axes and seen by a camera, producing the same arrays the
MediaPipe adapter produces.
"""

from __future__ import annotations

import numpy as np

from posture.geometry.head import load_face_model
from posture.geometry.posture_angles import C7_BACK_FRACTION, C7_UP_FRACTION
from posture.geometry.rotations import (
    FACING_CAMERA,
    compose_head_angles,
    decompose_head_angles,
    rot_z,
)
from posture.landmarks.types import (
    LEFT_EAR,
    LEFT_ELBOW,
    LEFT_EYE,
    LEFT_HIP,
    LEFT_SHOULDER,
    N_FACE,
    N_POSE,
    NOSE,
    RIGHT_EAR,
    RIGHT_ELBOW,
    RIGHT_EYE,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    FaceLandmarks,
    FrameLandmarks,
    PoseLandmarks,
)

FOCAL_PX = 900.0
IMAGE_W, IMAGE_H = 1280, 720

FACE_RMS_SIZE_M = 0.07


def face_template() -> np.ndarray:
    """(468, 3) head-frame points (m) of the face model the geometry fits."""
    return load_face_model().template * FACE_RMS_SIZE_M


def as_face_mesh_sees_it(r_head_cam: np.ndarray) -> np.ndarray:
    """The head orientation the face mesh reports: pitch compressed as the model says."""
    model = load_face_model()
    down, up = model.pitch_gain
    yaw, pitch, roll = decompose_head_angles(FACING_CAMERA.T @ r_head_cam)
    seen = (pitch / down if pitch > 0 else pitch / up) + model.pitch_zero_deg
    return FACING_CAMERA @ compose_head_angles(yaw, seen, roll)


def project(points_cam: np.ndarray) -> np.ndarray:
    """Pinhole projection of camera-frame points (m) to pixels."""
    z = points_cam[:, 2:3]
    return points_cam[:, :2] * FOCAL_PX / z + np.array([IMAGE_W / 2, IMAGE_H / 2])


def trunk_in_camera(trunk_yaw_deg: float) -> np.ndarray:
    """A trunk turned ``trunk_yaw_deg`` (+ = to the subject's left) from facing the camera."""
    return FACING_CAMERA @ rot_z(trunk_yaw_deg)


def make_frame(
    rotation_deg: float = 0.0,
    flexion_deg: float = 0.0,
    lateral_flexion_deg: float = 0.0,
    trunk_yaw_deg: float = 0.0,
    head_centre_m: tuple[float, float, float] = (0.0, -0.05, 1.2),
    with_face: bool = True,
    shoulder_drop_m: float = 0.0,
    with_hips: bool = False,
    camera_roll_deg: float = 0.0,
    with_arms: bool = False,
    camera_pitch_deg: float = 0.0,
) -> FrameLandmarks:
    """Landmarks of a subject with the given head-in-trunk angles, upright against gravity.

    The camera may be rolled and pitched (+ = looking down; the conventions of
    ``posture.calibration.level``) while still aimed at the head.
    """
    from synthetic.calibration_boards import camera_to_world

    camera = camera_to_world(camera_roll_deg, camera_pitch_deg).T  # world -> camera axes
    r_trunk = camera @ trunk_in_camera(trunk_yaw_deg)
    r_head = r_trunk @ compose_head_angles(rotation_deg, flexion_deg, lateral_flexion_deg)
    centre = np.array(head_centre_m)
    face = None
    if with_face:
        cam = centre + face_template() @ as_face_mesh_sees_it(r_head).T
        xyz = np.full((N_FACE, 3), np.nan)
        xyz[:468, :2] = project(cam)
        xyz[:468, 2] = (cam[:, 2] - centre[2]) * FOCAL_PX / centre[2]
        face = FaceLandmarks(xyz)
    # Trunk points in trunk coords (m), relative to the head centre.
    neck_base = np.array([0.0, 0.02, -0.22])
    body = {
        LEFT_SHOULDER: neck_base + [0.18, 0.0, -0.03 - shoulder_drop_m],
        RIGHT_SHOULDER: neck_base + [-0.18, 0.0, -0.03],
        LEFT_HIP: neck_base + [0.12, 0.02, -0.55],
        RIGHT_HIP: neck_base + [-0.12, 0.02, -0.55],
    }
    if with_arms:  # the elbows beside the chest (a photo framed on the upper body)
        body[LEFT_ELBOW] = neck_base + [0.22, 0.03, -0.30]
        body[RIGHT_ELBOW] = neck_base + [-0.22, 0.03, -0.30]
    head_pts = {
        NOSE: (0.0, -0.12, -0.005),
        LEFT_EYE: (0.03, -0.085, 0.03),
        RIGHT_EYE: (-0.03, -0.085, 0.03),
        LEFT_EAR: (0.075, 0.0, 0.0),
        RIGHT_EAR: (-0.075, 0.0, 0.0),
    }
    cam_pts = np.full((N_POSE, 3), np.nan)
    for i, p in body.items():
        cam_pts[i] = centre + r_trunk @ p
    for i, p in head_pts.items():
        cam_pts[i] = centre + r_head @ np.array(p)
    vis = np.zeros(N_POSE)
    known = np.isfinite(cam_pts[:, 0])
    vis[known] = 0.99
    if not with_hips:
        vis[[LEFT_HIP, RIGHT_HIP]] = 0.1
    xy = np.full((N_POSE, 2), np.nan)
    xy[known] = project(cam_pts[known])
    hips_mid = (cam_pts[LEFT_HIP] + cam_pts[RIGHT_HIP]) / 2
    world = cam_pts - hips_mid  # camera-aligned metres about the hips, like MediaPipe's
    pose = PoseLandmarks(xy, vis, world)
    return FrameLandmarks(0.0, IMAGE_W, IMAGE_H, pose, face)


def side_view_frame(cva_true_deg: float, view: str, ear_to_c7_m: float = 0.12) -> FrameLandmarks:
    """A side view whose shoulder sits where the C7 model puts it for a known true CVA.

    The tragus is placed at ``cva_true_deg`` above the horizontal from C7 in the
    sagittal plane; the shoulder landmark is solved so that the documented C7
    model maps it back onto C7 exactly.
    """
    yaw = -90.0 if view == "left" else 90.0  # left side to the camera: turned to their right
    r_trunk = trunk_in_camera(yaw)
    c7 = np.array([0.0, 0.0, 0.0])
    a = np.radians(cva_true_deg)
    tragus = c7 + ear_to_c7_m * np.array([0.0, -np.cos(a), np.sin(a)])  # forward = -y
    offset_dir = C7_BACK_FRACTION * np.array([0, 1.0, 0]) + C7_UP_FRACTION * np.array([0, 0, 1.0])
    s = ear_to_c7_m
    for _ in range(100):  # fixed point: s = |tragus - shoulder|
        shoulder = c7 - s * offset_dir
        s = float(np.linalg.norm(tragus - shoulder))
    centre = np.array([0.0, 0.0, 1.5])
    pts = {
        LEFT_EAR: tragus + [0.07, 0, 0],
        RIGHT_EAR: tragus + [-0.07, 0, 0],
        NOSE: tragus + [0, -0.10, -0.01],
        LEFT_SHOULDER: shoulder + [0.17, 0, 0],
        RIGHT_SHOULDER: shoulder + [-0.17, 0, 0],
        LEFT_EYE: tragus + [0.03, -0.08, 0.03],
        RIGHT_EYE: tragus + [-0.03, -0.08, 0.03],
        LEFT_HIP: shoulder + [0.12, 0.02, -0.5],
        RIGHT_HIP: shoulder + [-0.12, 0.02, -0.5],
    }
    cam = np.full((N_POSE, 3), np.nan)
    for i, p in pts.items():
        cam[i] = centre + r_trunk @ p
    vis = np.where(np.isfinite(cam[:, 0]), 0.99, 0.0)
    xy = np.full((N_POSE, 2), np.nan)
    known = np.isfinite(cam[:, 0])
    # Orthographic-like: far camera, so the sagittal plane maps without perspective.
    xy[known] = project(cam[known] * [1, 1, 0] + [0, 0, 1.5])
    world = cam - (cam[LEFT_HIP] + cam[RIGHT_HIP]) / 2
    return FrameLandmarks(0.0, IMAGE_W, IMAGE_H, PoseLandmarks(xy, vis, world), None)
