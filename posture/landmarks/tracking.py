"""Finding, choosing and following one subject, whatever pose model finds the landmarks.

The pose stage of a landmarker (see posture.landmarks.mediapipe_adapter):
- levels the frame by the camera's roll (posture.landmarks.levelling);
- searches for people (the whole frame, with a grey border, in tiles, and for photos
  with extended edges) and picks one subject: the largest and most central, or the
  one nearest where a caller asked (follow_near);
- follows them by running the pose model on a crop around where they were, and
  searches again when they are lost (at growing intervals while nobody is found);
- counts the people in view now and then, so the report can warn.
It is written against :class:`PoseModels`, two calls of a pose model, and imports no
model library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from posture.arrays import Array
from posture.landmarks.boxes import (
    Box,
    CropBuffer,
    _agrees,
    _crop,
    _grey_out,
    _moved,
    _placed,
    _same_person,
    _square,
    person_box,
)
from posture.landmarks.levelling import (
    MIN_ROLL_TO_LEVEL_DEG,
    _face_mapped,
    _head_mapped,
    _inverse_affine,
    _levelled,
    _pose_mapped,
)
from posture.landmarks.types import FaceLandmarks, FrameLandmarks, HeadRotation, PoseLandmarks

MAX_PEOPLE_COUNTED = 3
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


class PoseModels(Protocol):
    """The pose model, as the tracking runs it."""

    def search_pose(self, picture: Array) -> PoseLandmarks | None:
        """One person in a picture unrelated to the last (a search), in its pixels;
        None: nobody found."""
        ...

    def track_pose(self, crop: Array, at: Box) -> PoseLandmarks | None:
        """The followed subject in this frame's crop at ``at`` (the model may carry what
        it saw from the previous call), in the frame's pixels; None: lost. ``crop`` may
        be read in place: it is left alone until this returns."""
        ...


@dataclass(frozen=True)
class _PoseStep:
    """One frame after the pose model: what the face stage and the result need."""

    view: Array  # the picture the models see (levelled when a camera roll is set)
    to_view: Array | None  # 2x3 map from the frame's pixels to the view's; None: same
    frame_w: int
    frame_h: int
    t_s: float
    pose: PoseLandmarks | None
    people: int | None
    face_epoch: int  # the face crop is forgotten when this changes (see _forget_face)


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


class SubjectTracker:
    """The pose stage for one stream of frames: the followed subject's pose, frame by frame.

    Args:
        models: the pose model's two calls.
        video_mode: True for videos and live frames (tracking between frames),
            False for unrelated still images.
        pose_every: while following someone in a video, run the pose model on one
            frame in this many and reuse its landmarks on the others.
    """

    def __init__(self, models: PoseModels, video_mode: bool = True, pose_every: int = 1) -> None:
        self._models = models
        self._video_mode = video_mode
        self._pose_every = pose_every if video_mode else 1
        self._reused_pose: PoseLandmarks | None = None  # the last tracked pose ...
        self._reused_size: tuple[int, int] | None = None  # ... in frames of this size
        self._reuses_left = 0  # ... and how many more frames may reuse it
        self._roi: Box | None = None
        self._pose_crop = CropBuffer()  # the tracked subject's crop, every frame
        self._face_epoch = 0  # the pose stage's count of "forget the face crop"
        self._last_centre: Array | None = None
        self._next_search_t = -np.inf
        self._search_backoff_s = REACQUIRE_INTERVAL_S
        self._next_count_t = 0.0
        self._edge_runs: list[PoseLandmarks] = []  # see _search_edges
        self._roll_deg = 0.0
        self._follow_request: tuple[tuple[float, float], float | None] | None = None

    def follow_near(self, centre_px: tuple[float, float], size_px: float | None = None) -> None:
        """From the next frame on, follow the person nearest ``centre_px`` (pixels of the
        frame) instead of choosing the largest and most central one: a subject handed
        over from another part of the same video (see posture.runners.chunked). With
        ``size_px`` (their :func:`person_box` size) they are tracked from that box as if
        followed up to here; a search runs only when they are not found there."""
        self._follow_request = (centre_px, size_px)  # applied by the next step()

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

    def find_people(self, rgb: Array) -> list[PoseLandmarks]:
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

    def count_people(self, rgb: Array, known: list[PoseLandmarks] | None = None) -> int:
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

    def _search_padded(self, img: Array) -> list[PoseLandmarks]:
        """Search with a grey border: a person who fills the whole frame (a close
        side-view photo) is often found only with some context around them."""
        import cv2

        pad = int(0.25 * max(img.shape[:2]))
        padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(110,) * 3)
        return [_moved(p, -pad, -pad) for p in self._search(padded, 1)]

    def _search_edges(self, img: Array) -> list[PoseLandmarks]:
        """Last resort, for photos only, for a head cut by the frame's edge (a close
        side view): extend the edge pixels outwards, as the image and as its mirror
        image (the detector is not mirror-symmetric)."""
        import cv2

        for pad_fraction in EDGE_PAD_FRACTIONS:
            pad = int(pad_fraction * max(img.shape[:2]))
            padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            for mirrored in (False, True):
                view = np.ascontiguousarray(padded[:, ::-1]) if mirrored else padded
                found = self._models.search_pose(view)
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

    def _search_tiles(self, img: Array) -> list[PoseLandmarks]:
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

    def _search(self, img: Array, max_people: int = MAX_PEOPLE_COUNTED) -> list[PoseLandmarks]:
        """Find a person, grey them out, search again (``img`` is modified)."""
        found: list[PoseLandmarks] = []
        for _ in range(max_people):
            pose = self._models.search_pose(img)
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

    def step(self, rgb: Array, t_s: float) -> _PoseStep:
        """The pose stage of one frame: levelling, people search, tracking."""
        view, to_view = (rgb, None) if not self._roll_deg else _levelled(rgb, self._roll_deg)
        self._take_follow_request(to_view)
        pose, people = self._track_subject(view, t_s)
        h, w = rgb.shape[:2]
        return _PoseStep(view, to_view, w, h, t_s, pose, people, self._face_epoch)

    def _forget_face(self) -> None:
        """The face stage forgets its crop from the next frame the pose stage hands it
        (the stages may run on different threads, so the pose stage never touches it)."""
        self._face_epoch += 1

    def _take_follow_request(self, to_view: Array | None) -> None:
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

    def _track_subject(self, rgb: Array, t_s: float) -> tuple[PoseLandmarks | None, int | None]:
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

    def _refine_still(self, rgb: Array, pose: PoseLandmarks) -> PoseLandmarks:
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
        self, rgb: Array, pose: PoseLandmarks, extend_edges: bool = False
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
                found = self._models.search_pose(img)
                if found is None:
                    continue
                placed = _placed(found, at, img.shape[1], mirrored)
                if _agrees(placed, pose, 0.15 * base.size):
                    runs.append(placed)
        return runs

    def _track_pose(self, rgb: Array) -> PoseLandmarks | None:
        assert self._roi is not None
        crop, box = _crop(rgb, self._roi, into=self._pose_crop)
        pose = self._models.track_pose(crop, box)
        if pose is None:
            self._roi = None  # lost: search the whole frame next time
            return None
        self._follow(pose)
        return pose
