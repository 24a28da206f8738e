"""The face stage of a landmarker: the face mesh on a crop of the head, and the head-pose
network followed past where the face mesh loses the face.

- The face model runs on a crop around the head found by the pose model, so that a
  face that is small in the frame still gets enough pixels (the whole frame when no
  body was found);
- the head-pose network (posture.landmarks.head_pose_net) runs on a crop placed on the
  face mesh, or, when the face mesh lost the face, on the last crop and on the pose
  model's head points; a reading is kept only when it is confident and a head could
  have turned that far since the last one.
It is written against :class:`FaceModel`, one call of a face model, and imports no
model library (the network is handed in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from posture.arrays import Array
from posture.landmarks import head_pose_net as hpn
from posture.landmarks.boxes import Box, _crop, head_box
from posture.landmarks.tracking import _PoseStep
from posture.landmarks.types import FaceLandmarks, HeadRotation, PoseLandmarks

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


class FaceModel(Protocol):
    """The face model, as the face stage runs it."""

    def find_face(self, picture: Array, at: Box | None = None) -> FaceLandmarks | None:
        """The face in ``picture``, a crop of the frame at ``at`` (None: the whole frame),
        in the frame's pixels; None: no face found."""
        ...


def _facing_camera(face: FaceLandmarks) -> bool:
    from posture.geometry.head import away_from_camera_deg, head_frame_from_face

    head = head_frame_from_face(face.xyz)
    return head is not None and away_from_camera_deg(head) < HEAD_NET_FACING_DEG


@dataclass(frozen=True)
class _HeadFollow:
    rotation: Array
    box: tuple[float, float, float, float]
    t_s: float


def _head_could_reach(last: _HeadFollow, rotation: Array, t_s: float) -> bool:
    cos = (np.trace(last.rotation.T @ rotation) - 1.0) / 2.0
    turned_deg = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return turned_deg <= HEAD_MAX_SPEED_DEG_S * max(t_s - last.t_s, 0.0) + HEAD_MARGIN_DEG


class HeadTracker:
    """The face stage for one stream of frames (it may run on its own thread: it shares
    no state with the pose stage, which hands it each frame's :class:`_PoseStep`).

    Args:
        face_model: the face model's call.
        head_net: the head-pose network, or None to run none.
        video_mode: True for videos and live frames (tracking between frames),
            False for unrelated still images.
    """

    def __init__(
        self, face_model: FaceModel, head_net: hpn.HeadPoseNet | None, video_mode: bool = True
    ) -> None:
        self._face = face_model
        # The head-pose network follows the head past what the face mesh does (to 90 deg).
        self._head_net = head_net
        self._video_mode = video_mode
        self._head_follow: _HeadFollow | None = None
        self._face_seen_t = -np.inf  # when the face mesh last found the face
        self._facing_frames = 0  # frames with the face mesh's head near facing the camera
        self._face_roi: Box | None = None
        self._face_epoch_seen = 0  # the pose stage's face_epoch last seen

    def step(self, step: _PoseStep) -> _FaceResult:
        """The face stage of one frame: FaceMesh on a crop around the pose's head, then the
        head-pose network on a crop placed on the face (or on the pose's head points)."""
        if step.face_epoch != self._face_epoch_seen:
            self._face_roi = self._head_follow = None
            self._face_seen_t = -np.inf  # a new track starts from a face again
            self._face_epoch_seen = step.face_epoch
        face = self._track_face(step.view, step.pose)
        return face, self._head_rotation(step.view, face, step.pose, step.t_s)

    def _track_face(self, rgb: Array, pose: PoseLandmarks | None) -> FaceLandmarks | None:
        target = head_box(pose) if pose is not None else None
        if target is None:
            # No body found (a face close-up): search the whole frame.
            return self._face.find_face(rgb)
        if self._face_roi is None or not self._video_mode or target.far_from(self._face_roi):
            self._face_roi = target
        crop, box = _crop(rgb, self._face_roi)
        if crop.shape[0] < 16 or crop.shape[1] < 16:
            return None
        face = self._face.find_face(crop, box)
        if face is None and not self._video_mode:
            face = self._face.find_face(rgb)
        return face

    def _head_rotation(
        self, view: Array, face: FaceLandmarks | None, pose: PoseLandmarks | None, t_s: float
    ) -> HeadRotation | None:
        """The head-pose network's reading of the followed head, or None when no crop of
        it gives a confident answer that a head could have reached since the last one."""
        if self._head_net is None:
            return None
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
            pose_box = hpn.roi_box_from_head(pose.image_xy, pose.visibility) if pose else None
            if pose_box is not None and not (tries and tries[0][1].confidence >= HEAD_SURE):
                estimate = self._head_net.estimate if follow else self._head_net.estimate_around
                tries.append(("pose", estimate(view, pose_box)))
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
