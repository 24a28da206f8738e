"""Analyse every Nth frame of a long recording, with times still from the container.

A wrapper until the library takes a ``frame_stride`` option (see docs/batch.md):
the frames in between are decoded (H.264 needs them as references) but are not
converted to RGB, scaled or given to the models, which is where the time goes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from posture.io.media import (
    VIDEO_EXTENSIONS,
    MediaSource,
    VideoSource,
    check_input_path,
    open_media,
)
from posture.options import DEFAULT_MAX_SIDE_PX, AnalysisOptions
from posture.pipeline import analyze_source
from posture.progress import Progress
from posture.report import Report

if TYPE_CHECKING:
    from av import VideoFrame


class StridedVideoSource(VideoSource):
    """A video whose ``frames()`` yields frames 0, N, 2N, ... of the container.

    Frames left out still count as decoded, so a complete file does not get the
    "ends early" warning.
    """

    def __init__(
        self, path: Path, max_side_px: int | None = DEFAULT_MAX_SIDE_PX, frame_stride: int = 1
    ) -> None:
        if frame_stride < 1:
            raise ValueError(f"frame_stride must be 1 or more, not {frame_stride}")
        self._frame_stride = frame_stride
        super().__init__(path, max_side_px)
        if self.info.frame_count:
            # Progress bars count analysed frames.
            count = math.ceil(self.info.frame_count / frame_stride)
            self.info = replace(self.info, frame_count=count)

    def _raw_frames(self) -> Iterator[VideoFrame]:
        for i, frame in enumerate(super()._raw_frames()):
            if i % self._frame_stride == 0:
                yield frame
            else:
                self.status.frames_decoded += 1


def open_strided(
    path: str | os.PathLike[str],
    max_side_px: int | None = DEFAULT_MAX_SIDE_PX,
    frame_stride: int = 1,
) -> MediaSource:
    """Like :func:`posture.io.media.open_media`, keeping every ``frame_stride``-th video frame."""
    p = check_input_path(path)
    if frame_stride > 1 and p.suffix.lower() in VIDEO_EXTENSIONS:
        return StridedVideoSource(p, max_side_px, frame_stride)
    return open_media(p, max_side_px)


def analyze_strided(
    path: str | os.PathLike[str],
    options: AnalysisOptions | None = None,
    frame_stride: int = 1,
    progress: Progress | None = None,
    annotated_path: str | os.PathLike[str] | None = None,
) -> Report:
    """:func:`posture.pipeline.analyze` on every ``frame_stride``-th frame.

    The stride is recorded in the report's ``settings.frame_stride``.
    """
    options = replace(options or AnalysisOptions(), frame_stride=frame_stride)
    source = open_strided(path, options.max_side_px, frame_stride)
    try:
        return analyze_source(source, options, progress=progress, annotated_path=annotated_path)
    finally:
        source.close()
