"""A batch job: one input, the settings it is analysed with, and the key that names the work.

The key is a hash of the file's content, the analysis settings and the posture
version: a result folder whose key matches is finished work and is skipped on a
re-run; change the file, a setting or the version and it is analysed again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from posture import SCHEMA_VERSION, __version__
from posture.batch.inputs import BatchInput
from posture.io.file_types import IMAGE_EXTENSIONS
from posture.options import DEFAULT_MAX_SIDE_PX, AnalysisOptions

HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class BatchSettings:
    """Settings shared by every input of a batch.

    Attributes:
        frame_stride: analyse every Nth frame (1 = all); times stay the container's.
            At 30 fps a stride of 3 still samples at 10 Hz, above the 3 Hz filter cutoff.
        annotated: also write an annotated video (or image) per input.
        max_side_px: frames are scaled down to this long side while decoding.
    """

    frame_stride: int = 1
    annotated: bool = False
    max_side_px: int | None = DEFAULT_MAX_SIDE_PX
    calibration: str | None = None

    def analysis_options(
        self, view: str | None, frame_size_px: tuple[int, int] | None = None
    ) -> AnalysisOptions:
        """Options for one input; with a camera profile, ``frame_size_px`` is the
        input's size before decoding scales it (the lens is scaled to match)."""
        options = AnalysisOptions(
            view=view,  # type: ignore[arg-type]
            max_side_px=self.max_side_px,
            frame_stride=self.frame_stride,  # recorded in the report's settings, 1 too
        )
        if self.calibration and frame_size_px is not None:
            from posture.calibration.options import analysed_frame_size, calibrated_options

            size = analysed_frame_size(*frame_size_px, self.max_side_px)
            options = calibrated_options(options, camera=self.calibration, frame_size_px=size)
        return options


@dataclass(frozen=True)
class Job:
    """One input to analyse; ``key`` names the result (see module docstring).

    ``size_bytes`` and ``mtime_ns`` are the file's when it was hashed: a later run
    reuses the hash while they are unchanged.
    """

    input: BatchInput
    settings: BatchSettings
    content_sha256: str
    key: str
    size_bytes: int = 0
    mtime_ns: int = 0


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back: the result folder's files, or one sentence saying why not.

    Attributes:
        ok: the analysis finished and ``files`` holds report.json, frames.csv (and
            the annotated output when asked for).
        error: the one-sentence reason when not ok.
        values: the summary CSV's values for this input (see ``summary.report_values``).
        seconds_taken: wall time of the analysis in the worker.
        posture_version: the worker's posture version (a cluster node may differ).
    """

    ok: bool
    error: str | None
    files: dict[str, bytes] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    seconds_taken: float = 0.0
    posture_version: str = __version__


def file_sha256(path: Path) -> str:
    """SHA-256 of the whole file, read in 1 MiB chunks (memory stays flat)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def job_key(content_sha256: str, item: BatchInput, settings: BatchSettings) -> str:
    """Hash of everything that decides the result folder's contents."""
    payload = {
        "content_sha256": content_sha256,
        "options": asdict(settings.analysis_options(item.view)),
        "frame_stride": settings.frame_stride,
        "annotated": settings.annotated,
        "subject": item.subject,
        "posture_version": __version__,
        "schema_version": SCHEMA_VERSION,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def annotated_name(path: Path) -> str:
    """File name of the annotated output: a photo keeps its image type, a video is MP4."""
    ext = path.suffix.lower()
    if ext in IMAGE_EXTENSIONS:
        return "annotated.png" if ext in (".png", ".webp") else "annotated.jpg"
    return "annotated.mp4"
