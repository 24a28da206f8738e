"""The one-process runner: every frame in order, on the caller's process.

Photos, cameras, clips too short to split, and analyses that need frames in order (an
annotated video, an ``on_frame`` hook) run here; see ``posture.runners.chunked`` for one
video in time chunks.
"""

from __future__ import annotations

import os

from posture.annotate import AnnotatedVideoWriter, draw_overlay, write_annotated_image
from posture.arrays import Array
from posture.assemble import assemble_report, no_person_error, photo_trunk
from posture.geometry.measure import FrameMeasurement
from posture.io.media import Frame, MediaSource, prefetch
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
from posture.landmarks.types import FrameLandmarks, Landmarker
from posture.options import AnalysisOptions
from posture.progress import NullProgress, Progress
from posture.report import Report
from posture.stream import FrameHook, LiveSmoother, measure_counting_people


def analyze_serial(
    source: MediaSource,
    options: AnalysisOptions,
    progress: Progress | None = None,
    annotated_path: str | os.PathLike[str] | None = None,
    on_frame: FrameHook | None = None,
    landmarker: Landmarker | None = None,
) -> Report:
    """Analyse an opened source in one process (see ``posture.pipeline.analyze_source``)."""
    info = source.info
    is_image = info.kind == "image"
    progress = NullProgress() if progress is None or is_image else progress
    smoother = LiveSmoother()
    writer = (
        AnnotatedVideoWriter(annotated_path, info.fps) if annotated_path and not is_image else None
    )
    still: list[Array] = []

    def hook(frame: Frame, lm: FrameLandmarks, m: FrameMeasurement) -> None:
        if is_image:
            m = photo_trunk(m)  # what the report says (assemble_report applies it too)
        if annotated_path is not None:
            overlay = draw_overlay(frame.rgb, lm, smoother(m) if not is_image else m.to_dict())
            if writer is not None:
                writer.write(overlay, frame.t_s)
            else:
                still.append(overlay)
        if on_frame is not None:
            on_frame(frame, lm, m)

    progress.start(info.frame_count, "Analysing")
    try:
        owned = landmarker is None
        lm: Landmarker = (
            MediaPipeLandmarker(video_mode=not is_image) if landmarker is None else landmarker
        )
        try:
            frames = source.frames() if is_image else prefetch(source.frames())
            # A photo is one frame: nothing to overlap, no threads to start.
            measurements, people_max = measure_counting_people(
                frames, lm, options, progress, hook, not is_image
            )
        finally:
            if owned:
                lm.close()
        if not any(m.valid for m in measurements):
            raise no_person_error(info)
        report = assemble_report(info, measurements, options, people_max, source.status.warnings)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        progress.close()
    if writer is not None:
        writer.commit()
    if still and annotated_path is not None:
        write_annotated_image(annotated_path, still[0])
    return report
