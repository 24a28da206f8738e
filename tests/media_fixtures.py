"""Small media files made on the fly for tests (the repository ships no patient media)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_video(
    path: Path, frames: Sequence[np.ndarray], times_s: Sequence[float] | None = None, fps: int = 30
) -> Path:
    """H.264 mp4 of RGB frames; ``times_s`` gives each frame's presentation time."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            t = times_s[i] if times_s is not None else i / fps
            frame.pts, frame.time_base = int(round(t * 1000)), Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def set_mp4_rotation(path: Path, degrees: int) -> None:
    """Write a display rotation into the mp4 track header, as phones do.

    ``degrees`` is clockwise display rotation (what ffmpeg's ``-display_rotation``
    calls negative): 90 means the stored picture must be turned 90 deg clockwise.
    """
    data = bytearray(path.read_bytes())
    i = data.find(b"tkhd")
    version = data[i + 4]
    matrix_at = i + 8 + (20 if version == 0 else 32) + 16
    a = np.radians(degrees)
    c, s = int(round(np.cos(a))), int(round(np.sin(a)))
    one = 0x10000
    matrix = (c * one, s * one, 0, -s * one, c * one, 0, 0, 0, 0x40000000)
    data[matrix_at : matrix_at + 36] = struct.pack(">9i", *matrix)
    path.write_bytes(bytes(data))


def person_image(size: tuple[int, int] | None = None) -> np.ndarray:
    """A real photo of a person (NASA astronaut portrait shipped with scikit-image)."""
    import cv2
    from skimage import data

    img = data.astronaut()
    if size is not None:
        img = cv2.resize(img, size, interpolation=cv2.INTER_CUBIC)
    return img


def no_person_image() -> np.ndarray:
    """A real photo with no person in it (a coffee cup)."""
    from skimage import data

    return data.coffee()
