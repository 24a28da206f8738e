"""Head angles are referred to the recording's steady trunk, not each frame's shoulders."""

from __future__ import annotations

import pytest

from posture.assemble import PHOTO_HEAD_VS_CAMERA, steady_trunk
from posture.geometry.measure import measure_frame
from posture.stream import SteadyTrunkYaw
from tests.synthetic_landmarks import FOCAL_PX, make_frame


def _frames(trunk_yaw_deg: float):
    still = [measure_frame(make_frame(0, 0, 0, trunk_yaw), focal_px=FOCAL_PX) for trunk_yaw in
             [trunk_yaw_deg] * 20]  # fmt: skip
    # The head turns 60 deg to the left; the pose model drags the shoulders 15 deg along.
    turning = measure_frame(
        make_frame(60 - 15, 0, 0, trunk_yaw_deg=trunk_yaw_deg + 15), focal_px=FOCAL_PX
    )
    return still, turning


@pytest.mark.parametrize("trunk_yaw", [0.0, 25.0])
def test_coupled_shoulders_do_not_shrink_a_head_turn(trunk_yaw):
    still, turning = _frames(trunk_yaw)
    assert turning.head_rotation_deg == pytest.approx(45, abs=0.5)  # per-frame: too small
    fixed = steady_trunk([*still, turning])[-1]
    assert fixed.reference == "trunk"
    assert fixed.head_rotation_deg == pytest.approx(60, abs=0.5)


def test_running_median_follows_the_still_trunk():
    still, turning = _frames(10.0)
    steady = SteadyTrunkYaw(window=30)
    for m in still:
        steady.add(m.trunk_yaw_deg)
    steady.add(turning.trunk_yaw_deg)
    assert steady.current() == pytest.approx(10.0, abs=0.5)
    assert turning.with_trunk_yaw(steady.current()).head_rotation_deg == pytest.approx(60, abs=0.5)


def test_without_any_trunk_angles_are_relative_to_the_camera():
    lm = make_frame(30, 0, 0)
    lm = type(lm)(lm.t_s, lm.width, lm.height, None, lm.face)
    out = steady_trunk([measure_frame(lm, focal_px=FOCAL_PX)])[0]
    assert out.reference == "camera"
    assert out.head_rotation_deg == pytest.approx(30, abs=0.5)


def _photo_report(lm):
    from posture.assemble import assemble_report
    from posture.io.media import MediaInfo
    from posture.options import AnalysisOptions

    m = measure_frame(lm, focal_px=FOCAL_PX)
    info = MediaInfo("p.png", "image", lm.width, lm.height, None, 1, None)
    return assemble_report(info, [m], AnalysisOptions(), 1, []).to_dict()


def test_a_photo_uses_its_shoulder_line_only_with_the_upper_arms_in_view():
    # The trunk turned 25 deg, the head 30 deg further: with the elbows in the picture
    # the shoulder line is used (rotation vs the trunk); in a close-up without them it is
    # not (one photo's shoulders follow the head), and the head is read against the
    # camera, 55 deg, and the report says so.
    at = (0.0, -0.15, 1.6)  # far enough for the elbows to be in the picture
    framed = _photo_report(
        make_frame(30.0, 0.0, 0.0, trunk_yaw_deg=25.0, with_arms=True, head_centre_m=at)
    )
    frame = framed["frames"][0]
    assert frame["reference"] == "trunk"
    assert frame["head_rotation_deg"] == pytest.approx(30.0, abs=0.5)
    assert PHOTO_HEAD_VS_CAMERA not in framed["quality"]["warnings"]

    close_up = _photo_report(make_frame(30.0, 0.0, 0.0, trunk_yaw_deg=25.0, head_centre_m=at))
    frame = close_up["frames"][0]
    assert frame["reference"] == "camera"
    assert frame["head_rotation_deg"] == pytest.approx(55.0, abs=0.5)
    assert PHOTO_HEAD_VS_CAMERA in close_up["quality"]["warnings"]
    assert not any("shoulders were not visible" in w for w in close_up["quality"]["warnings"])


def test_a_video_keeps_its_steady_trunk_without_the_arms_in_view():
    from dataclasses import replace

    from posture.assemble import assemble_report
    from posture.io.media import MediaInfo
    from posture.options import AnalysisOptions

    turns = [0.0] * 45 + [min(2.0 * i, 30.0) for i in range(45)]
    frames = [
        measure_frame(replace(make_frame(r, 0.0, 0.0, trunk_yaw_deg=25.0), t_s=i / 30),
                      focal_px=FOCAL_PX)
        for i, r in enumerate(turns)
    ]  # fmt: skip
    lm = make_frame()
    info = MediaInfo("v.mp4", "video", lm.width, lm.height, 30.0, len(turns), len(turns) / 30)
    report = assemble_report(info, frames, AnalysisOptions(), 1, []).to_dict()
    got = [f["head_rotation_deg"] for f in report["frames"]]
    assert {f["reference"] for f in report["frames"]} == {"trunk"}
    assert got[-1] == pytest.approx(30.0, abs=1.0) and got[0] == pytest.approx(0.0, abs=1.0)
    assert PHOTO_HEAD_VS_CAMERA not in report["quality"]["warnings"]


