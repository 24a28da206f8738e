"""The MediaPipe adapter on a real photo (a few seconds: models run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posture.landmarks.boxes import MIRRORED, Box, CropBuffer, _crop, _placed, person_box
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker, _run, _xyz
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

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"

pytestmark = pytest.mark.slow


def test_a_still_subject_is_followed_in_every_frame():
    # Moving the crop used to drop the subject for one frame in three.
    img = person_image()
    with MediaPipeLandmarker(video_mode=True) as lm:
        frames = [lm.process(img, i / 30) for i in range(12)]
    assert all(f.pose is not None and f.face is not None for f in frames)
    # Followed, not found anew somewhere else: the face stays where it was (measured drift
    # at most 0.07 shoulder widths over the 12 frames).
    first = frames[0]
    size = np.linalg.norm(first.pose.image_xy[LEFT_SHOULDER] - first.pose.image_xy[RIGHT_SHOULDER])
    for f in frames:
        assert np.abs(f.face.xyz[:, :2] - first.face.xyz[:, :2]).max() < 0.1 * size


def test_unrelated_stills_do_not_share_tracking_state():
    img = person_image()
    mirrored = np.ascontiguousarray(img[:, ::-1])
    with MediaPipeLandmarker(video_mode=False) as lm:
        frames = [lm.process(im, 0.0) for im in (img, img, mirrored, img)]
    assert all(f.pose is not None and f.face is not None for f in frames)
    # Each still on its own: the same picture gives the same landmarks, whatever came before.
    for f in (frames[1], frames[3]):
        np.testing.assert_array_equal(f.pose.image_xy, frames[0].pose.image_xy)
        np.testing.assert_array_equal(f.face.xyz, frames[0].face.xyz)


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


def test_the_direct_model_call_gives_what_mediapipe_process_gives():
    # _run skips SolutionBase.process's per-call namedtuple; the landmarks must not change.
    import mediapipe as mp

    img = person_image()
    pose_a = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
    pose_b = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
    face_a = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True)
    face_b = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True)
    try:
        ours, theirs = _run(pose_a, img), pose_b.process(img)
        assert ours.pose_landmarks is not None and ours.segmentation_mask is None
        for name in ("pose_landmarks", "pose_world_landmarks"):
            a = [(p.x, p.y, p.z, p.visibility) for p in getattr(ours, name).landmark]
            b = [(p.x, p.y, p.z, p.visibility) for p in getattr(theirs, name).landmark]
            assert a == b
        ours, theirs = _run(face_a, img), face_b.process(img)
        assert len(ours.multi_face_landmarks) == 1
        mesh, reference = ours.multi_face_landmarks[0], theirs.multi_face_landmarks[0]
        assert len(mesh.landmark) == 478
        expected = np.array([[p.x, p.y, p.z] for p in reference.landmark])
        np.testing.assert_array_equal(_xyz(mesh), expected)
        # A list whose landmarks also carry visibility (Pose's) is read field by field.
        body = _run(pose_a, img).pose_landmarks
        xyz = np.array([[p.x, p.y, p.z] for p in body.landmark])
        np.testing.assert_array_equal(_xyz(body), xyz)
    finally:
        for s in (pose_a, pose_b, face_a, face_b):
            s.close()


def test_a_crop_inside_the_frame_is_a_copy_and_one_outside_is_padded_grey():
    img = np.arange(40 * 60 * 3, dtype=np.uint32).reshape(40, 60, 3).astype(np.uint8)
    inside, at = _crop(img, Box(10.2, 5.0, 30.0, 25.0))
    assert at == Box(10.0, 5.0, 30.0, 25.0)
    np.testing.assert_array_equal(inside, img[5:25, 10:30])
    assert inside.flags.c_contiguous and not np.shares_memory(inside, img)
    padded, at = _crop(img, Box(-5.0, -5.0, 15.0, 15.0))
    assert padded.shape == (20, 20, 3) and at == Box(-5.0, -5.0, 15.0, 15.0)
    assert np.all(padded[:5] == 110) and np.all(padded[:, :5] == 110)
    np.testing.assert_array_equal(padded[5:, 5:], img[:15, :15])


def test_a_crop_into_a_buffer_reuses_its_picture_and_gives_the_same_pixels():
    # The tracked subject's crop is written into one picture frame after frame; a
    # padded crop must not keep the last frame's pixels in its grey border.
    img = np.arange(40 * 60 * 3, dtype=np.uint32).reshape(40, 60, 3).astype(np.uint8)
    buffer = CropBuffer()
    boxes = [Box(10.0, 5.0, 30.0, 25.0), Box(-5.0, -5.0, 15.0, 15.0), Box(40.0, 25.0, 60.0, 45.0)]
    pictures = []
    for box in boxes:
        got, at = _crop(img, box, into=buffer)
        expected, expected_at = _crop(img, box)
        np.testing.assert_array_equal(got, expected)
        assert at == expected_at and got.flags.c_contiguous
        pictures.append(got)
    assert pictures[0] is pictures[1] is pictures[2]  # one 20x20 picture, reused
    assert buffer.picture(10, 20) is not pictures[0] and buffer.picture(10, 20).shape == (10, 20, 3)


def test_a_model_reading_the_pixels_in_place_gives_what_a_copy_gives():
    import mediapipe as mp

    img = person_image()
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        copied = _run(pose, img).pose_landmarks
        in_place = _run(pose, img, by_reference=True).pose_landmarks
    assert img.flags.writeable  # the caller's array is left as it was
    assert [(p.x, p.y) for p in copied.landmark] == [(p.x, p.y) for p in in_place.landmark]


def _as_rolled_camera(img: np.ndarray, roll_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The picture a camera rolled ``roll_deg`` (posture's convention: true down appears
    at (sin a, cos a) in the picture) takes of the scene ``img`` shows, and the 2x3 map
    from ``img``'s pixels to it. Written from the convention, not from the adapter."""
    import cv2

    a = np.radians(roll_deg)
    turn = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # (0, 1) -> (sin a, cos a)
    assert np.allclose(turn @ [0.0, 1.0], [np.sin(a), np.cos(a)])
    h, w = img.shape[:2]
    c = np.array([w / 2, h / 2])
    m = np.column_stack([turn, c - turn @ c])
    rolled = cv2.warpAffine(img, m, (w, h), borderValue=(110, 110, 110))
    return rolled, m


