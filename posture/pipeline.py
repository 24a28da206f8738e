"""Frames in, report out: the one entry point the CLI, the dashboard and benchmarks share.

``analyze`` opens a file and ``analyze_source`` picks the runner: time chunks in several
processes (``posture.runners.chunked``) when asked and worth it, else one process
(``posture.runners.serial``). Both measure frames with ``posture.stream`` and build the
report with ``posture.assemble``.
"""

from __future__ import annotations

import os

from posture.io.media import MediaSource, VideoSource, open_media
from posture.landmarks.types import Landmarker
from posture.options import AnalysisOptions
from posture.progress import Progress
from posture.report import Report
from posture.runners.chunked import analyze_in_parallel, plan_chunks
from posture.runners.serial import analyze_serial
from posture.stream import FrameHook


def analyze_source(
    source: MediaSource,
    options: AnalysisOptions = AnalysisOptions(),
    progress: Progress | None = None,
    annotated_path: str | os.PathLike[str] | None = None,
    on_frame: FrameHook | None = None,
    landmarker: Landmarker | None = None,
    workers: int = 1,
) -> Report:
    """Analyse an opened source. Raises InputError when no person is found at all.

    ``landmarker``: models loaded by the caller (still-image mode to reuse them
    across many stills; a fresh video-mode one per video); by default a fresh one
    serves this source and is closed after it.
    ``workers``: processes for one video file, in time chunks (see posture.runners.chunked;
    each further process holds its own models, ~450 MB). One process is used for
    photos, cameras, clips under 2 s per process, and with an annotated video or an
    ``on_frame`` hook (they need the frames in order). For a video, ``on_frame`` is
    called in frame order on a worker thread (see :func:`posture.stream.measure_frames`).
    """
    if workers > 1 and annotated_path is None and on_frame is None:
        chunks = plan_chunks(source, workers)
        if chunks is not None and isinstance(source, VideoSource):  # plan_chunks: video only
            return analyze_in_parallel(source, chunks, options, progress, landmarker)
    return analyze_serial(source, options, progress, annotated_path, on_frame, landmarker)


def analyze(
    path: str | os.PathLike[str],
    options: AnalysisOptions = AnalysisOptions(),
    progress: Progress | None = None,
    annotated_path: str | os.PathLike[str] | None = None,
    on_frame: FrameHook | None = None,
    workers: int = 1,
) -> Report:
    """Analyse a video or image file (see :func:`analyze_source`)."""
    stride = 1 if options.frame_stride is None else options.frame_stride
    source = open_media(path, options.max_side_px, stride)
    try:
        return analyze_source(source, options, progress, annotated_path, on_frame, workers=workers)
    finally:
        source.close()
