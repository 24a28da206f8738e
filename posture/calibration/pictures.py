"""Pictures for calibration: frames sampled from a video, or photos (files or a folder).

Pictures keep their full resolution (calibration measures corners to a tenth of
a pixel; the profile is scaled to whatever size is analysed later) and the
rotation a phone stored, exactly as the analysis will see them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from posture.arrays import Array
from posture.calibration.detect import BoardDetector, BoardView
from posture.errors import InputError
from posture.io.file_types import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from posture.io.media import open_media

# A short video has hundreds of nearly identical frames; this many, evenly
# spaced, cover the board's movements and keep detection to a few seconds.
DEFAULT_VIDEO_SAMPLES = 60


@dataclass(frozen=True)
class Picture:
    label: str  # file name, or "clip.mp4 @ 3.2 s"
    rgb: Array

    @property
    def size_px(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files to read: the given files, and the photos inside any given folder."""
    paths: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            photos = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_EXTENSIONS)
            if not photos:
                raise InputError(
                    f"The folder {p} holds no photos (jpg, png, webp): give the folder with "
                    "the board photos, or a video of the board."
                )
            paths.extend(photos)
        else:
            paths.append(p)
    if not paths:
        raise InputError("No input was given: give a video of the board, or photos of it.")
    return paths


def iter_pictures(
    inputs: Sequence[str | os.PathLike[str]], video_samples: int = DEFAULT_VIDEO_SAMPLES
) -> Iterator[Picture]:
    """Every photo, and up to ``video_samples`` evenly spaced frames of every video.

    Unreadable files are refused by ``open_media`` with its one sentence.
    """
    for path in expand_inputs(inputs):
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            yield from _video_samples(path, video_samples)
        else:
            source = open_media(path, max_side_px=None)
            try:
                for frame in source.frames():
                    yield Picture(path.name, frame.rgb)
            finally:
                source.close()


def _video_samples(path: Path, n: int) -> Iterator[Picture]:
    source = open_media(path, max_side_px=None)
    try:
        count = source.info.frame_count or n
        step = max(1, count // n)
        for frame in source.frames():
            if frame.index % step == 0:
                yield Picture(f"{path.name} @ {frame.t_s:.1f} s", frame.rgb)
    finally:
        source.close()


@dataclass(frozen=True)
class Detections:
    """Board corners found in the inputs (pictures themselves are not kept: 4K frames are big)."""

    views: list[BoardView]
    size_px: tuple[int, int]
    pictures_read: int


def detect_in_inputs(
    inputs: Sequence[str | os.PathLike[str]],
    detector: BoardDetector,
    video_samples: int = DEFAULT_VIDEO_SAMPLES,
) -> Detections:
    """Find the board in every picture; refuses mixed picture sizes."""
    views: list[BoardView] = []
    sizes: set[tuple[int, int]] = set()
    n = 0
    for picture in iter_pictures(inputs, video_samples):
        n += 1
        sizes.add(picture.size_px)
        check_same_size(sizes)
        view = detector.detect(picture.rgb, picture.label)
        if view is not None:
            views.append(view)
    return Detections(views, next(iter(sizes)), n)


def check_same_size(sizes: set[tuple[int, int]]) -> None:
    """All pictures must come from one camera mode: refuse mixed sizes."""
    if len(sizes) > 1:
        listed = ", ".join(f"{w}x{h}" for w, h in sorted(sizes))
        raise InputError(
            f"The pictures have different sizes ({listed}): use pictures from one camera, "
            "in one mode and orientation."
        )
