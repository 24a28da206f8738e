"""The one place that talks to MediaPipe: frames in, the project's landmark arrays out.

MediaPipe 0.10.21's legacy solutions run offline with the models in its wheel:
Pose (full model, ``model_complexity=1``; 0 and 2 try to download) and
FaceMesh with refined eyes and lips. Around them this adapter:
- picks one subject (largest and most central when several people are in view)
  and follows them by running Pose on a crop around where they were;
- runs FaceMesh on a crop around the head found by Pose, so that a face that is
  small in the frame still gets enough pixels;
- counts the people in view now and then, so the report can warn.
One instance serves one stream (MediaPipe's video mode needs increasing times).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from posture.landmarks.types import (
    LEFT_EAR,
    LEFT_EYE,
    LEFT_SHOULDER,
    N_POSE,
    NOSE,
    RIGHT_EAR,
    RIGHT_EYE,
    RIGHT_SHOULDER,
    FaceLandmarks,
    FrameLandmarks,
    FrameT,
    HeadRotation,
    PoseLandmarks,
)

MAX_PEOPLE_COUNTED = 3
N_MESH = 468  # face-mesh points without the refined irises
# Count people in view every EARLY_COUNT_INTERVAL_S at the start (when the subject
# is chosen and detection of small people is hit and miss), then every
# RECOUNT_INTERVAL_S: a count costs up to 11 model runs.
EARLY_COUNT_UNTIL_S = 3.0
EARLY_COUNT_INTERVAL_S = 2.0
RECOUNT_INTERVAL_S = 10.0
# Retry a lost subject after this long, doubling up to the maximum while nobody is
# found (a search costs up to 6 model runs).
REACQUIRE_INTERVAL_S = 0.25
REACQUIRE_MAX_INTERVAL_S = 2.0
# Long side (px) of the frame used to search for people; search is coarse by design.
SEARCH_MAX_SIDE_PX = 960
# Crops move only when the subject drifts more than this fraction of their size,
# which keeps MediaPipe's own frame-to-frame tracking stable.
ROI_HYSTERESIS = 0.12
# A still photo has no frames to average over, so its pose is the median over
# crops of the subject at these (scale, shift x, shift y) (fractions of the crop
# size), each also mirrored: up to 15 model runs. On rendered stills (make accuracy)
# this lowered the CVA error from 5.0 to 4.3 deg and shoulder tilt from 1.05 to 0.92.
STILL_CROPS = (
    (1.0, 0.0, 0.0),
    (1.15, 0.0, 0.0),
    (0.9, 0.0, 0.0),
    (1.0, 0.06, 0.0),
    (1.0, -0.06, 0.0),
    (1.0, 0.0, 0.06),
    (1.0, 0.0, -0.06),
)
# Borders (fractions of the long side) tried around a photo whose subject is cut by
# its edge, when no other search found anyone.
EDGE_PAD_FRACTIONS = (0.5, 0.8)
# ... and kept only when more than this many of the STILL_CROPS find them again.
EDGE_MIN_CONFIRMING_CROPS = 2
# A camera rolled at least this much (deg, from calibration) has its frames levelled
# before the models see them (see MediaPipeLandmarker.set_camera_roll).
MIN_ROLL_TO_LEVEL_DEG = 1.0
# Landmark index of each landmark's mirror image (left <-> right).
MIRRORED = (0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21,
            24, 23, 26, 25, 28, 27, 30, 29, 32, 31)  # fmt: skip


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def centre(self) -> np.ndarray:
        return np.array([(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2])

    @property
    def size(self) -> float:
        return max(self.x1 - self.x0, self.y1 - self.y0)

    def clip(self, width: int, height: int) -> Box:
        return Box(max(0.0, self.x0), max(0.0, self.y0), min(width, self.x1), min(height, self.y1))

    def int_slices(self) -> tuple[slice, slice]:
        return slice(int(self.y0), int(np.ceil(self.y1))), slice(
            int(self.x0), int(np.ceil(self.x1))
        )

    def far_from(self, other: Box) -> bool:
        shift = float(np.linalg.norm(self.centre - other.centre))
        return shift > ROI_HYSTERESIS * other.size or abs(self.size - other.size) > (
            ROI_HYSTERESIS * other.size
        )


@dataclass(frozen=True)
class _PoseStep:
    """One frame after the pose model: what the face stage and the result need."""

    view: np.ndarray  # the picture the models see (levelled when a camera roll is set)
    to_view: np.ndarray | None  # 2x3 map from the frame's pixels to the view's; None: same
    frame_w: int
    frame_h: int
    t_s: float
    pose: PoseLandmarks | None
    people: int | None
    face_epoch: int  # the face crop is forgotten when this changes (see _forget_face)


def _square(centre: np.ndarray, side: float) -> Box:
    h = side / 2
    return Box(centre[0] - h, centre[1] - h, centre[0] + h, centre[1] + h)


def _pose_from_result(result, box: Box, crop_w: int, crop_h: int) -> PoseLandmarks | None:
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


def _face_from_result(result, box: Box, crop_w: int, crop_h: int) -> FaceLandmarks | None:
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


def _xyz(landmark_list: Any) -> np.ndarray:
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
            return np.stack([rec["x"], rec["y"], rec["z"]], axis=1).astype(float)
    return np.array([[p.x, p.y, p.z] for p in landmark_list.landmark], dtype=float)


def _run(solution: Any, rgb: np.ndarray, by_reference: bool = False) -> SimpleNamespace:
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


def person_box(pose: PoseLandmarks, min_visibility: float = 0.0) -> Box:
    """Generous square around a person's landmarks (by default also the predicted ones,
    which may lie outside the frame); ``min_visibility`` keeps only those seen."""
    keep = np.isfinite(pose.image_xy).all(axis=1)
    if min_visibility > 0 and np.sum(keep & (pose.visibility >= min_visibility)) >= 4:
        keep &= pose.visibility >= min_visibility
    xy = pose.image_xy[keep]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    centre = (lo + hi) / 2
    side = max(float(np.max(hi - lo)) * 1.4, 96.0)
    return _square(centre, side)


def head_box(pose: PoseLandmarks) -> Box | None:
    """Square around the head for FaceMesh, sized from the ears, eyes and shoulders."""
    head_pts = [i for i in (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR) if pose.visible(i, 0.3)]
    if NOSE not in head_pts:
        return None
    xy = pose.image_xy
    centre = np.mean(xy[head_pts], axis=0)
    ear_w = float(np.linalg.norm(xy[LEFT_EAR] - xy[RIGHT_EAR]))
    eye_w = float(np.linalg.norm(xy[LEFT_EYE] - xy[RIGHT_EYE]))
    neck = float(np.linalg.norm(xy[NOSE] - (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2))
    side = max(2.4 * ear_w, 5.0 * eye_w, 0.9 * neck, 48.0)
    return _square(centre, side)


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
        self._mp = mp
        self._video_mode = video_mode
        self._pose_every = pose_every if video_mode else 1
        self._reused_pose: PoseLandmarks | None = None  # the last tracked pose ...
        self._reused_size: tuple[int, int] | None = None  # ... in frames of this size
        self._reuses_left = 0  # ... and how many more frames may reuse it
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=not video_mode,
            model_complexity=1,  # the full model; 0 and 2 are not in the wheel
            smooth_landmarks=False,  # we filter with real timestamps ourselves
            enable_segmentation=False,
        )
        self._pose_search = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=1, enable_segmentation=False
        )
        self._face = (
            mp.solutions.face_mesh.FaceMesh(
                static_image_mode=not video_mode, max_num_faces=1, refine_landmarks=True
            )
            if with_face
            else None
        )
        # The head-pose network follows the head past what the face mesh does (to 90 deg).
        self._head_net = _load_head_net() if with_face and with_head_net else None
        self._head_follow: _HeadFollow | None = None  # touched by the face stage only
        self._face_seen_t = -np.inf  # when the face mesh last found the face (face stage)
        self._facing_frames = 0  # frames with the face mesh's head near facing the camera
        self._roi: Box | None = None
        self._pose_crop = CropBuffer()  # the tracked subject's crop, every frame
        self._face_roi: Box | None = None  # touched by the face stage only
        self._face_epoch = 0  # the pose stage's count of "forget the face crop"
        self._face_epoch_seen = 0  # ... and the face stage's
        self._last_centre: np.ndarray | None = None
        self._next_search_t = -np.inf
        self._search_backoff_s = REACQUIRE_INTERVAL_S
        self._next_count_t = 0.0
        self._edge_runs: list[PoseLandmarks] = []  # see _search_edges
        self._roll_deg = 0.0
        self._follow_request: tuple[tuple[float, float], float | None] | None = None
        self.max_people_seen = 0

    def close(self) -> None:
        self._pose.close()
        self._pose_search.close()
        if self._face is not None:
            self._face.close()

    def __enter__(self) -> MediaPipeLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def follow_near(self, centre_px: tuple[float, float], size_px: float | None = None) -> None:
        """From the next frame on, follow the person nearest ``centre_px`` (pixels of the
        frame) instead of choosing the largest and most central one: a subject handed
        over from another part of the same video (see posture.runners.chunked). With
        ``size_px`` (their :func:`person_box` size) they are tracked from that box as if
        followed up to here; a search runs only when they are not found there."""
        self._follow_request = (centre_px, size_px)  # applied by the next process()

    def set_camera_roll(self, roll_deg: float) -> None:
        """Level every frame by the camera's roll (deg, posture's convention: clockwise
        as seen from behind the camera; from calibration) before the models see it.

        The models are trained on upright people: a tilted view moves their ear and
        shoulder landmarks by more than the roll correction of the angles can undo.
        Landmarks still come back in the pixels of the frame as given. Under
        MIN_ROLL_TO_LEVEL_DEG frames go to the models as they are.
        """
        roll_deg = float(roll_deg) if abs(roll_deg) >= MIN_ROLL_TO_LEVEL_DEG else 0.0
        if roll_deg != self._roll_deg:
            self._lose_track()  # it was in the pixels of the old view
        self._roll_deg = roll_deg

    def _lose_track(self) -> None:
        """Forget where the subject was: the next frame searches the whole picture."""
        self._roi = self._last_centre = None
        self._forget_face()
        self._next_search_t = -np.inf
        self._reuses_left = 0

    # -- people search -------------------------------------------------------------

    def find_people(self, rgb: np.ndarray) -> list[PoseLandmarks]:
        """Up to three people in the frame, as pose landmarks in the pixels of ``rgb``."""
        import cv2

        h, w = rgb.shape[:2]
        scale = min(1.0, SEARCH_MAX_SIDE_PX / max(h, w))
        img = cv2.resize(rgb, (int(w * scale), int(h * scale))) if scale < 1 else rgb
        found = self._search(img.copy())
        if not found:
            found = self._search_padded(img.copy())
        if not found:
            found = self._search_tiles(img)
        self._edge_runs = []
        if not found and not self._video_mode:
            found = self._search_edges(img)
        self._edge_runs = [_moved(p, 0.0, 0.0, 1.0 / scale) for p in self._edge_runs]
        return [_moved(p, 0.0, 0.0, 1.0 / scale) for p in found]

    def count_people(self, rgb: np.ndarray, known: list[PoseLandmarks] | None = None) -> int:
        """People in view: the whole frame, then overlapping tiles for small, far people.

        ``known`` people (pixels of ``rgb``) are greyed out first, so the search spends
        no model run on finding them again.
        """
        import cv2

        h, w = rgb.shape[:2]
        scale = min(1.0, SEARCH_MAX_SIDE_PX / max(h, w))
        img = cv2.resize(rgb, (int(w * scale), int(h * scale))) if scale < 1 else rgb.copy()
        known_small = [_moved(p, 0.0, 0.0, scale) for p in (known or [])]
        for p in known_small:
            _grey_out(img, p)
        found = known_small + self._search(img.copy())
        ih, iw = img.shape[:2]
        th, tw = int(ih * 0.6), int(iw * 0.6)
        for y0 in (0, ih - th):
            for x0 in (0, iw - tw):
                tile = np.ascontiguousarray(img[y0 : y0 + th, x0 : x0 + tw])
                found += [_moved(p, x0, y0) for p in self._search(tile, 1)]
        distinct: list[PoseLandmarks] = []
        for p in found:
            if not any(_same_person(p, q) for q in distinct):
                distinct.append(p)
        return len(distinct)

    def _search_padded(self, img: np.ndarray) -> list[PoseLandmarks]:
        """Search with a grey border: a person who fills the whole frame (a close
        side-view photo) is often found only with some context around them."""
        import cv2

        pad = int(0.25 * max(img.shape[:2]))
        padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(110,) * 3)
        return [_moved(p, -pad, -pad) for p in self._search(padded, 1)]

    def _search_edges(self, img: np.ndarray) -> list[PoseLandmarks]:
        """Last resort, for photos only, for a head cut by the frame's edge (a close
        side view): extend the edge pixels outwards, as the image and as its mirror
        image (the detector is not mirror-symmetric)."""
        import cv2

        for pad_fraction in EDGE_PAD_FRACTIONS:
            pad = int(pad_fraction * max(img.shape[:2]))
            padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            for mirrored in (False, True):
                view = np.ascontiguousarray(padded[:, ::-1]) if mirrored else padded
                full = Box(0, 0, view.shape[1], view.shape[0])
                result = _run(self._pose_search, view)
                found = _pose_from_result(result, full, view.shape[1], view.shape[0])
                if found is None:
                    continue
                unpadded = Box(-pad, -pad, view.shape[1] - pad, view.shape[0] - pad)
                pose = _placed(found, unpadded, view.shape[1], mirrored)
                # Extended edges also make people out of objects (a coffee cup): keep
                # only someone whom crops around them (edges extended too) find again;
                # those crops then serve as the photo's refinement (_refine_still).
                runs = self._crop_runs(img, pose, extend_edges=True)
                if len(runs) > EDGE_MIN_CONFIRMING_CROPS:
                    self._edge_runs = runs
                    return [pose]
        return []

    def _search_tiles(self, img: np.ndarray) -> list[PoseLandmarks]:
        """Search overlapping tiles: the detector sees the whole frame at 224 px,
        where a person far from the camera is too small to find."""
        h, w = img.shape[:2]
        th, tw = int(h * 0.6), int(w * 0.6)
        for y0 in (0, h - th):
            for x0 in (0, w - tw):
                found = self._search(np.ascontiguousarray(img[y0 : y0 + th, x0 : x0 + tw]), 1)
                if found:
                    return [_moved(found[0], x0, y0)]
        return []

    def _search(self, img: np.ndarray, max_people: int = MAX_PEOPLE_COUNTED) -> list[PoseLandmarks]:
        """Find a person, grey them out, search again (``img`` is modified)."""
        found: list[PoseLandmarks] = []
        full = Box(0, 0, img.shape[1], img.shape[0])
        for _ in range(max_people):
            pose = _pose_from_result(_run(self._pose_search, img), full, img.shape[1], img.shape[0])
            if pose is None:
                break
            if not _grey_out(img, pose):
                break
            found.append(pose)
        return found

    def _choose(self, people: list[PoseLandmarks], width: int, height: int) -> PoseLandmarks:
        if self._last_centre is not None:
            last = self._last_centre
            return min(people, key=lambda p: float(np.linalg.norm(person_box(p).centre - last)))
        frame_centre = np.array([width / 2, height / 2])
        diag = float(np.hypot(width, height))

        def score(p: PoseLandmarks) -> float:
            b = person_box(p)
            area = (b.x1 - b.x0) * (b.y1 - b.y0)
            off_centre = float(np.linalg.norm(b.centre - frame_centre)) / diag
            return area * (1.0 - off_centre)

        return max(people, key=score)

    # -- per frame -----------------------------------------------------------------

    def process(self, rgb: np.ndarray, t_s: float) -> FrameLandmarks:
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
        if not (overlap and self._video_mode and self._face is not None):
            for frame in frames:
                yield frame, self.process(frame.rgb, frame.t_s)
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="posture-face") as pool:
            pending: tuple[FrameT, _PoseStep, Future[_FaceResult]] | None = None
            for frame in frames:
                step = self._pose_step(frame.rgb, frame.t_s)
                face_job = pool.submit(self._face_step, step)
                if pending is not None:
                    yield pending[0], _frame_landmarks(pending[1], *pending[2].result())
                pending = (frame, step, face_job)
            if pending is not None:
                yield pending[0], _frame_landmarks(pending[1], *pending[2].result())
        # leaving the block (also on close() or an error) waits for the face thread

    def _pose_step(self, rgb: np.ndarray, t_s: float) -> _PoseStep:
        """The pose stage of one frame: levelling, people search, tracking."""
        view, to_view = (rgb, None) if not self._roll_deg else _levelled(rgb, self._roll_deg)
        self._take_follow_request(to_view)
        pose, people = self._track_subject(view, t_s)
        h, w = rgb.shape[:2]
        return _PoseStep(view, to_view, w, h, t_s, pose, people, self._face_epoch)

    def _face_step(self, step: _PoseStep) -> _FaceResult:
        """The face stage of one frame: FaceMesh on a crop around the pose's head, then the
        head-pose network on a crop placed on the face (or on the pose's head points)."""
        if step.face_epoch != self._face_epoch_seen:
            self._face_roi = self._head_follow = None
            self._face_seen_t = -np.inf  # a new track starts from a face again
            self._face_epoch_seen = step.face_epoch
        face = self._track_face(step.view, step.pose)
        return face, self._head_rotation(step.view, face, step.pose, step.t_s)

    def _head_rotation(
        self, view: np.ndarray, face: FaceLandmarks | None, pose: PoseLandmarks | None, t_s: float
    ) -> HeadRotation | None:
        """The head-pose network's reading of the followed head, or None when no crop of
        it gives a confident answer that a head could have reached since the last one."""
        if self._head_net is None:
            return None
        from posture.landmarks import head_pose_net as hpn

        follow = self._head_follow if self._video_mode else None
        if follow is not None and t_s - follow.t_s > HEAD_FOLLOW_FOR_S:
            follow = self._head_follow = None
        if face is not None:
            self._face_seen_t = t_s
        elif self._video_mode and follow is None and t_s - self._face_seen_t > HEAD_ANCHOR_S:
            # No face lately and no head being followed (a masked or hidden face, the back
            # of a head): the network does not invent a head from hair or a mask; it only
            # carries on a head that began as a face.
            return None
        if face is not None and self._video_mode and _facing_camera(face):
            # The face mesh alone gives the head angle here (posture.geometry.head.fused_head):
            # the network runs on one such frame in HEAD_NET_EVERY_FACING, enough to align
            # the two models over a recording, and its time is saved on the others.
            self._facing_frames += 1
            if self._facing_frames % HEAD_NET_EVERY_FACING:
                return None
        tries: list[tuple[str, hpn.HeadPose]] = []
        if face is not None:
            # A crop on the face mesh is a face: no mirror check (half the cost).
            box = hpn.roi_box_from_face_mesh(face.xyz)
            tries.append(("face", self._head_net.estimate(view, box, mirror_check=False)))
        else:
            # Past what the face mesh follows: from the last crop (the head moved little
            # since), and from the pose model's head points.
            if follow is not None:
                tries.append(("follow", self._head_net.estimate(view, follow.box)))
            box = hpn.roi_box_from_head(pose.image_xy, pose.visibility) if pose else None
            if box is not None and not (tries and tries[0][1].confidence >= HEAD_SURE):
                estimate = self._head_net.estimate if follow else self._head_net.estimate_around
                tries.append(("pose", estimate(view, box)))
        for source, hp in sorted(tries, key=lambda x: -x[1].confidence):
            min_conf = HEAD_MIN_CONFIDENCE_FACE if source == "face" else HEAD_MIN_CONFIDENCE
            if not self._video_mode and source != "face":
                min_conf = HEAD_MIN_CONFIDENCE_STILL
            if hp.confidence < min_conf:
                continue
            if follow is not None and not _head_could_reach(follow, hp.rotation, t_s):
                continue
            if self._video_mode:
                self._head_follow = _HeadFollow(hp.rotation, hp.roi_box, t_s)
            x0, y0, x1, y1 = hp.roi_box
            centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2], dtype=float)
            return HeadRotation(hp.rotation, centre, source, hp.confidence)
        return None

    def _forget_face(self) -> None:
        """The face stage forgets its crop from the next frame the pose stage hands it
        (the stages may run on different threads, so the pose stage never touches it)."""
        self._face_epoch += 1

    def _take_follow_request(self, to_view: np.ndarray | None) -> None:
        """Apply a pending follow_near() in the pixels the models will see."""
        if self._follow_request is None:
            return
        (x, y), size_px = self._follow_request
        self._follow_request = None
        centre = np.array([x, y], dtype=float)
        if to_view is not None:
            centre = to_view[:, :2] @ centre + to_view[:, 2]
        self._lose_track()
        self._last_centre = centre
        self._roi = _square(centre, size_px) if size_px else None

    def _track_subject(
        self, rgb: np.ndarray, t_s: float
    ) -> tuple[PoseLandmarks | None, int | None]:
        """The followed subject's pose in ``rgb`` (None: nobody) and, when they were
        counted on this frame, the number of people in view."""
        if not self._video_mode:  # unrelated stills: nothing carries over between calls
            self._lose_track()
        h, w = rgb.shape[:2]
        people: int | None = None
        pose: PoseLandmarks | None = None
        if self._roi is None and t_s >= self._next_search_t:
            self._reuses_left = 0
            found = self.find_people(rgb)
            people = len(found)
            if self._video_mode and found and t_s >= self._next_count_t:
                people = self.count_people(rgb, known=found)
                self._next_count_t = self._count_due_after(t_s)
            if found:
                pose = self._choose(found, w, h)  # the search's landmarks serve this frame
                if not self._video_mode:
                    pose = self._refine_still(rgb, pose)
                self._follow(pose)
                self._search_backoff_s = REACQUIRE_INTERVAL_S
            else:
                self._next_search_t = t_s + self._search_backoff_s
                self._search_backoff_s = min(2 * self._search_backoff_s, REACQUIRE_MAX_INTERVAL_S)
        elif self._roi is not None and self._reuses_left > 0 and self._reused_size == (w, h):
            pose, self._reuses_left = self._reused_pose, self._reuses_left - 1
        elif self._roi is not None:
            pose = self._track_pose(rgb)
            self._reused_pose, self._reused_size = pose, (w, h)
            self._reuses_left = self._pose_every - 1 if pose is not None else 0
            if self._video_mode and t_s >= self._next_count_t:
                people = self.count_people(rgb, known=[pose] if pose is not None else None)
                self._next_count_t = self._count_due_after(t_s)
        if people is not None:
            self.max_people_seen = max(self.max_people_seen, people)
        return pose, people

    @staticmethod
    def _count_due_after(t_s: float) -> float:
        return t_s + (EARLY_COUNT_INTERVAL_S if t_s < EARLY_COUNT_UNTIL_S else RECOUNT_INTERVAL_S)

    def _follow(self, pose: PoseLandmarks) -> None:
        """Move the crop to the subject only when they drifted (keeps tracking stable)."""
        new_roi = person_box(pose)
        if self._roi is None or not self._video_mode or new_roi.far_from(self._roi):
            self._roi = new_roi
        self._last_centre = new_roi.centre

    def _refine_still(self, rgb: np.ndarray, pose: PoseLandmarks) -> PoseLandmarks:
        """The median pose over crops around the subject and their mirror images.

        Crops frame the landmarks the model saw (predicted legs below the frame
        would make them mostly empty); a run that puts the head or shoulders far
        from the first detection found something else and is left out.
        """
        runs = [pose, *(self._edge_runs or self._crop_runs(rgb, pose))]
        return PoseLandmarks(
            np.median([p.image_xy for p in runs], axis=0),
            np.median([p.visibility for p in runs], axis=0),
            np.median([p.world_xyz for p in runs], axis=0),
        )

    def _crop_runs(
        self, rgb: np.ndarray, pose: PoseLandmarks, extend_edges: bool = False
    ) -> list[PoseLandmarks]:
        """The poses found in STILL_CROPS around ``pose`` (and mirrored) that agree with it;
        ``extend_edges``: parts of a crop outside the image repeat its edge pixels."""
        base = person_box(pose, min_visibility=0.5)
        runs: list[PoseLandmarks] = []
        for scale, dx, dy in STILL_CROPS:
            box = _square(base.centre + np.array([dx, dy]) * base.size, base.size * scale)
            crop, at = _crop(rgb, box, extend_edges)
            for mirrored in (False, True):
                img = np.ascontiguousarray(crop[:, ::-1]) if mirrored else crop
                found = _pose_from_result(
                    _run(self._pose_search, img),
                    Box(0, 0, img.shape[1], img.shape[0]),
                    img.shape[1],
                    img.shape[0],
                )
                if found is None:
                    continue
                placed = _placed(found, at, img.shape[1], mirrored)
                if _agrees(placed, pose, 0.15 * base.size):
                    runs.append(placed)
        return runs

    def _track_pose(self, rgb: np.ndarray) -> PoseLandmarks | None:
        assert self._roi is not None
        crop, box = _crop(rgb, self._roi, into=self._pose_crop)
        w, h = crop.shape[1], crop.shape[0]
        pose = _pose_from_result(_run(self._pose, crop, by_reference=True), box, w, h)
        if pose is None:
            # A moved crop invalidates the model's own tracking region for one call;
            # the next call re-detects, so try once more before calling the subject lost.
            pose = _pose_from_result(_run(self._pose, crop, by_reference=True), box, w, h)
        if pose is None:
            self._roi = None  # lost: search the whole frame next time
            return None
        self._follow(pose)
        return pose

    def _track_face(self, rgb: np.ndarray, pose: PoseLandmarks | None) -> FaceLandmarks | None:
        if self._face is None:
            return None
        h, w = rgb.shape[:2]
        target = head_box(pose) if pose is not None else None
        if target is None:
            # No body found (a face close-up): search the whole frame.
            result = _run(self._face, rgb)
            return _face_from_result(result, Box(0, 0, w, h), w, h)
        if self._face_roi is None or not self._video_mode or target.far_from(self._face_roi):
            self._face_roi = target
        crop, box = _crop(rgb, self._face_roi)
        if crop.shape[0] < 16 or crop.shape[1] < 16:
            return None
        face = _face_from_result(_run(self._face, crop), box, crop.shape[1], crop.shape[0])
        if face is None and not self._video_mode:
            face = _face_from_result(_run(self._face, rgb), Box(0, 0, w, h), w, h)
        return face


