"""A fake webcam for Chromium: a sample video rewritten as a small y4m clip (PyAV)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def make_y4m(
    src: str | Path,
    dst: str | Path,
    size: tuple[int, int] = (320, 240),
    fps: int = 15,
    max_s: float | None = None,
    hold_first_s: float = 0.0,
) -> Path:
    """Write ``src`` resampled to ``fps`` and ``size`` as yuv4mpegpipe (yuv420p) to ``dst``.

    ``hold_first_s`` repeats the first frame that long: a subject sitting still while the
    protocol checks the framing and captures neutral. Every frame gets +-2 levels of noise,
    as a real sensor gives (bit-identical frames are not what a camera sends).
    """
    rng = np.random.default_rng(0)
    dst = Path(dst)
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="yuv4mpegpipe") as out:
        stream = out.add_stream("rawvideo", rate=Fraction(fps))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        in_stream = inp.streams.video[0]
        next_t, n = 0.0, 0
        for frame in inp.decode(in_stream):
            t = float(frame.pts * in_stream.time_base)
            if max_s is not None and t > max_s:
                break
            if t + 1e-6 < next_t:
                continue
            rgb = cv2.resize(frame.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA)
            repeats = 1 + (int(round(hold_first_s * fps)) if n == 0 else 0)
            for _ in range(repeats):
                noisy = np.clip(rgb + rng.integers(-2, 3, rgb.shape), 0, 255).astype(np.uint8)
                vf = av.VideoFrame.from_ndarray(noisy, format="rgb24").reformat(format="yuv420p")
                vf.pts = n
                for packet in stream.encode(vf):
                    out.mux(packet)
                n += 1
            next_t = (n - int(round(hold_first_s * fps))) / fps
        for packet in stream.encode():
            out.mux(packet)
    return dst


def fake_camera_args(clip: Path) -> list[str]:
    """Chromium flags making ``clip`` (a .y4m from make_y4m) the webcam, with no prompt."""
    return [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