def _side_photo_with_the_near_elbow():
    """A trunk side-on to the camera (80 deg), the head turned 10 deg back toward it, framed
    wide enough for the near elbow; the far elbow is hidden behind the body."""
    from dataclasses import replace

    from posture.landmarks.types import RIGHT_ELBOW

    at = (0.0, -0.15, 1.6)
    lm = make_frame(-10.0, 0.0, 0.0, trunk_yaw_deg=80.0, with_arms=True, head_centre_m=at)
    vis = lm.pose.visibility.copy()
    vis[RIGHT_ELBOW] = 0.05  # the far elbow, behind the body
    return replace(lm, pose=replace(lm.pose, visibility=vis))


def test_a_side_photo_keeps_its_side_on_trunk_with_the_near_elbow_in_view():
    # Seen from the side, the far elbow is hidden however the photo is framed: the near
    # one vouches for the shoulder line, and the head (turned 10 deg toward the camera
    # from a trunk side-on to it) is referred to the trunk, not read as the trunk's turn.
    import numpy as np

    report = _photo_report(_side_photo_with_the_near_elbow())
    frame = report["frames"][0]
    assert frame["view"] in ("left", "right")
    assert frame["reference"] == "trunk"
    assert frame["head_rotation_deg"] == pytest.approx(-10.0, abs=1.0)
    # Framed on the head (no elbow): a shoulder line read 80 deg turned may be one that
    # followed a turned head; the head is read against the camera, and the report says so.
    close_up = _photo_report(make_frame(-10.0, 0.0, 0.0, trunk_yaw_deg=80.0))
    frame = close_up["frames"][0]
    assert frame["reference"] == "camera"
    assert frame["head_rotation_deg"] == pytest.approx(70.0, abs=1.0)
    assert PHOTO_HEAD_VS_CAMERA in close_up["quality"]["warnings"]
    assert np.isfinite(frame["head_rotation_deg"])


def test_an_elbow_guessed_beside_its_shoulder_does_not_vouch_for_the_trunk():
    # In a head close-up the pose model now and then guesses an elbow, with confidence,
    # beside or above its shoulder (a held-out front still: 0.67 confidence, above the
    # shoulder; its shoulder line, following the head, put rotation 51 deg off). An upper
    # arm holds its elbow below the shoulder: such an elbow is not counted.
    from dataclasses import replace

    from posture.landmarks.types import LEFT_ELBOW, LEFT_SHOULDER

    hanging = _side_photo_with_the_near_elbow()
    assert _photo_report(hanging)["frames"][0]["reference"] == "trunk"
    xy = hanging.pose.image_xy.copy()
    xy[LEFT_ELBOW] = xy[LEFT_SHOULDER] + (25.0, -10.0)  # beside and a little above
    guessed = replace(hanging, pose=replace(hanging.pose, image_xy=xy))
    report = _photo_report(guessed)
    assert report["frames"][0]["reference"] == "camera"
    assert report["frames"][0]["head_rotation_deg"] == pytest.approx(70.0, abs=1.0)
    assert PHOTO_HEAD_VS_CAMERA in report["quality"]["warnings"]


def test_a_photo_ignores_a_shoulder_line_read_as_a_back_view():
    # The pose model reads the trunk of a subject facing the camera as turned 175 deg (a
    # back view) while the face looks at the camera: a head 175 deg from its trunk is out
    # of any neck's reach, so the head is read against the camera.
    from dataclasses import replace

    from posture.assemble import photo_trunk

    at = (0.0, -0.15, 1.6)
    m = measure_frame(
        make_frame(10.0, 0.0, 0.0, with_arms=True, head_centre_m=at), focal_px=FOCAL_PX
    )
    flipped = photo_trunk(replace(m, trunk_yaw_deg=175.0).with_trunk_yaw(175.0))
    assert flipped.reference == "camera"
    assert flipped.head_rotation_deg == pytest.approx(10.0, abs=0.5)
    kept = photo_trunk(m)
    assert kept.reference == "trunk" and kept.head_rotation_deg == pytest.approx(10.0, abs=0.5)
