"""The 3DDFA_V2 head-pose network on real faces, and its axis conventions."""

from __future__ import annotations

import numpy as np
import pytest

from posture.errors import PostureError
from posture.geometry.rotations import (
    FACING_CAMERA,
    compose_head_angles,
    decompose_head_angles,
    rot_y,
)
from posture.landmarks import head_pose_net as hpn
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

# Eileen Collins' face in skimage's astronaut(): 3DDFA_V2's crop, as roi_box_from_face_mesh
# gives it from MediaPipe FaceMesh on that photo (fixed here so the test needs no MediaPipe).
ASTRONAUT_FACE_BOX = (158.0, 66.6, 291.9, 200.5)


@pytest.fixture(scope="module")
def net() -> hpn.HeadPoseNet:
    return hpn.HeadPoseNet()


def head_angles(pose: hpn.HeadPose) -> tuple[float, float, float]:
    """(rotation, flexion, lateral flexion) relative to the camera, as measure_frame."""
    return decompose_head_angles(FACING_CAMERA.T @ pose.rotation)


def mirrored(rgb: np.ndarray, box: hpn.Box) -> tuple[np.ndarray, hpn.Box]:
    w = rgb.shape[1]
    return np.ascontiguousarray(rgb[:, ::-1]), (w - box[2], box[1], w - box[0], box[3])


def test_missing_model_file_raises_a_clear_error(tmp_path):
    with pytest.raises(PostureError, match="missing"):
        hpn.HeadPoseNet(tmp_path / "no_such_model.onnx")