_FaceResult = tuple[FaceLandmarks | None, HeadRotation | None]

# The head-pose network's answers are kept only above these confidences (0..1: how well
# the crop frames a face and agrees with its mirror image). A crop placed on the face mesh
# is a face; one placed on the pose model's head points, or carried from the last frame,
# can be hair or the back of the head, and needs more.
HEAD_MIN_CONFIDENCE_FACE = 0.3
HEAD_MIN_CONFIDENCE = 0.5
HEAD_MIN_CONFIDENCE_STILL = 0.6  # a photo's crop on the pose's head points, no face mesh
# In a video the network starts on a head the face mesh found within this time (s), and
# then follows it from frame to frame.
HEAD_ANCHOR_S = 3.0
HEAD_SURE = 0.8  # a followed crop this confident needs no second try from the pose
# A followed head may turn this fast (deg/s), plus a margin for one frame's error (deg);
# a reading beyond it is another thing the crop landed on.
HEAD_MAX_SPEED_DEG_S = 250.0
HEAD_MARGIN_DEG = 25.0
HEAD_FOLLOW_FOR_S = 1.0  # the last crop is followed for this long without a new reading


# Within this angle (deg) of facing the camera by the face mesh, the network (whose answer
# is not used below posture.geometry.head.BLEND_FROM_DEG) runs on one frame in this many.
HEAD_NET_FACING_DEG = 20.0
HEAD_NET_EVERY_FACING = 3