@pytest.mark.parametrize("roll_deg", [-9.0, 7.0])
def test_frames_of_a_rolled_camera_are_levelled_for_the_models(roll_deg):
    # Set the camera's roll and the models see the scene upright; landmarks come back
    # in the rolled picture's pixels, where the upright picture's land through the roll.
    import cv2

    from posture.geometry.posture_angles import head_tilt_deg, shoulder_tilt_deg
    from posture.io.media import open_media
    from posture.landmarks.levelling import MIN_ROLL_TO_LEVEL_DEG

    src = open_media(SAMPLES / "rom_front.mp4")  # a rendered person, neutral at the start
    first = next(src.frames()).rgb
    src.close()
    # A grey margin keeps the whole person in the rolled picture (its corners are cut).
    upright = cv2.copyMakeBorder(first, 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=(110,) * 3)
    rolled, m = _as_rolled_camera(upright, roll_deg)
    with MediaPipeLandmarker(video_mode=False) as lm:
        truth = lm.process(upright, 0.0)
        lm.set_camera_roll(roll_deg)
        got = lm.process(rolled, 0.0)
        lm.set_camera_roll(MIN_ROLL_TO_LEVEL_DEG / 2)  # too small: frames go as they are
        plain = lm.process(upright, 0.0)
    assert got.pose is not None and got.face is not None and truth.pose is not None
    assert (got.width, got.height) == (rolled.shape[1], rolled.shape[0])
    expected = truth.pose.image_xy @ m[:, :2].T + m[:, 2]
    upper_body = [NOSE, LEFT_EAR, RIGHT_EAR, LEFT_SHOULDER, RIGHT_SHOULDER]
    size = np.linalg.norm(truth.pose.image_xy[LEFT_SHOULDER] - truth.pose.image_xy[RIGHT_SHOULDER])
    # Measured: within 2.0 px of 198 (unlevelled, the same frames miss by up to 3.9).
    assert np.all(np.linalg.norm(got.pose.image_xy[upper_body] - expected[upper_body], axis=1)
                  < 0.015 * size)  # fmt: skip
    # Roll-corrected angles then read what the upright picture reads.
    assert shoulder_tilt_deg(got.pose, roll_deg) == pytest.approx(
        shoulder_tilt_deg(truth.pose), abs=0.5
    )
    eyes = [np.mean(f.face.xyz[list(i), :2], axis=0) for f in (got, truth) for i in
            ((263, 362), (33, 133))]  # fmt: skip
    assert head_tilt_deg(eyes[0], eyes[1], roll_deg) == pytest.approx(
        head_tilt_deg(eyes[2], eyes[3]), abs=0.5
    )
    np.testing.assert_array_equal(plain.pose.image_xy, truth.pose.image_xy)


