"""The pose and face stages of a stream overlapped on two threads.

The face stage runs on a second thread, on one frame while the pose stage takes the
next (MediaPipe releases the GIL while its graph runs), so a frame costs about the pose
model's time instead of both models' on two cores. Each frame's landmarks are those of
the two stages run one after the other: the stages share no state, the pose stage
hands the face stage all it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from posture.arrays import Array
from posture.landmarks.types import FrameLandmarks, FrameT

StepT = TypeVar("StepT")  # what the pose stage hands the face stage
FaceT = TypeVar("FaceT")  # what the face stage gives

FACE_THREAD_PREFIX = "posture-face"


def overlapped_stream(
    frames: Iterable[FrameT],
    pose_stage: Callable[[Array, float], StepT],
    face_stage: Callable[[StepT], FaceT],
    landmarks: Callable[[StepT, FaceT], FrameLandmarks],
) -> Generator[tuple[FrameT, FrameLandmarks], None, None]:
    """Each frame (anything with ``rgb`` and ``t_s``) with its landmarks, in order:
    ``landmarks(step, face_stage(step))`` with ``step = pose_stage(frame.rgb, frame.t_s)``.

    The face stage of a frame runs on a second thread while the pose stage takes the
    next frame, so the next frame is taken before a frame is handed out. Closing the
    generator (or an error in either stage) waits for the face thread to end.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=FACE_THREAD_PREFIX) as pool:
        pending: tuple[FrameT, StepT, Future[FaceT]] | None = None
        for frame in frames:
            step = pose_stage(frame.rgb, frame.t_s)
            face_job = pool.submit(face_stage, step)
            if pending is not None:
                yield pending[0], landmarks(pending[1], pending[2].result())
            pending = (frame, step, face_job)
        if pending is not None:
            yield pending[0], landmarks(pending[1], pending[2].result())
    # leaving the block (also on close() or an error) waits for the face thread
