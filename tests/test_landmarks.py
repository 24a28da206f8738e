"""The MediaPipe adapter on a real photo (a few seconds: models run)."""

from __future__ import annotations

import pytest

from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
from tests.media_fixtures import person_image

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
