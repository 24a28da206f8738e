"""The frame stream: frames in, one measurement per frame out, through any ``Landmarker``.

Every runner (one process, time chunks in several processes, the live webcam) measures
frames here, so a frame gets the same angles whichever path it takes.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from posture.arrays import Array
from posture.geometry.lens import undistort_px
from posture.geometry.measure import ANGLE_KEYS, FrameMeasurement, measure_frame
from posture.io.media import Frame
from posture.landmarks.types import (
    FaceLandmarks,
    FrameLandmarks,
    HeadRotation,
    Landmarker,
    PoseLandmarks,
)
from posture.options import AnalysisOptions
from posture.progress import Progress
from posture.signals.filters import OneEuroFilter

# Frames handed to the measuring thread and not yet collected (each holds its picture).
MAX_FRAMES_MEASURING = 4


@dataclass
class LiveSmoother:
    """Causal One Euro smoothing of every angle, for overlays and live feedback."""

    filters: dict[str, OneEuroFilter] = field(
        default_factory=lambda: {k: OneEuroFilter(1.0, 0.05) for k in ANGLE_KEYS}
    )

    def __call__(self, m: FrameMeasurement) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for k, f in self.filters.items():
            v = f(m.t, getattr(m, k))
            out[k] = None if math.isnan(v) else v
        return out


FrameHook = Callable[[Frame, FrameLandmarks, FrameMeasurement], None]


def undistorted(lm: FrameLandmarks, options: AnalysisOptions) -> FrameLandmarks:
    """Landmarks as an ideal pinhole camera would see them (when calibration gives a lens)."""
    focal_px, distortion = options.focal_px, options.distortion
    if not distortion or focal_px is None:
        return lm
    principal = options.principal_px or (lm.width / 2, lm.height / 2)

    def fix(xy: Array) -> Array:
        return undistort_px(xy, focal_px, principal, distortion)

    pose = face = None
    if lm.pose is not None:
        pose = PoseLandmarks(fix(lm.pose.image_xy), lm.pose.visibility, lm.pose.world_xyz)
    if lm.face is not None:
        xyz = lm.face.xyz.copy()
        xyz[:, :2] = fix(xyz[:, :2])
        face = FaceLandmarks(xyz)
    head = lm.head
    if head is not None:
        centre = fix(np.asarray(head.centre_px, float)[None])[0]
        head = HeadRotation(head.rotation, centre, head.source, head.confidence)
    return FrameLandmarks(lm.t_s, lm.width, lm.height, pose, face, lm.people_in_view, head)


class SteadyTrunkYaw:
    """Running median of the trunk's yaw over the last frames (causal, for live use).

    The pose model turns the shoulders partly with the head, so one frame's
    shoulder line is a poor reference during a head turn; the median of the last
    ``window`` frames ignores those excursions while following a real change of
    seat or camera.
    """

    def __init__(self, window: int = 300) -> None:
        self._values: deque[float] = deque(maxlen=window)

    def add(self, trunk_yaw_deg: float | None) -> None:
        if trunk_yaw_deg is not None:
            self._values.append(trunk_yaw_deg)

    def current(self) -> float | None:
        return float(np.median(self._values)) if self._values else None


def measure_with_options(
    lm: FrameLandmarks, options: AnalysisOptions, trunk: SteadyTrunkYaw
) -> FrameMeasurement:
    """One frame's angles with the options' lens, camera level and view, its head angles
    referred to the running steady trunk (which this frame's trunk yaw joins)."""
    m = measure_frame(
        undistorted(lm, options),
        options.view,
        options.camera_roll_deg,
        options.focal_px,
        camera_pitch_deg=options.camera_pitch_deg,
    )
    trunk.add(m.trunk_yaw_deg)
    return m.with_trunk_yaw(trunk.current())


def measure_frames(
    frames: Iterable[Frame],
    landmarker: Landmarker,
    options: AnalysisOptions,
    progress: Progress,
    on_frame: FrameHook | None = None,
    overlap: bool = True,
) -> list[FrameMeasurement]:
    """Landmarks and angles for every frame; frames are not kept.

    A frame generator is closed here even when this stops early (Ctrl-C, an error),
    so that a decoding thread behind it has stopped before the caller closes the
    file: closing a video while it is being decoded crashes the process. The
    landmarker levels frames by the options' camera roll during the call only.
    ``overlap``: the face model runs on one frame while the pose model takes the next
    (see ``Landmarker.process_stream``), and the angles and ``on_frame`` run
    on a thread of their own, frame by frame in order (``on_frame`` must not need the
    caller's thread); after an error no further frame reaches ``on_frame``. False when
    the frames' iterator must not be asked for a frame before the previous one was
    measured: everything then runs on the caller's thread.
    """
    trunk = SteadyTrunkYaw()
    failed = threading.Event()  # set on the first error: later frames skip the hook

    def measure(frame: Frame, lm: FrameLandmarks) -> FrameMeasurement:
        if failed.is_set():
            raise CancelledError
        try:
            m = measure_with_options(lm, options, trunk)
            if on_frame is not None:
                on_frame(frame, lm, m)
        except BaseException:
            failed.set()
            raise
        return m

    out: list[FrameMeasurement] = []
    landmarker.set_camera_roll(options.camera_roll_deg)
    stream = landmarker.process_stream(frames, overlap)
    try:
        if not overlap:
            for frame, lm in stream:
                out.append(measure(frame, lm))
                progress.advance()
        else:
            # The angles (and the hook: drawing, writing) run on a thread of their own,
            # in order, while this one waits on the pose model.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="posture-measure") as pool:
                jobs: deque[Future[FrameMeasurement]] = deque()
                try:
                    for frame, lm in stream:
                        jobs.append(pool.submit(measure, frame, lm))
                        while jobs and (jobs[0].done() or len(jobs) > MAX_FRAMES_MEASURING):
                            out.append(jobs.popleft().result())
                            progress.advance()
                    while jobs:
                        out.append(jobs.popleft().result())
                        progress.advance()
                except BaseException:
                    failed.set()  # here too (Ctrl-C, progress): the queued frames are dropped
                    raise
    finally:
        stream.close()  # waits for the face model's thread
        landmarker.set_camera_roll(0.0)  # a landmarker shared with other callers
        close = getattr(frames, "close", None)
        if close is not None:
            close()
    return out


def measure_counting_people(
    frames: Iterable[Frame],
    landmarker: Landmarker,
    options: AnalysisOptions,
    progress: Progress,
    on_frame: FrameHook | None = None,
    overlap: bool = True,
) -> tuple[list[FrameMeasurement], int]:
    """:func:`measure_frames`, and the most people counted in view in these frames. The
    landmarker's own ``max_people_seen`` keeps the most over every stream it served."""
    before = landmarker.max_people_seen
    landmarker.max_people_seen = 0
    try:
        measurements = measure_frames(frames, landmarker, options, progress, on_frame, overlap)
    finally:
        people_max = landmarker.max_people_seen
        landmarker.max_people_seen = max(before, people_max)
    return measurements, people_max
