"""One video analysed in time chunks by several processes.

MediaPipe's Python ``process`` holds the GIL, so threads cannot run two models at
once; processes can. The video's timeline is cut into contiguous chunks: the
calling process analyses the first one with its own models while each further
chunk gets a worker process that opens the file itself, seeks to the keyframe
before its chunk and keeps the times :meth:`VideoSource.frames` would give. Every
process returns per-frame measurements (never frames); the caller joins them in
time order and builds the report exactly as the one-process path does
(:func:`posture.assemble.assemble_report`).

The subject: a worker follows the person nearest where the first chunk's subject
was on the first frame. Where a chunk still starts on someone other than the
person the chunk before it ended on (several people in view, a subject who moved),
the caller analyses it again from its start, tracking that person from where they
were, until both analyses follow the same person for :data:`REJOIN_FRAMES` frames
(at worst the whole chunk, in the calling process: then no faster than one process).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from posture.assemble import assemble_report, no_person_error
from posture.errors import InputError, PostureError
from posture.geometry.measure import FrameMeasurement
from posture.io.media import (
    Frame,
    MediaSource,
    VideoSource,
    damaged_warning,
    end_of_stream_warnings,
    prefetch,
)
from posture.landmarks.boxes import person_box
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
from posture.landmarks.types import FrameLandmarks, Landmarker
from posture.options import AnalysisOptions
from posture.progress import NullProgress, Progress
from posture.report import Report
from posture.stream import measure_counting_people

# A chunk shorter than this is not worth a process (start-up, models, a people search).
MIN_CHUNK_S = 2.0
# The calling process starts on its chunk at once, while a worker first starts Python,
# imports posture and MediaPipe and loads the models (about 1 s on 2 cores; the caller
# may have to load its own too): the first chunk is longer by this much video.
HEAD_START_S = 0.5
# Every core runs a process: one decoding thread each spends less CPU time per frame.
DECODER_THREADS = 1
# Subjects at the two sides of a boundary are compared within this time of it ...
HANDOVER_WINDOW_S = 1.0
# ... and are the same person when their boxes' centres are closer than this fraction
# of the box size (a person moves a few pixels between two frames).
SAME_SUBJECT_FRACTION = 0.5
# A chunk analysed again (see above) rejoins its first analysis once both follow the
# same person for this many frames in a row.
REJOIN_FRAMES = 15
# A worker waits this long at most for the first chunk's subject before choosing its own.
HINT_WAIT_S = 60.0
POLL_S = 0.1
STOP_WAIT_S = 2.0
WORKER_DIED = (
    "A worker process analysing part of the video stopped unexpectedly (out of memory "
    "or a crash): run the analysis again with one worker."
)

# Centre x, centre y and size (pixels) of the followed subject's box in one frame.
SubjectBox = tuple[float, float, float]


@dataclass(frozen=True)
class Chunk:
    """Frames with ``start_s <= t_s < end_s`` (seconds from the first frame; None = to the end)."""

    index: int
    start_s: float
    end_s: float | None


@dataclass
class ChunkResult:
    """What one process measured in one chunk, and how reading it went."""

    index: int
    measurements: list[FrameMeasurement]
    subject_px: list[SubjectBox | None]  # per measurement
    people_max: int
    frames_decoded: int
    frames_skipped: int
    damaged: bool  # decoding stopped on an error inside the chunk
    reached_end: bool  # the chunk's end was reached (False: the file ended first)


@dataclass(frozen=True)
class ChunkJob:
    path: str
    chunk: Chunk
    options: AnalysisOptions


# -- planning ------------------------------------------------------------------------------


def plan_chunks(source: MediaSource, workers: int) -> list[Chunk] | None:
    """Chunks for up to ``workers`` processes, or None when one process should do it all:
    not a plain video file, no usable timestamps or duration, or under
    :data:`MIN_CHUNK_S` per process."""
    if workers < 2 or type(source) is not VideoSource:  # not subclasses (batch --stride)
        return None
    duration_s = source.info.duration_s
    if source.first_frame_time_s is None or not duration_s or not math.isfinite(duration_s):
        return None
    processes = min(workers, int(duration_s // MIN_CHUNK_S))
    if processes < 2:
        return None
    return split_timeline(duration_s, processes)


def split_timeline(duration_s: float, processes: int) -> list[Chunk]:
    """Contiguous chunks covering the whole timeline; the first is :data:`HEAD_START_S` longer."""
    head_start_s = min(HEAD_START_S, duration_s / processes / 2)
    share_s = (duration_s - head_start_s) / processes
    starts = [0.0] + [round(head_start_s + k * share_s, 6) for k in range(1, processes)]
    ends: list[float | None] = [*starts[1:], None]
    return [Chunk(i, s, e) for i, (s, e) in enumerate(zip(starts, ends, strict=True))]


# -- one chunk, in any process -------------------------------------------------------------


@dataclass
class SubjectTrack:
    """Per-frame hook: where the followed subject is (for the hand-over between chunks)."""

    on_first: Callable[[SubjectBox | None], None] | None = None
    boxes: list[SubjectBox | None] = field(default_factory=list)

    def __call__(self, frame: Frame, lm: FrameLandmarks, m: FrameMeasurement) -> None:
        box = None
        if lm.pose is not None:
            b = person_box(lm.pose)
            box = (float(b.centre[0]), float(b.centre[1]), float(b.size))
        if not self.boxes and self.on_first is not None:
            self.on_first(box)
        self.boxes.append(box)


@dataclass
class RejoinWatch(SubjectTrack):
    """A :class:`SubjectTrack` that tells when it has followed the same person as
    ``other`` (a chunk's first result) for :data:`REJOIN_FRAMES` frames in a row."""

    other: list[SubjectBox | None] = field(default_factory=list)
    together: int = 0

    def __call__(self, frame: Frame, lm: FrameLandmarks, m: FrameMeasurement) -> None:
        super().__call__(frame, lm, m)
        i = len(self.boxes) - 1
        theirs = self.other[i] if i < len(self.other) else None
        same = same_person(self.boxes[i], theirs)
        self.together = self.together + 1 if same else 0

    @property
    def rejoined(self) -> bool:
        return self.together >= REJOIN_FRAMES


def same_person(a: SubjectBox | None, b: SubjectBox | None) -> bool:
    """Two boxes of the followed subject that are the same person (None: nobody)."""
    if a is None or b is None:
        return False
    return math.hypot(a[0] - b[0], a[1] - b[1]) <= SAME_SUBJECT_FRACTION * min(a[2], b[2])


def analyse_chunk(
    source: VideoSource,
    chunk: Chunk,
    landmarker: Landmarker,
    options: AnalysisOptions,
    progress: Progress,
    track: SubjectTrack | None = None,
    stop: Callable[[], bool] | None = None,
) -> ChunkResult:
    """Measure the frames of ``chunk`` from a freshly opened ``source``; ``stop()``, asked
    before each frame, ends the chunk early (the reading counts are then partial)."""
    track = track or SubjectTrack()
    frames = _until(stop, prefetch(source.frames_between(chunk.start_s, chunk.end_s)))
    # With stop(), frames are taken one at a time: stop() reads the last frame's result.
    measurements, people_max = measure_counting_people(
        frames, landmarker, options, progress, track, overlap=stop is None
    )
    segment = source.segment
    return ChunkResult(
        chunk.index,
        measurements,
        track.boxes,
        people_max,
        source.status.frames_decoded,
        segment.frames_skipped,
        source.status.damaged,
        segment.reached_end,
    )


def _until(stop: Callable[[], bool] | None, frames: Iterator[Frame]) -> Iterator[Frame]:
    try:
        for frame in frames:
            if stop is not None and stop():
                return
            yield frame
    finally:
        frames.close()  # type: ignore[attr-defined]


# -- worker processes ----------------------------------------------------------------------


@dataclass
class WorkerLink:
    """What a worker shares with the caller (multiprocessing objects, passed at start)."""

    results: Any  # Queue of (chunk index, "ok" | "input" | "error", payload)
    hint: Any  # Array('d', 3): the first chunk's subject box, NaN when nobody
    hint_ready: Any  # Event
    frames_done: Any  # Value('i'): frames measured so far, for the progress bar

    def wait_hint(self) -> SubjectBox | None:
        if not self.hint_ready.wait(HINT_WAIT_S):
            return None
        x, y, size = self.hint[:]
        return None if math.isnan(x) else (x, y, size)


class _Counter:
    """Progress that counts into a shared integer."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def start(self, total: int | None, description: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        with self._value.get_lock():
            self._value.value += n

    def close(self) -> None:
        pass


def run_chunk_process(job: ChunkJob, link: WorkerLink) -> None:
    """A worker's main function: analyse one chunk, put the outcome on ``link.results``."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    import cv2

    cv2.setNumThreads(1)  # every core already runs a process: OpenCV's threads only cost
    index = job.chunk.index
    try:
        result = _analyse_chunk_job(job, link)
    except KeyboardInterrupt:
        return  # the caller stops the workers
    except InputError as err:
        link.results.put((index, "input", str(err)))
    except BaseException as err:  # noqa: BLE001 - reported to the caller, raised there
        link.results.put((index, "error", f"{type(err).__name__}: {err}"))
    else:
        link.results.put((index, "ok", result))


def _analyse_chunk_job(job: ChunkJob, link: WorkerLink) -> ChunkResult:
    source = VideoSource(Path(job.path), job.options.max_side_px, DECODER_THREADS)
    try:
        with MediaPipeLandmarker(video_mode=True) as landmarker:
            hint = link.wait_hint()
            if hint is not None:
                landmarker.follow_near(hint[:2])
            return analyse_chunk(
                source, job.chunk, landmarker, job.options, _Counter(link.frames_done)
            )
    finally:
        source.close()


def _process_context() -> Any:
    # Never fork: the caller may hold threads (decoders, progress) and model state.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class Workers:
    """One worker process per chunk; stopped (terminated if need be) on leaving the block."""

    def __init__(self, path: str, chunks: list[Chunk], options: AnalysisOptions) -> None:
        ctx = _process_context()
        self._results = ctx.Queue()
        self._hint = ctx.Array("d", [math.nan] * 3)
        self._hint_ready = ctx.Event()
        self._counters = [ctx.Value("i", 0) for _ in chunks]
        self._reported = 0
        self._got: dict[int, ChunkResult] = {}
        self._silent_dead: set[int] = set()
        self._procs = {
            c.index: ctx.Process(
                target=run_chunk_process,
                args=(
                    ChunkJob(path, c, options),
                    WorkerLink(self._results, self._hint, self._hint_ready, counter),
                ),
                name=f"posture-chunk-{c.index}",
                daemon=True,
            )
            for c, counter in zip(chunks, self._counters, strict=True)
        }

    def __enter__(self) -> Workers:
        try:
            for p in self._procs.values():
                p.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def publish_subject(self, box: SubjectBox | None) -> None:
        """Tell the workers where the first chunk's subject is (None: nobody on its first frame)."""
        if self._hint_ready.is_set():
            return
        if box is not None:
            self._hint[:] = list(box)
        self._hint_ready.set()

    def report_progress(self, progress: Progress) -> None:
        done = sum(c.value for c in self._counters)
        if done > self._reported:
            progress.advance(done - self._reported)
            self._reported = done

    def check(self, timeout_s: float = 0.0) -> None:
        """Take the outcomes the workers have sent (waiting up to ``timeout_s`` for one);
        raises at once the sentence of a worker that failed or died."""
        try:
            while True:
                index, kind, payload = self._results.get(
                    timeout=timeout_s or None, block=timeout_s > 0
                )
                timeout_s = 0.0
                if kind == "input":
                    raise InputError(payload)
                if kind == "error":
                    raise RuntimeError(f"a worker process failed ({payload})")
                self._got[index] = payload
        except queue.Empty:
            pass
        dead = {i for i, p in self._procs.items() if i not in self._got and not p.is_alive()}
        if dead & self._silent_dead:  # dead, and still nothing from it one check later
            raise PostureError(WORKER_DIED)
        self._silent_dead = dead

    def results(self, progress: Progress) -> list[ChunkResult]:
        """Every worker's result, in chunk order; raises the sentence of a worker that failed."""
        while len(self._got) < len(self._procs):
            self.report_progress(progress)
            self.check(POLL_S)
        self.report_progress(progress)
        return [self._got[i] for i in sorted(self._got)]

    def stop(self) -> None:
        """End every worker: those still running are terminated, then killed if need be."""
        self.publish_subject(None)
        started = [p for p in self._procs.values() if p.pid is not None]
        for p in started:
            if p.is_alive():
                p.terminate()
        for p in started:
            p.join(STOP_WAIT_S)
            if p.is_alive():
                p.kill()
                p.join()
        self._results.close()
        self._results.cancel_join_thread()


class _WithWorkers:
    """The caller's progress, also advanced by the frames the workers measured."""

    def __init__(self, progress: Progress, workers: Workers) -> None:
        self._progress = progress
        self._workers = workers

    def start(self, total: int | None, description: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        self._progress.advance(n)
        self._workers.report_progress(self._progress)
        self._workers.check()  # a worker's failure stops the analysis at once

    def close(self) -> None:
        pass


# -- the caller ----------------------------------------------------------------------------


def analyze_in_parallel(
    source: VideoSource,
    chunks: list[Chunk],
    options: AnalysisOptions,
    progress: Progress | None = None,
    landmarker: Landmarker | None = None,
) -> Report:
    """Analyse the video of ``source`` in ``chunks`` (from :func:`plan_chunks`): the
    first here, the others in worker processes. The report has the serial path's
    format, with ``settings.workers`` = the number of processes."""
    info = source.info
    progress = progress or NullProgress()
    progress.start(info.frame_count, "Analysing")
    try:
        # The workers start first: they have Python to start and models to load.
        with Workers(info.path, chunks[1:], options) as workers, _opencv_threads(1):
            owned = landmarker is None
            lm: Landmarker = (
                MediaPipeLandmarker(video_mode=True) if landmarker is None else landmarker
            )
            try:
                results = _run_chunks(info.path, chunks[0], options, progress, lm, workers)

                def rerun(first: ChunkResult, subject: SubjectBox) -> ChunkResult:
                    chunk = chunks[first.index]
                    return follow_again(info.path, first, chunk, options, lm, subject)

                kept = joined_results(results, chunks, rerun)
            finally:
                if owned:
                    lm.close()
    finally:
        progress.close()
    measurements = [m for r in kept for m in r.measurements]
    if not any(m.valid for m in measurements):
        raise no_person_error(info)
    people_max = max(r.people_max for r in kept)
    warnings = decode_warnings(kept, source.declared_frames)
    return assemble_report(info, measurements, options, people_max, warnings, workers=len(chunks))


@contextlib.contextmanager
def _opencv_threads(n: int) -> Iterator[None]:
    """OpenCV's thread count set to ``n`` for the block (its resizes then cost ~1/3 less
    CPU time, which the other processes use)."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def _run_chunks(
    path: str,
    first_chunk: Chunk,
    options: AnalysisOptions,
    progress: Progress,
    landmarker: Landmarker,
    workers: Workers,
) -> list[ChunkResult]:
    """The first chunk here while the workers run the others; all results in order."""
    source = VideoSource(Path(path), options.max_side_px, DECODER_THREADS)
    try:
        first = analyse_chunk(
            source,
            first_chunk,
            landmarker,
            options,
            _WithWorkers(progress, workers),
            SubjectTrack(on_first=workers.publish_subject),
        )
    finally:
        source.close()
    workers.publish_subject(None)  # no frame at all: let the workers choose
    return [first, *workers.results(progress)]


def joined_results(
    results: list[ChunkResult],
    chunks: list[Chunk],
    rerun: Callable[[ChunkResult, SubjectBox], ChunkResult],
) -> list[ChunkResult]:
    """The results a one-process run would have read: up to where decoding stopped, each
    following the subject of the chunk before it (``rerun(result, subject)`` analyses
    again a chunk that starts on someone else, following ``subject``)."""
    kept: list[ChunkResult] = []
    for result in results:
        chunk = chunks[result.index]
        if kept:
            subject = handover_mismatch(kept[-1], result, chunk.start_s)
            if subject is not None:
                result = rerun(result, subject)
        kept.append(result)
        if result.damaged or (chunk.end_s is not None and not result.reached_end):
            break  # decoding stopped here, as it would have in one pass
    return kept


def handover_mismatch(
    before: ChunkResult, after: ChunkResult, boundary_s: float
) -> SubjectBox | None:
    """Where ``before`` last saw its subject, when ``after`` starts on someone else; else None.

    Only positions within :data:`HANDOVER_WINDOW_S` of the boundary are compared; when
    either side has none there, nothing can be said and None is returned.
    """
    pairs = zip(before.measurements, before.subject_px, strict=True)
    last = next(
        (
            b
            for m, b in reversed(list(pairs))
            if b is not None and m.t >= boundary_s - HANDOVER_WINDOW_S
        ),
        None,
    )
    first = next(
        (
            b
            for m, b in zip(after.measurements, after.subject_px, strict=True)
            if b is not None and m.t <= boundary_s + HANDOVER_WINDOW_S
        ),
        None,
    )
    if last is None or first is None or same_person(last, first):
        return None
    return last


def follow_again(
    path: str,
    first: ChunkResult,
    chunk: Chunk,
    options: AnalysisOptions,
    landmarker: Landmarker,
    subject: SubjectBox,
) -> ChunkResult:
    """``chunk`` analysed again from its start, tracking ``subject`` (where the chunk
    before ended), until it follows the same person as ``first`` did for
    :data:`REJOIN_FRAMES` frames; ``first`` serves the rest of the chunk."""
    source = VideoSource(Path(path), options.max_side_px, DECODER_THREADS)
    watch = RejoinWatch(other=first.subject_px)
    try:
        landmarker.follow_near(subject[:2], subject[2])
        again = analyse_chunk(
            source, chunk, landmarker, options, NullProgress(), watch, lambda: watch.rejoined
        )
    finally:
        source.close()
    n = len(again.measurements)
    return replace(
        first,
        measurements=again.measurements + first.measurements[n:],
        subject_px=again.subject_px + first.subject_px[n:],
        people_max=max(first.people_max, again.people_max),
    )


def decode_warnings(kept: list[ChunkResult], declared_frames: int | None) -> list[str]:
    """The warnings one pass over the same frames gives (see :meth:`VideoSource.frames`)."""
    decoded = sum(r.frames_decoded for r in kept)
    skipped = sum(r.frames_skipped for r in kept)
    damaged = kept[-1].damaged
    warnings = [damaged_warning(decoded)] if damaged else []
    return warnings + end_of_stream_warnings(decoded, skipped, declared_frames, damaged)