def test_unreadable_model_file_raises_a_clear_error(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(PostureError, match="cannot be read"):
        hpn.HeadPoseNet(bad)


def test_astronaut_photo_reads_near_frontal_with_high_confidence(net):
    skimage_data = pytest.importorskip("skimage.data")
    pose = net.estimate(skimage_data.astronaut(), ASTRONAUT_FACE_BOX)
    rotation, flexion, lateral = head_angles(pose)
    assert abs(rotation) < 10 and abs(flexion) < 15 and abs(lateral) < 10
    assert pose.confidence > 0.7
    assert np.allclose(pose.rotation.T @ pose.rotation, np.eye(3), atol=1e-9)


def test_a_poor_crop_is_reframed_onto_the_face(net):
    skimage_data = pytest.importorskip("skimage.data")
    rgb = skimage_data.astronaut()
    x0, y0, x1, y1 = ASTRONAUT_FACE_BOX
    side = x1 - x0
    rough = (x0 - 0.3 * side, y0 + 0.1 * side, x1 + 0.4 * side, y1 + 0.8 * side)  # 1.7x, off
    good, poor = net.estimate(rgb, ASTRONAUT_FACE_BOX), net.estimate(rgb, rough)
    assert np.allclose(poor.roi_box, good.roi_box, atol=0.08 * side)
    assert np.allclose(head_angles(poor), head_angles(good), atol=3.0)


def test_a_background_patch_gets_low_confidence(net):
    skimage_data = pytest.importorskip("skimage.data")
    rgb = skimage_data.astronaut()
    face = net.estimate(rgb, ASTRONAUT_FACE_BOX)
    flag = net.estimate(rgb, (330.0, 330.0, 490.0, 490.0))  # the US flag / suit, no face
    assert flag.confidence < 0.5 < face.confidence


def test_astronaut_mirrored_flips_lateral_flexion_and_keeps_flexion(net):
    skimage_data = pytest.importorskip("skimage.data")
    rgb, box = skimage_data.astronaut(), ASTRONAUT_FACE_BOX
    a = head_angles(net.estimate(rgb, box))
    b = head_angles(net.estimate(*mirrored(rgb, box)))
    assert a[2] * b[2] < 0 and abs(a[2] + b[2]) < 2.0
    assert abs(a[0] + b[0]) < 4.0
    assert abs(a[1] - b[1]) < 2.0


def aflw_head_frame(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """AFLW2000's label as a head frame: 3DDFA's ``angle2matrix`` (BFM axes), mapped."""
    p, y, r = np.radians([pitch_deg, yaw_deg, roll_deg])
    c, s = np.cos, np.sin
    rx = np.array([[1, 0, 0], [0, c(p), s(p)], [0, -s(p), c(p)]])
    ry = np.array([[c(y), 0, -s(y)], [0, 1, 0], [s(y), 0, c(y)]])
    rz = np.array([[c(r), s(r), 0], [-s(r), c(r), 0], [0, 0, 1]])
    return hpn.head_frame_from_bfm(rx @ ry @ rz)


def test_aflw_labels_map_to_the_project_signs_one_axis_at_a_time():
    """As benchmarks/accuracy.py: AFLW (yaw, pitch, roll) = (-rotation, -flexion, +lateral)."""
    for label, want in (((30, 0, 0), (-30, 0, 0)), ((0, 20, 0), (0, -20, 0)),
                        ((0, 0, 15), (0, 0, 15))):  # fmt: skip
        got = decompose_head_angles(FACING_CAMERA.T @ aflw_head_frame(*label))
        assert np.allclose(got, want, atol=1e-9)


def test_real_face_turned_far_reads_its_turn_and_mirrors(net, shared_data):
    """AFLW2000 image00004: yaw 68 (face toward image-left: the subject's right), pitch
    27, roll 17 in AFLW's order; in the project's order (rotation first) that is
    rotation -70, flexion -10, lateral flexion -8. Its mirror image must read the
    opposite rotation and lateral flexion: a network stuck on one answer fails this."""
    import cv2
    from scipy.io import loadmat

    folder = shared_data / "aflw2000_subset"
    if not (folder / "image00004.jpg").exists():
        pytest.skip("aflw2000_subset/image00004 not found")
    rgb = cv2.cvtColor(cv2.imread(str(folder / "image00004.jpg")), cv2.COLOR_BGR2RGB)
    box = hpn.roi_box_from_points(loadmat(folder / "image00004.mat")["pt3d_68"][:2].T)
    truth = aflw_head_frame(68.155, 26.933, 17.244)
    pose = net.estimate(rgb, box)
    angle = np.degrees(np.arccos((np.trace(truth.T @ pose.rotation) - 1) / 2))
    assert angle < 10
    rotation, flexion, lateral = head_angles(pose)
    want = decompose_head_angles(FACING_CAMERA.T @ truth)
    assert np.allclose((rotation, flexion, lateral), want, atol=8)
    m_rotation, m_flexion, m_lateral = head_angles(net.estimate(*mirrored(rgb, box)))
    assert m_rotation > 55 and m_lateral > 0
    assert abs(rotation + m_rotation) < 5
    assert abs(lateral + m_lateral) < 5
    assert abs(flexion - m_flexion) < 5


def test_bfm_axes_map_onto_the_project_head_frame():
    # 3DDFA's identity pose is a face squarely facing the camera.
    assert np.allclose(hpn.head_frame_from_bfm(np.eye(3)), FACING_CAMERA)
    # Turning the face model about its up axis (+y) brings its front (+z, toward the
    # viewer) toward +x: image right, the subject's left -> rotation +.
    turned = hpn.head_frame_from_bfm(rot_y(30.0))
    assert np.allclose(decompose_head_angles(FACING_CAMERA.T @ turned), (30.0, 0.0, 0.0))
    r = FACING_CAMERA @ compose_head_angles(-40.0, 15.0, 8.0)
    assert np.allclose(hpn.head_frame_from_bfm(hpn.bfm_from_head_frame(r)), r)


def test_ray_rotation_takes_the_optical_axis_onto_the_ray():
    principal = np.array([320.0, 240.0])
    q = hpn.ray_rotation(np.array([620.0, 40.0]), 500.0, principal)
    ray = np.array([300.0 / 500.0, -200.0 / 500.0, 1.0])
    assert np.allclose(q @ [0.0, 0.0, 1.0], ray / np.linalg.norm(ray))
    assert np.allclose(q.T @ q, np.eye(3)) and np.isclose(np.linalg.det(q), 1.0)
    assert np.allclose(hpn.ray_rotation(principal, 500.0, principal), np.eye(3))


def test_a_head_at_the_image_right_that_looks_frontal_is_turned_to_its_right():
    # Weak perspective: a face seen frontally on the image's right faces the camera
    # lens, i.e. it looks toward image-left = the subject's right -> rotation < 0.
    q = hpn.ray_rotation(np.array([1200.0, 360.0]), 900.0, np.array([640.0, 360.0]))
    rotation, flexion, lateral = decompose_head_angles(FACING_CAMERA.T @ q @ FACING_CAMERA)
    assert rotation == pytest.approx(-np.degrees(np.arctan2(560.0, 900.0)))
    assert abs(flexion) < 1e-9 and abs(lateral) < 1e-9


def test_focal_length_turns_an_off_centre_answer_by_its_ray(net):
    skimage_data = pytest.importorskip("skimage.data")
    rgb = skimage_data.astronaut()
    plain = net.estimate(rgb, ASTRONAUT_FACE_BOX)
    corrected = net.estimate(rgb, ASTRONAUT_FACE_BOX, focal_px=400.0)
    centre = np.array(
        [(plain.roi_box[0] + plain.roi_box[2]) / 2, (plain.roi_box[1] + plain.roi_box[3]) / 2]
    )
    q = hpn.ray_rotation(centre, 400.0, np.array([256.0, 256.0]))
    assert np.allclose(corrected.rotation, q @ plain.rotation)


def _profile_pose(facing_image_right: bool) -> tuple[np.ndarray, np.ndarray]:
    """33 pose points of a head in profile (px): both ears and eyes nearly on top of
    each other, as MediaPipe predicts the hidden ones."""
    xy = np.full((33, 2), np.nan)
    s = 1.0 if facing_image_right else -1.0
    xy[NOSE] = (500 + s * 60, 300)
    xy[LEFT_EYE] = xy[RIGHT_EYE] = (500 + s * 40, 280)
    xy[RIGHT_EYE] += (3, 0)
    xy[LEFT_EAR] = xy[RIGHT_EAR] = (500 - s * 30, 290)
    xy[RIGHT_EAR] += (4, 0)
    xy[MOUTH_LEFT] = xy[MOUTH_RIGHT] = (500 + s * 45, 330)
    xy[LEFT_SHOULDER], xy[RIGHT_SHOULDER] = (480, 420), (520, 420)
    return xy, np.ones(33)


@pytest.mark.parametrize("facing_image_right", [True, False])
def test_head_box_from_pose_does_not_collapse_in_profile(facing_image_right):
    xy, vis = _profile_pose(facing_image_right)
    box = hpn.roi_box_from_head(xy, vis)
    assert box is not None
    side = box[2] - box[0]
    # nose-ear distance 90 px; a head is ~2.5-3 of those: never the ~4 px ear-to-ear.
    assert 200 < side < 350 and np.isclose(box[3] - box[1], side)
    assert box[0] < xy[NOSE][0] < box[2] and box[1] < xy[NOSE][1] < box[3]


def test_head_box_needs_a_seen_nose():
    xy, vis = _profile_pose(True)
    vis[NOSE] = 0.1
    assert hpn.roi_box_from_head(xy, vis) is None


def test_roi_box_from_points_is_3ddfa_parse_roi_box_from_landmark():
    pts = np.array([[10.0, 20.0], [110.0, 60.0], [50.0, 100.0]])  # bbox 100 x 80
    box = hpn.roi_box_from_points(pts)
    side = 100 * np.sqrt(2)
    assert np.allclose(box, (60 - side / 2, 60 - side / 2, 60 + side / 2, 60 + side / 2))
