"""The MediaPipe adapter on a real photo (a few seconds: models run)."""

from __future__ import annotations

import numpy as np
import pytest

from posture.landmarks.mediapipe_adapter import (
    MIRRORED,
    Box,
    MediaPipeLandmarker,
    _placed,
    person_box,
)
from posture.landmarks.types import (
    LEFT_EAR,
    LEFT_SHOULDER,
    N_POSE,
    NOSE,
    RIGHT_EAR,
    RIGHT_SHOULDER,
    PoseLandmarks,
)
from tests.media_fixtures import no_person_image, person_image

pytestmark = pytest.mark.slow


def test_a_still_subject_is_followed_in_every_frame():
    # Moving the crop used to drop the subject for one frame in three.
    img = person_image()
    with MediaPipeLandmarker(video_mode=True) as lm:
        frames = [lm.process(img, i / 30) for i in range(12)]
    assert all(f.pose is not None and f.face is not None for f in frames)


def test_unrelated_stills_do_not_share_tracking_state():
    img = person_image()
    with MediaPipeLandmarker(video_mode=False) as lm:
        frames = [lm.process(img, 0.0) for _ in range(3)]
    assert all(f.pose is not None for f in frames)


def test_a_still_is_measured_the_same_from_its_mirror_image():
    # Stills take the median over crops and their mirror images; a person seen in a
    # mirror must come back with left and right swapped back, in the same pixels.
    img = person_image()
    w = img.shape[1]
    with MediaPipeLandmarker(video_mode=False) as lm:
        pose = lm.process(img, 0.0).pose
        mirror = lm.process(np.ascontiguousarray(img[:, ::-1]), 0.0).pose
    assert pose is not None and mirror is not None
    unmirrored_x = w - mirror.image_xy[list(MIRRORED), 0]
    upper_body = [NOSE, LEFT_EAR, RIGHT_EAR, LEFT_SHOULDER, RIGHT_SHOULDER]
    size = np.linalg.norm(pose.image_xy[LEFT_SHOULDER] - pose.image_xy[RIGHT_SHOULDER])
    assert np.all(np.abs(unmirrored_x[upper_body] - pose.image_xy[upper_body, 0]) < 0.1 * size)


def test_placing_a_mirrored_crop_swaps_sides_and_flips_x():
    xy = np.zeros((N_POSE, 2))
    xy[LEFT_SHOULDER] = (10.0, 50.0)  # in a 100 px wide mirrored crop
    xy[RIGHT_SHOULDER] = (60.0, 52.0)
    world = np.zeros((N_POSE, 3))
    world[LEFT_SHOULDER] = (0.2, 0.0, 0.1)
    vis = np.linspace(0, 1, N_POSE)
    placed = _placed(PoseLandmarks(xy, vis, world), Box(200, 300, 300, 400), 100, True)
    # The crop's "left shoulder" is the subject's right one, at x = 100 - 10 in the crop.
    assert placed.image_xy[RIGHT_SHOULDER] == pytest.approx((290.0, 350.0))
    assert placed.image_xy[LEFT_SHOULDER] == pytest.approx((240.0, 352.0))
    assert placed.world_xyz[RIGHT_SHOULDER] == pytest.approx((-0.2, 0.0, 0.1))
    assert placed.visibility[RIGHT_SHOULDER] == vis[LEFT_SHOULDER]


def test_the_refinement_crop_frames_only_what_the_model_saw():
    # Legs predicted far below a head-and-shoulders photo must not set the crop.
    xy = np.tile([[500.0, 300.0]], (N_POSE, 1))
    xy[:11] += np.linspace(-40, 40, 11)[:, None]
    xy[11:13] = [[420.0, 420.0], [580.0, 420.0]]
    xy[23:] = [[500.0, 1500.0 + 10 * i] for i in range(10)]
    vis = np.where(np.arange(N_POSE) < 13, 0.99, 0.05)
    pose = PoseLandmarks(xy, vis, np.zeros((N_POSE, 3)))
    assert person_box(pose).size > 1500
    assert person_box(pose, min_visibility=0.5).size < 300


@pytest.mark.parametrize("step", [1, 2, 4])
def test_no_person_is_made_up_from_an_object(step):
    # Searching harder for cut-off people (extended edges, mirror images) must not
    # turn a coffee cup into a person, at any size, in photos or in videos.
    img = np.ascontiguousarray(no_person_image()[::step, ::step])
    with MediaPipeLandmarker(video_mode=False, with_face=False) as lm:
        assert lm.process(img, 0.0).pose is None
    with MediaPipeLandmarker(video_mode=True, with_face=False) as lm:
        assert all(lm.process(img, i / 10).pose is None for i in range(30))
