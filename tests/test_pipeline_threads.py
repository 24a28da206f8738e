"""measure_frames' measuring thread: order, the hook's thread, errors (no models run)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np
import pytest

from posture.io.media import Frame
from posture.landmarks.types import FrameLandmarks
from posture.options import AnalysisOptions
from posture.progress import NullProgress
from posture.stream import measure_frames
from tests.synthetic_landmarks import make_frame

ROTATIONS_DEG = [float(r) for r in range(-30, 31, 5)]


class _Landmarks:
    """Stands in for the landmarker: frame i shows the head turned ROTATIONS_DEG[i]."""

    def set_camera_roll(self, roll_deg: float) -> None:
        pass

    def process_stream(
        self, frames: Iterable[Frame], overlap: bool = True
    ) -> Iterator[tuple[Frame, FrameLandmarks]]:
        for frame in frames:
            lm = make_frame(rotation_deg=ROTATIONS_DEG[frame.index])
            yield frame, replace(lm, t_s=frame.t_s)


def _frames() -> list[Frame]:
    blank = np.zeros((4, 4, 3), np.uint8)
    return [Frame(i, i / 30, blank) for i in range(len(ROTATIONS_DEG))]


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("posture-measure")]


@pytest.mark.parametrize("overlap", [True, False])
def test_frames_are_measured_and_handed_to_the_hook_in_order(overlap):
    seen: list[tuple[int, str]] = []

    def hook(frame, lm, m):
        seen.append((frame.index, threading.current_thread().name))

    frames = _frames()
    out = measure_frames(frames, _Landmarks(), AnalysisOptions(), NullProgress(), hook, overlap)
    got = [m.to_dict()["head_rotation_deg"] for m in out]
    np.testing.assert_allclose(got, ROTATIONS_DEG, atol=0.1)  # in order
    assert [i for i, _ in seen] == list(range(len(frames)))
    names = {name for _, name in seen}
    assert names == ({"posture-measure_0"} if overlap else {threading.current_thread().name})
    assert _threads() == []


def test_a_failing_hook_stops_the_measuring_with_its_error():
    # Writing the annotated video fails: no later frame may reach the writer.
    called: list[int] = []

    def hook(frame, lm, m):
        called.append(frame.index)
        if frame.index == 3:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        measure_frames(_frames(), _Landmarks(), AnalysisOptions(), NullProgress(), hook)
    assert called == [0, 1, 2, 3]
    assert _threads() == []


class _Interrupting(NullProgress):
    def __init__(self) -> None:
        self.count = 0

    def advance(self, n: int = 1) -> None:
        self.count += n
        if self.count == 2:
            raise KeyboardInterrupt


def test_an_interrupt_on_the_callers_thread_drops_the_frames_queued_for_the_hook():
    called: list[int] = []

    def hook(frame, lm, m):
        called.append(frame.index)

    with pytest.raises(KeyboardInterrupt):
        measure_frames(_frames(), _Landmarks(), AnalysisOptions(), _Interrupting(), hook)
    # At most the frames already handed over when Ctrl-C came, never the whole video.
    assert called == list(range(len(called))) and len(called) < len(ROTATIONS_DEG)
    assert _threads() == []
