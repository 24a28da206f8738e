"""Annotated output: skeleton, head axes and live angle readouts; H.264 video via PyAV."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import cv2
import numpy as np

from posture.arrays import Array
from posture.geometry.head import head_frame_from_face
from posture.io.atomic import fsync_path, write_bytes_fd
from posture.landmarks.types import POSE_EDGES, FrameLandmarks

if TYPE_CHECKING:
    from av.container import OutputContainer
    from av.video.stream import VideoStream

SKELETON_RGB = (0, 220, 120)
TEXT_RGB = (255, 255, 255)
AXIS_RGB = ((230, 60, 60), (60, 200, 60), (70, 120, 255))  # left, back, up

READOUTS: tuple[tuple[str, str], ...] = (
    ("head_rotation_deg", "Rotation"),
    ("head_flexion_deg", "Flexion"),
    ("head_lateral_flexion_deg", "Lat. flexion"),
    ("cva_deg", "CVA"),
    ("head_tilt_deg", "Head tilt"),
    ("shoulder_tilt_deg", "Shoulder tilt"),
)


def _fmt(value: float | None) -> str:
    return "--" if value is None or not math.isfinite(value) else f"{value:+.1f} deg"


def draw_overlay(rgb: Array, lm: FrameLandmarks, values: dict[str, float | None]) -> Array:
    """A copy of the frame with the skeleton, head axes and angle readouts drawn on it."""
    out = rgb.copy()
    scale = max(out.shape[:2]) / 720
    thick = max(1, int(round(2 * scale)))
    if lm.pose is not None:
        xy, vis = lm.pose.image_xy, lm.pose.visibility
        for a, b in POSE_EDGES:
            if vis[a] >= 0.5 and vis[b] >= 0.5:
                pa, pb = tuple(int(v) for v in xy[a]), tuple(int(v) for v in xy[b])
                cv2.line(out, pa, pb, SKELETON_RGB, thick, cv2.LINE_AA)
        for i in range(len(xy)):
            if vis[i] >= 0.5:
                cv2.circle(out, tuple(int(v) for v in xy[i]), thick + 1, SKELETON_RGB, -1)
    if lm.face is not None:
        _draw_head_axes(out, lm.face.xyz, thick)
    _draw_readouts(out, values, scale)
    return out


def _draw_head_axes(out: Array, xyz: Array, thick: int) -> None:
    frame = head_frame_from_face(xyz)
    if frame is None:
        return
    origin = xyz[1, :2]  # nose tip
    length = 0.6 * float(np.linalg.norm(xyz[454, :2] - xyz[234, :2]))
    for axis, colour in zip(frame.T, AXIS_RGB, strict=True):
        tip = origin + length * axis[:2]
        cv2.arrowedLine(
            out, tuple(int(v) for v in origin), tuple(int(v) for v in tip), colour, thick,
            cv2.LINE_AA, tipLength=0.15,
        )  # fmt: skip


def _draw_readouts(out: Array, values: dict[str, float | None], scale: float) -> None:
    font_scale = 0.55 * scale
    line_h = int(24 * scale)
    rows = [f"{label}: {_fmt(values.get(key))}" for key, label in READOUTS]
    box_w = int(230 * scale)
    overlay = out.copy()
    cv2.rectangle(overlay, (0, 0), (box_w, line_h * len(rows) + line_h // 2), (0, 0, 0), -1)
    cv2.addWeighted(overlay, 0.5, out, 0.5, 0, dst=out)
    for i, text in enumerate(rows):
        org = (int(8 * scale), line_h * (i + 1))
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, TEXT_RGB, 1, cv2.LINE_AA)


class AnnotatedVideoWriter:
    """H.264 (yuv420p) MP4 that browsers play; frames keep their own timestamps.

    Written to a temporary file and renamed by :meth:`commit`; :meth:`abort`
    (or leaving the ``with`` block on an error) leaves nothing behind.
    """

    def __init__(self, path: str | os.PathLike[str], fps_hint: float | None = None) -> None:
        self.path = Path(path)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".mp4", dir=self.path.parent
        )
        os.close(fd)
        self._tmp = Path(tmp)
        self._tmp_real = os.path.realpath(tmp)
        self._fps = fps_hint or 30.0
        self._container: OutputContainer | None = None
        self._stream: VideoStream | None = None
        self._last_pts = -1

    def _open(self, width: int, height: int) -> None:
        import av

        self._container = av.open(str(self._tmp), mode="w", format="mp4")
        rate = Fraction(self._fps).limit_denominator(1001)
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"crf": "23", "preset": "veryfast", "movflags": "+faststart"}
        self._stream = stream

    def write(self, rgb: Array, t_s: float) -> None:
        import av

        if self._container is None:
            self._open(rgb.shape[1], rgb.shape[0])
        assert self._stream is not None and self._container is not None
        rgb = rgb[: self._stream.height, : self._stream.width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        pts = max(int(round(t_s * 1000)), self._last_pts + 1)
        frame.pts, frame.time_base = pts, Fraction(1, 1000)
        self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def commit(self) -> None:
        """Finish the video (flush the encoder, write the index), fsync it and rename it
        into place. Any failure here (a full disk raises OSError from PyAV's mux or close)
        removes the temporary file and is raised."""
        if self._container is None or self._stream is None:
            self.abort()
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None
            fsync_path(self._tmp)
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        if self._container is not None:
            # Already failing: a close error must not hide the first one (PyAV writes
            # the trailer at most once, so a second close after a failed one is safe).
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None
            self._stream = None
            _close_descriptors_to(self._tmp_real)
        with contextlib.suppress(OSError):
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> AnnotatedVideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def _close_descriptors_to(real_path: str) -> None:
    """Close this process's descriptors still open on ``real_path``.

    When FFmpeg cannot write the MP4 header (a full disk at the first packet), PyAV
    leaves the file open after ``close()``: the deleted temporary file would keep its
    space until the process ends (the dashboard runs for days). The container is
    dropped, so nothing uses the descriptor again. Linux (/proc); elsewhere nothing.
    """
    fd_dir = "/proc/self/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return
    for name in names:
        try:
            link = os.readlink(f"{fd_dir}/{name}")
        except OSError:
            continue
        if link in (real_path, f"{real_path} (deleted)"):
            with contextlib.suppress(OSError):
                os.close(int(name))


def write_annotated_image(path: str | os.PathLike[str], rgb: Array) -> None:
    """Save an annotated still (format from the extension) through a temporary file,
    fsync'd and renamed; on any failure (a full disk too) nothing is left behind."""
    p = Path(path)
    ok, encoded = cv2.imencode(p.suffix, np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise OSError(f"could not encode {p.suffix}")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=p.suffix, dir=p.parent)
    try:
        try:
            write_bytes_fd(fd, encoded.tobytes())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