def test_an_analysis_with_a_rolled_camera_leaves_a_shared_landmarker_unrolled(tmp_path):
    # A landmarker reused after analysing a calibrated photo must not level the next
    # caller's frames by that photo's roll (the accuracy benchmark shares one).
    import cv2

    from posture.io.media import ImageSource, open_media
    from posture.options import AnalysisOptions
    from posture.pipeline import analyze_source

    src = open_media(SAMPLES / "rom_front.mp4")
    upright = next(src.frames()).rgb
    src.close()
    photo = tmp_path / "rolled.png"
    cv2.imwrite(str(photo), cv2.cvtColor(_as_rolled_camera(upright, 6.0)[0], cv2.COLOR_RGB2BGR))
    with MediaPipeLandmarker(video_mode=False) as lm:
        before = lm.process(upright, 0.0)
        report = analyze_source(
            ImageSource(photo), AnalysisOptions(camera_roll_deg=6.0), landmarker=lm
        )
        after = lm.process(upright, 0.0)
    frame = report.to_dict()["frames"][0]
    # The photo was levelled by its 6 deg (truth 0; measured 0.45, and -5.6 without the roll).
    assert abs(frame["head_tilt_deg"]) < 1.5 and abs(frame["shoulder_tilt_deg"]) < 1.5
    np.testing.assert_array_equal(after.pose.image_xy, before.pose.image_xy)


def test_with_pose_every_2_the_pose_model_runs_on_every_other_frame():
    # The live view's setting: the pose is reused on the frame after a tracked one,
    # while the face (the head angles) is found on every frame.
    from itertools import islice

    from posture.io.media import open_media

    src = open_media(SAMPLES / "rom_front.mp4")
    frames = [f for f in islice(src.frames(), 240) if f.t_s >= 7.0][:8]  # turning the head
    src.close()
    with MediaPipeLandmarker(video_mode=True, pose_every=2) as lm:
        got = [lm.process(f.rgb, f.t_s) for f in frames]
    assert all(g.pose is not None and g.face is not None for g in got)
    poses = [g.pose.image_xy for g in got]
    faces = [g.face.xyz for g in got]
    # The first frame is the people search; then tracked, reused, tracked, reused...
    for i in range(2, len(got), 2):
        assert poses[i] is poses[i - 1]  # reused
        assert not np.array_equal(poses[i], poses[i - 2])  # tracked anew one frame later
        assert not np.array_equal(faces[i], faces[i - 1])  # the face follows every frame
    with pytest.raises(ValueError, match="pose_every"):
        MediaPipeLandmarker(pose_every=0)


def _rom_frames(start_s: float, n: int) -> list:
    from itertools import islice

    from posture.io.media import open_media

    src = open_media(SAMPLES / "rom_front.mp4")
    frames = [f for f in islice(src.frames(), int(30 * start_s) + n + 5) if f.t_s >= start_s][:n]
    src.close()
    return frames


def _face_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("posture-face")]


def test_the_overlapped_stream_gives_what_frame_by_frame_processing_gives(monkeypatch):
    # FaceMesh runs on a second thread, one frame behind the pose model: the landmarks
    # must be those of process() frame by frame, levelling and all, in order.
    import threading

    frames = _rom_frames(6.5, 24)  # the head turning, so the face crop moves
    with MediaPipeLandmarker(video_mode=True) as lm:
        lm.set_camera_roll(4.0)
        one_by_one = [lm.process(f.rgb, f.t_s) for f in frames]
    face_threads: set[str] = set()
    with MediaPipeLandmarker(video_mode=True) as lm:
        face_step = lm._face_step

        def recorded(step):
            face_threads.add(threading.current_thread().name)
            return face_step(step)

        monkeypatch.setattr(lm, "_face_step", recorded)
        lm.set_camera_roll(4.0)
        streamed = list(lm.process_stream(frames))
    assert [f for f, _ in streamed] == frames
    assert len(face_threads) == 1 and face_threads.pop().startswith("posture-face")
    for a, (_, b) in zip(one_by_one, streamed, strict=True):
        assert a.pose is not None and a.face is not None and a.t_s == b.t_s
        np.testing.assert_array_equal(a.pose.image_xy, b.pose.image_xy)
        np.testing.assert_array_equal(a.face.xyz, b.face.xyz)
    assert _face_threads() == []


def test_a_failing_face_stage_ends_the_stream_with_its_error_and_its_thread(monkeypatch):
    frames = _rom_frames(0.0, 6)
    with MediaPipeLandmarker(video_mode=True) as lm:
        face_step, calls = lm._face_step, []

        def failing(step):
            calls.append(step.t_s)
            if len(calls) == 3:
                raise RuntimeError("face model failed")
            return face_step(step)

        monkeypatch.setattr(lm, "_face_step", failing)
        got = []
        with pytest.raises(RuntimeError, match="face model failed"):
            for item in lm.process_stream(frames):
                got.append(item)
        assert len(got) == 2  # the frames before the failing one were handed out
        assert _face_threads() == []
        # Stopping early (the caller's error, Ctrl-C) also waits for the face thread.
        monkeypatch.setattr(lm, "_face_step", face_step)
        stream = lm.process_stream(frames)
        next(stream)
        stream.close()
        assert _face_threads() == []