def _facing_camera(face: FaceLandmarks) -> bool:
    from posture.geometry.head import away_from_camera_deg, head_frame_from_face

    head = head_frame_from_face(face.xyz)
    return head is not None and away_from_camera_deg(head) < HEAD_NET_FACING_DEG


@dataclass(frozen=True)
class _HeadFollow:
    rotation: np.ndarray
    box: tuple[float, float, float, float]
    t_s: float


def _head_could_reach(last: _HeadFollow, rotation: np.ndarray, t_s: float) -> bool:
    cos = (np.trace(last.rotation.T @ rotation) - 1.0) / 2.0
    turned_deg = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return turned_deg <= HEAD_MAX_SPEED_DEG_S * max(t_s - last.t_s, 0.0) + HEAD_MARGIN_DEG


def _load_head_net():
    from posture.landmarks.head_pose_net import HeadPoseNet

    return HeadPoseNet()


def _frame_landmarks(
    step: _PoseStep, face: FaceLandmarks | None, head: HeadRotation | None = None
) -> FrameLandmarks:
    """A frame's landmarks in the frame's own pixels (mapped back from a levelled view)."""
    pose = step.pose
    if step.to_view is not None:
        to_frame = _inverse_affine(step.to_view)
        pose = None if pose is None else _pose_mapped(pose, to_frame)
        face = None if face is None else _face_mapped(face, to_frame)
        head = None if head is None else _head_mapped(head, to_frame)
    return FrameLandmarks(step.t_s, step.frame_w, step.frame_h, pose, face, step.people, head)


