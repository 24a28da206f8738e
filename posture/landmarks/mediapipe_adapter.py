"""The one place that talks to MediaPipe: frames in, the project's landmark arrays out.

MediaPipe 0.10.21's legacy solutions run offline with the models in its wheel:
Pose (full model, ``model_complexity=1``; 0 and 2 try to download) and
FaceMesh with refined eyes and lips. This module holds their calls and the conversion
of their results into the project's arrays (posture.landmarks.types), and
:class:`MediaPipeLandmarker`, which wires them to the model-free parts:
- posture.landmarks.tracking picks one subject (largest and most central when several
  people are in view), follows them by running Pose on a crop around where they were,
  and counts the people in view now and then, so the report can warn;
- posture.landmarks.head_tracking runs FaceMesh on a crop around the head found by
  Pose, so that a face that is small in the frame still gets enough pixels, and the
  head-pose network (posture.landmarks.head_pose_net) past where FaceMesh loses it;
- posture.landmarks.levelling levels the frames of a rolled camera for the models;
- posture.landmarks.threads overlaps the pose and face stages of a stream.
One instance serves one stream (MediaPipe's video mode needs increasing times).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from types import SimpleNamespace
from typing import Any

import numpy as np

from posture.arrays import Array
from posture.landmarks import head_pose_net as hpn
from posture.landmarks.boxes import Box
from posture.landmarks.head_tracking import HeadTracker, _FaceResult
from posture.landmarks.threads import overlapped_stream
from posture.landmarks.tracking import SubjectTracker, _frame_landmarks, _PoseStep
from posture.landmarks.types import (
    N_POSE,
    FaceLandmarks,
    FrameLandmarks,
    FrameT,
    PoseLandmarks,
)

N_MESH = 468  # face-mesh points without the refined irises


def _pose_from_result(result: Any, box: Box, crop_w: int, crop_h: int) -> PoseLandmarks | None:
    if result.pose_landmarks is None:
        return None
    lms = result.pose_landmarks.landmark
    xy = np.array([[p.x * crop_w + box.x0, p.y * crop_h + box.y0] for p in lms], dtype=float)
    vis = np.array([p.visibility for p in lms], dtype=float)
    if result.pose_world_landmarks is not None:
        world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark], float)
    else:
        world = np.full((N_POSE, 3), np.nan)
    return PoseLandmarks(xy, vis, world)


def _face_from_result(result: Any, box: Box, crop_w: int, crop_h: int) -> FaceLandmarks | None:
    if not result.multi_face_landmarks:
        return None
    xyz = _xyz(result.multi_face_landmarks[0])
    xyz[:, :2] *= (crop_w, crop_h)
    xyz[:, :2] += (box.x0, box.y0)
    xyz[:, 2] *= crop_w
    return FaceLandmarks(xyz)


# A landmark list serialised by protobuf, when every landmark carries exactly x, y, z
# (as FaceMesh's do): per landmark the field header 0x0a, its length 15, then the
# tags 0x0d, 0x15, 0x1d, each followed by a little-endian float32.
_XYZ_RECORD = np.dtype(
    [("head", "u1", 2), ("tx", "u1"), ("x", "<f4"), ("ty", "u1"), ("y", "<f4"),
     ("tz", "u1"), ("z", "<f4")]
)  # fmt: skip


def _xyz(landmark_list: Any) -> Array:
    """(N, 3) normalised x, y, z of a NormalizedLandmarkList.

    Read straight from the serialised message (0.8 ms -> 0.05 ms for FaceMesh's 478
    landmarks); a list of any other layout is read landmark by landmark.
    """
    raw = landmark_list.SerializeToString()
    n = len(landmark_list.landmark)
    if len(raw) == n * _XYZ_RECORD.itemsize:
        rec = np.frombuffer(raw, dtype=_XYZ_RECORD)
        if (
            np.all(rec["head"] == (0x0A, 15))
            and np.all(rec["tx"] == 0x0D)
            and np.all(rec["ty"] == 0x15)
            and np.all(rec["tz"] == 0x1D)
        ):
            xyz: Array = np.stack([rec["x"], rec["y"], rec["z"]], axis=1).astype(float)
            return xyz
    return np.array([[p.x, p.y, p.z] for p in landmark_list.landmark], dtype=float)


def _run(solution: Any, rgb: Array, by_reference: bool = False) -> SimpleNamespace:
    """One call of a MediaPipe legacy solution (Pose, FaceMesh) on an RGB image.

    What ``SolutionBase.process`` does, without the two costs it adds to every call
    (~0.5 ms: it builds a new namedtuple class, and Pose clears each landmark's
    'presence', which nothing here reads). Uses the solution's internals as in
    mediapipe 0.10.21, the pinned version; the outputs are attributes named after the
    graph's output streams (None when the graph gave none).
    ``by_reference``: MediaPipe reads the (C-contiguous) pixels in place instead of
    copying them; the graph has finished with them when this returns.
    """
    if by_reference:
        rgb = rgb.view()
        rgb.flags.writeable = False  # read-only data is taken by reference
    solution._graph_outputs.clear()
    ((stream, stream_type),) = solution._input_stream_type_info.items()
    solution._simulated_timestamp += 33333  # as process() does: a 30 fps clock
    packet = solution._make_packet(stream_type, rgb).at(solution._simulated_timestamp)
    solution._graph.add_packet_to_input_stream(stream=stream, packet=packet)
    solution._graph.wait_until_idle()
    outputs = solution._graph_outputs
    return SimpleNamespace(
        **{
            name: solution._get_packet_content(kind, outputs[name]) if name in outputs else None
            for name, kind in solution._output_stream_type_info.items()
        }
    )


class _PoseModels:
    """MediaPipe Pose as the tracking runs it (posture.landmarks.tracking.PoseModels)."""

    def __init__(self, mp: Any, video_mode: bool) -> None:
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=not video_mode,
            model_complexity=1,  # the full model; 0 and 2 are not in the wheel
            smooth_landmarks=False,  # we filter with real timestamps ourselves
            enable_segmentation=False,
        )
        self._pose_search = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=1, enable_segmentation=False
        )

    def search_pose(self, picture: Array) -> PoseLandmarks | None:
        w, h = picture.shape[1], picture.shape[0]
        return _pose_from_result(_run(self._pose_search, picture), Box(0, 0, w, h), w, h)

    def track_pose(self, crop: Array, at: Box) -> PoseLandmarks | None:
        w, h = crop.shape[1], crop.shape[0]
        pose = _pose_from_result(_run(self._pose, crop, by_reference=True), at, w, h)
        if pose is None:
            # A moved crop invalidates the model's own tracking region for one call;
            # the next call re-detects, so try once more before calling the subject lost.
            pose = _pose_from_result(_run(self._pose, crop, by_reference=True), at, w, h)
        return pose

    def close(self) -> None:
        self._pose.close()
        self._pose_search.close()


class _FaceModel:
    """MediaPipe FaceMesh as the face stage runs it (posture.landmarks.head_tracking)."""

    def __init__(self, mp: Any, video_mode: bool) -> None:
        self._face = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=not video_mode, max_num_faces=1, refine_landmarks=True
        )

    def find_face(self, picture: Array, at: Box | None = None) -> FaceLandmarks | None:
        h, w = picture.shape[:2]
        box = Box(0, 0, w, h) if at is None else at
        return _face_from_result(_run(self._face, picture), box, w, h)

    def close(self) -> None:
        self._face.close()


def _load_head_net() -> hpn.HeadPoseNet:
    return hpn.HeadPoseNet()


class MediaPipeLandmarker:
    """Pose and face landmarks for one stream of frames.

    Args:
        video_mode: True for videos and live frames (tracking between frames),
            False for unrelated still images.
        with_face: run FaceMesh (head angles need it; CVA does not).
        pose_every: while following someone in a video, run the pose model on one
            frame in this many and reuse its landmarks on the others (FaceMesh, which
            gives the head angles, still runs on every frame). The live webcam view
            uses 2; file analysis keeps 1.
        with_head_net: also run the head-pose network on a crop of the head (placed on
            the face mesh, or on the pose model's head points when the face mesh loses
            the face); head angles past about 45 deg from the camera come from it.
    """

    def __init__(
        self,
        video_mode: bool = True,
        with_face: bool = True,
        pose_every: int = 1,
        with_head_net: bool = True,
    ) -> None:
        import mediapipe as mp

        if pose_every < 1:
            raise ValueError(f"pose_every must be 1 or more, not {pose_every}")
        self._video_mode = video_mode
        self._poses = _PoseModels(mp, video_mode)
        self._faces = _FaceModel(mp, video_mode) if with_face else None
        # The pose stage (tracking) and the face stage (head_tracking) share no state:
        # process_stream runs them on two threads.
        self._subject = SubjectTracker(self._poses, video_mode, pose_every)
        self._head = (
            HeadTracker(self._faces, _load_head_net() if with_head_net else None, video_mode)
            if self._faces is not None
            else None
        )
        self.max_people_seen = 0

    def close(self) -> None:
        self._poses.close()
        if self._faces is not None:
            self._faces.close()

    def __enter__(self) -> MediaPipeLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def follow_near(self, centre_px: tuple[float, float], size_px: float | None = None) -> None:
        """From the next frame on, follow the person nearest ``centre_px`` (pixels of the
        frame); see :meth:`SubjectTracker.follow_near`."""
        self._subject.follow_near(centre_px, size_px)

    def set_camera_roll(self, roll_deg: float) -> None:
        """Level every frame by the camera's roll (deg, from calibration) before the
        models see it; see :meth:`SubjectTracker.set_camera_roll`."""
        self._subject.set_camera_roll(roll_deg)

    def find_people(self, rgb: Array) -> list[PoseLandmarks]:
        """Up to three people in the frame, as pose landmarks in the pixels of ``rgb``."""
        return self._subject.find_people(rgb)

    def count_people(self, rgb: Array, known: list[PoseLandmarks] | None = None) -> int:
        """People in view (``known`` ones are greyed out first, in pixels of ``rgb``)."""
        return self._subject.count_people(rgb, known)

    def process(self, rgb: Array, t_s: float) -> FrameLandmarks:
        """Landmarks of the followed subject in one upright RGB frame (levelled first when
        a camera roll is set), in the frame's pixels."""
        step = self._pose_step(rgb, t_s)
        return _frame_landmarks(step, *self._face_step(step))

    def process_stream(
        self, frames: Iterable[FrameT], overlap: bool = True
    ) -> Generator[tuple[FrameT, FrameLandmarks], None, None]:
        """Each frame (anything with ``rgb`` and ``t_s``) with its landmarks, in order;
        the same landmarks as :meth:`process` frame by frame.

        In video mode FaceMesh runs on a second thread, on one frame while the pose
        model takes the next (MediaPipe releases the GIL while its graph runs), so a
        frame costs about the pose model's time instead of both models' on two cores.
        The next frame is therefore taken before a frame is handed out; ``overlap=False``
        takes frames one at a time (for a caller that decides, from each result,
        whether to go on).
        """
        if not (overlap and self._video_mode and self._faces is not None):
            for frame in frames:
                yield frame, self.process(frame.rgb, frame.t_s)
            return
        yield from overlapped_stream(
            frames, self._pose_step, self._face_step, lambda s, f: _frame_landmarks(s, *f)
        )

    def _pose_step(self, rgb: Array, t_s: float) -> _PoseStep:
        """The pose stage of one frame: levelling, people search, tracking."""
        step = self._subject.step(rgb, t_s)
        if step.people is not None:
            self.max_people_seen = max(self.max_people_seen, step.people)
        return step

    def _face_step(self, step: _PoseStep) -> _FaceResult:
        """The face stage of one frame: FaceMesh on a crop around the pose's head, then the
        head-pose network on a crop placed on the face (or on the pose's head points)."""
        return self._head.step(step) if self._head is not None else (None, None)