def _head_mapped(head: HeadRotation, m: np.ndarray) -> HeadRotation:
    """A head rotation seen in the levelled view, in the frame's camera axes: the view is
    the frame turned about the optical axis, so the rotation turns back with it."""
    turn = np.eye(3)
    turn[:2, :2] = m[:, :2]
    centre = m[:, :2] @ head.centre_px + m[:, 2]
    return HeadRotation(turn @ head.rotation, centre, head.source, head.confidence)


class CropBuffer:
    """One picture reused for a crop taken on every frame (the tracked subject's):
    writing into memory already in use costs less than a new array every frame."""

    def __init__(self) -> None:
        self._picture: np.ndarray | None = None

    def picture(self, height: int, width: int) -> np.ndarray:
        if self._picture is None or self._picture.shape[:2] != (height, width):
            self._picture = np.empty((height, width, 3), dtype=np.uint8)
        return self._picture


def _picture(height: int, width: int, into: CropBuffer | None) -> np.ndarray:
    """An RGB picture to write a crop into: ``into``'s, or a new one."""
    if into is None:
        return np.empty((height, width, 3), dtype=np.uint8)
    return into.picture(height, width)


def _crop(
    rgb: np.ndarray, box: Box, extend_edges: bool = False, into: CropBuffer | None = None
) -> tuple[np.ndarray, Box]:
    """Crop ``box`` out of ``rgb``; parts outside the frame are filled with grey (with
    ``extend_edges``: with the frame's edge pixels repeated outwards). ``into``: write
    the crop into that buffer's picture (valid until its next use) instead of a new one.

    Keeping the crop square and padded (rather than clipped) gives the models the
    context they expect when the person fills or leaves the frame.
    """
    h, w = rgb.shape[:2]
    x0, y0 = int(np.floor(box.x0)), int(np.floor(box.y0))
    x1, y1 = int(np.ceil(box.x1)), int(np.ceil(box.y1))
    if 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h:  # inside the frame: no grey to fill
        inside = _picture(y1 - y0, x1 - x0, into)
        inside[...] = rgb[y0:y1, x0:x1]
        return inside, Box(float(x0), float(y0), float(x1), float(y1))
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if extend_edges and ix1 > ix0 and iy1 > iy0:
        import cv2

        border = (iy0 - y0, y1 - iy1, ix0 - x0, x1 - ix1)
        extended = cv2.copyMakeBorder(rgb[iy0:iy1, ix0:ix1], *border, cv2.BORDER_REPLICATE)
        return extended, Box(float(x0), float(y0), float(x1), float(y1))
    canvas = _picture(max(y1 - y0, 1), max(x1 - x0, 1), into)
    canvas.fill(110)
    if ix1 > ix0 and iy1 > iy0:
        canvas[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = rgb[iy0:iy1, ix0:ix1]
    return canvas, Box(
        float(x0), float(y0), float(x0 + canvas.shape[1]), float(y0 + canvas.shape[0])
    )


def _levelled(rgb: np.ndarray, roll_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The frame turned so that the true vertical of a camera rolled ``roll_deg`` is the
    picture's vertical, on a canvas large enough to keep all of it (grey corners), and
    the 2x3 affine map from the frame's pixels to the levelled picture's."""
    import cv2

    h, w = rgb.shape[:2]
    a = np.radians(roll_deg)
    out_w = int(np.ceil(w * abs(np.cos(a)) + h * abs(np.sin(a))))
    out_h = int(np.ceil(h * abs(np.cos(a)) + w * abs(np.sin(a))))
    # True down is (sin a, cos a) in the frame (x right, y down); turn it to (0, 1).
    to_levelled = cv2.getRotationMatrix2D((w / 2, h / 2), -roll_deg, 1.0)
    to_levelled[:, 2] += ((out_w - w) / 2, (out_h - h) / 2)
    levelled = cv2.warpAffine(
        rgb, to_levelled, (out_w, out_h), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=(110, 110, 110),
    )  # fmt: skip
    return levelled, to_levelled


def _inverse_affine(m: np.ndarray) -> np.ndarray:
    linear = np.linalg.inv(m[:, :2])
    return np.column_stack([linear, -linear @ m[:, 2]])


def _pose_mapped(pose: PoseLandmarks, m: np.ndarray) -> PoseLandmarks:
    """Pose landmarks through the 2x3 rotation ``m``: pixels moved, world axes turned."""
    world = pose.world_xyz.copy()
    world[:, :2] = world[:, :2] @ m[:, :2].T  # image-aligned axes turn with the picture
    return PoseLandmarks(pose.image_xy @ m[:, :2].T + m[:, 2], pose.visibility, world)


def _face_mapped(face: FaceLandmarks, m: np.ndarray) -> FaceLandmarks:
    xyz = face.xyz.copy()
    xyz[:, :2] = xyz[:, :2] @ m[:, :2].T + m[:, 2]
    return FaceLandmarks(xyz)


def _placed(pose: PoseLandmarks, at: Box, crop_w: int, mirrored: bool) -> PoseLandmarks:
    """Landmarks found in a (possibly mirrored) crop, in the pixels of the whole image."""
    xy, vis, world = pose.image_xy.copy(), pose.visibility, pose.world_xyz.copy()
    if mirrored:  # undo the mirror: flip x and swap each left landmark with its right one
        idx = list(MIRRORED)
        xy[:, 0] = crop_w - xy[:, 0]
        world[:, 0] = -world[:, 0]
        xy, vis, world = xy[idx], vis[idx], world[idx]
    return PoseLandmarks(xy + np.array([at.x0, at.y0]), vis, world)


def _agrees(a: PoseLandmarks, b: PoseLandmarks, tolerance_px: float) -> bool:
    """Nose and both shoulders of two detections within ``tolerance_px`` of each other."""
    idx = [NOSE, LEFT_SHOULDER, RIGHT_SHOULDER]
    return bool(np.all(np.linalg.norm(a.image_xy[idx] - b.image_xy[idx], axis=1) < tolerance_px))


def _moved(pose: PoseLandmarks, dx: float, dy: float, scale: float = 1.0) -> PoseLandmarks:
    """The same landmarks in another image's pixels: ``xy * scale + (dx, dy) * scale``."""
    xy = (pose.image_xy + np.array([dx, dy])) * scale
    return PoseLandmarks(xy, pose.visibility, pose.world_xyz)


def _grey_out(img: np.ndarray, pose: PoseLandmarks) -> bool:
    """Paint a person's body grey so a search finds someone else; False if off-frame."""
    tight = _shrink(person_box(pose), 1 / 1.4).clip(img.shape[1], img.shape[0])
    sy, sx = tight.int_slices()
    if img[sy, sx].size == 0:
        return False
    img[sy, sx] = 127
    return True


def _same_person(a: PoseLandmarks, b: PoseLandmarks) -> bool:
    """Two detections of one person: their heads coincide, or one box mostly covers the other.

    A tile often shows only part of a person, so whole-body boxes differ while the
    head (or the overlap) gives them away.
    """
    ba, bb = person_box(a), person_box(b)
    size = min(ba.size, bb.size)
    if float(np.linalg.norm(a.image_xy[NOSE] - b.image_xy[NOSE])) < 0.2 * size:
        return True
    ix = max(0.0, min(ba.x1, bb.x1) - max(ba.x0, bb.x0))
    iy = max(0.0, min(ba.y1, bb.y1) - max(ba.y0, bb.y0))
    smaller = min((ba.x1 - ba.x0) * (ba.y1 - ba.y0), (bb.x1 - bb.x0) * (bb.y1 - bb.y0))
    return ix * iy > 0.5 * smaller


def _shrink(box: Box, factor: float) -> Box:
    c = box.centre
    hw, hh = (box.x1 - box.x0) * factor / 2, (box.y1 - box.y0) * factor / 2
    return Box(c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh)
