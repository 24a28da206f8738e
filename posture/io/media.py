"""Open a video, an image or a webcam and stream upright RGB frames with timestamps.

Videos are decoded with PyAV so that every frame carries its presentation time
in seconds from the container (never ``index / fps``: 29.97 is not 29) and the
rotation stored by phones is applied. Frames are yielded one at a time, so
memory does not grow with the length of the video.
"""

from __future__ import annotations

import math
import os
import queue
import stat
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

from posture.arrays import Array
from posture.errors import InputError
from posture.io.file_types import (
    IMAGE_EXTENSIONS,
    MEDIA_EXTENSIONS,
    supported_types_sentence,
)
from posture.options import DEFAULT_MAX_SIDE_PX

if TYPE_CHECKING:
    from fractions import Fraction

    from av import VideoFrame

# Frames up to this size decode in a few ms on one thread (1080p H.264 ~1-2 ms, the
# 1768x994 VP9 benchmark clip ~5 ms), well within the models' time per frame; more
# decoding threads (FFmpeg's default: one per core) only take cores from the models
# (benchmarks/speed.py --loop 4 on 2 cores: 29-31 -> 35-38 fps). Larger frames keep
# FFmpeg's choice.
ONE_DECODER_THREAD_MAX_PX = 1920 * 1088

# The largest frame the tool decodes: 50 megapixels (a 48 MP phone photo fits; 8K video
# is 33 MP). Checked from the file's header before anything is decoded: a 2.6 MB PNG
# whose header says 30000x30000 would otherwise cost 5.35 GB of memory.
MAX_FRAME_PIXELS = 50_000_000

MediaKind = Literal["image", "video", "camera"]


@dataclass(frozen=True)
class MediaInfo:
    """What the container says about the input (sizes are upright display sizes)."""

    path: str
    kind: MediaKind
    width: int
    height: int
    fps: float | None
    frame_count: int | None
    duration_s: float | None
    rotation_deg: int = 0


@dataclass(frozen=True)
class Frame:
    """One upright RGB frame (uint8, HxWx3) and its time in seconds."""

    index: int
    t_s: float
    rgb: Array


@dataclass
class DecodeStatus:
    """What went wrong while streaming, for the report's warnings."""

    warnings: list[str] = field(default_factory=list)
    frames_decoded: int = 0
    damaged: bool = False  # decoding stopped on an error


@dataclass
class SegmentStatus:
    """How one time segment of a video was read (see :meth:`VideoSource.frames_between`)."""

    frames_skipped: int = 0  # repeated or out-of-order timestamps inside the segment
    reached_end: bool = False  # a frame at or after the segment's end was seen


def damaged_warning(frames_decoded: int) -> str:
    return (
        f"The video ends early or is damaged after {frames_decoded} frames; only those "
        "frames were analysed."
    )


def truncated_warning(frames_decoded: int, declared_frames: int) -> str:
    return (
        f"The video ends early: {frames_decoded} of {declared_frames} frames could be decoded "
        "(the file may be truncated); only those were analysed."
    )


def skipped_warning(frames_skipped: int) -> str:
    return f"{frames_skipped} frame(s) with repeated or out-of-order timestamps were skipped."


def end_of_stream_warnings(
    frames_decoded: int, frames_skipped: int, declared_frames: int | None, damaged: bool
) -> list[str]:
    """The warnings due when a video's frames have all been read (after any damage warning)."""
    out: list[str] = []
    if declared_frames and frames_decoded + frames_skipped < 0.95 * declared_frames and not damaged:
        out.append(truncated_warning(frames_decoded, declared_frames))
    if frames_skipped:
        out.append(skipped_warning(frames_skipped))
    return out


def _timed(raw: Iterable[Any], fps: float, t0_s: float | None) -> Iterator[tuple[float, bool, Any]]:
    """(seconds since the file's first frame, placed, frame) for each decoded frame.

    ``t0_s``: the container time of the file's first frame (None: the first frame seen
    that has a time). ``placed`` is False for a frame whose time repeats or goes back:
    it cannot be placed in time and is skipped.
    """
    last_t = -np.inf
    for frame in raw:
        if frame.time is None:
            t_s = (last_t + 1.0 / fps) if np.isfinite(last_t) else 0.0
        else:
            if t0_s is None:
                t0_s = float(frame.time)
            t_s = float(frame.time) - t0_s
        placed = t_s > last_t
        if placed:
            last_t = t_s
        yield t_s, placed, frame


def display_name(name: str | os.PathLike[str]) -> str:
    """A file name or path as one line of plain text for a message: line breaks, other
    control characters and invisible format characters (such as a right-to-left override)
    are shown as escapes (a name may hold any of them; the message must stay one line)."""
    text = os.fspath(name)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def check_input_path(path: str | os.PathLike[str]) -> Path:
    """Refuse paths that cannot be an input, with one sentence saying why."""
    p = Path(path)
    try:
        exists = p.exists()
        st = p.stat() if exists else None
    except OSError as err:  # a name or path longer than the system allows, no permission
        shown = display_name(p.name if len(p.name) <= 60 else p.name[:40] + "..." + p.suffix)
        raise InputError(
            f"{shown} cannot be opened ({err.strerror or type(err).__name__}): "
            "check the path and try again."
        ) from err
    if st is None:
        raise InputError(f"File not found: {display_name(p)}. Check the path and try again.")
    if stat.S_ISDIR(st.st_mode):
        raise InputError(
            f"{display_name(p)} is a folder, not a file: give one video or image "
            "(use 'posture batch' for a folder of recordings)."
        )
    unreadable = type_problem(p.name)
    if unreadable is not None:
        raise InputError(unreadable)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"{display_name(p)} is not a regular file (a device, pipe or socket): give a "
            "video or image file."
        )
    if st.st_size == 0:
        raise InputError(empty_sentence(p))
    return p


def type_problem(name: str | os.PathLike[str]) -> str | None:
    """The sentence refusing a file whose extension posture cannot read; None when it can
    (one check for files on disk and for uploads)."""
    ext = Path(name).suffix.lower()
    if ext in MEDIA_EXTENSIONS:
        return None
    kind = f"'{display_name(ext)}'" if ext else "a file without an extension"
    return (
        f"{display_name(Path(name).name)} is {kind}, which posture cannot read: use "
        f"{supported_types_sentence()}."
    )


def empty_sentence(name: str | os.PathLike[str]) -> str:
    return f"{display_name(name)} is empty (0 bytes): record or export it again."


def _scaled_size(width: int, height: int, max_side_px: int | None) -> tuple[int, int]:
    if not max_side_px or max(width, height) <= max_side_px:
        return width, height
    scale = max_side_px / max(width, height)
    # Even sizes keep yuv420p encoders of annotated output happy.
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def _resized(rgb: Array, max_side_px: int | None) -> Array:
    """Scale down to ``max_side_px`` (bilinear; area averaging beyond 2x, against aliasing)."""
    import cv2

    h, w = rgb.shape[:2]
    tw, th = _scaled_size(w, h, max_side_px)
    if (tw, th) == (w, h):
        return rgb
    interp = cv2.INTER_AREA if w > 2 * tw else cv2.INTER_LINEAR
    return cv2.resize(rgb, (tw, th), interpolation=interp)


def _scaled_rgb(frame: VideoFrame, max_side_px: int | None) -> Array:
    """A decoded frame as RGB, scaled down to ``max_side_px``.

    Frames that need scaling and are 8-bit 4:2:0 (yuv420p: what cameras and phones
    record) are scaled as their three planes and converted after, with OpenCV: a
    1768x994 frame costs ~3.5 ms instead of ~8 ms, converted full size first. Others
    are converted by FFmpeg (swscale), then scaled with OpenCV (5x cheaper than
    swscale's default scaler). Both use the BT.601 limited-range conversion.
    """
    tw, th = _scaled_size(frame.width, frame.height, max_side_px)
    if (tw, th) == (frame.width, frame.height) or frame.format.name != "yuv420p":
        return _resized(frame.to_ndarray(format="rgb24"), max_side_px)
    import cv2

    interp = cv2.INTER_AREA if frame.width > 2 * tw else cv2.INTER_LINEAR
    scaled = []
    sizes = ((tw, th), (tw // 2, th // 2), (tw // 2, th // 2))
    for plane, size in zip(frame.planes, sizes, strict=True):
        # numpy 1.26 stubs: frombuffer takes only some buffer types (a VideoPlane is a buffer).
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)  # type: ignore[call-overload]
        scaled.append(cv2.resize(rows[:, : plane.width], size, interpolation=interp).ravel())
    i420 = np.concatenate(scaled).reshape(th * 3 // 2, tw)  # tw, th are even
    rgb: Array = cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420)
    return rgb


def _rotate_upright(rgb: Array, rotation_deg: int) -> Array:
    """Apply the container's display rotation (counter-clockwise degrees, as PyAV reports it)."""
    k = int(round(rotation_deg / 90.0)) % 4
    if k == 0:
        return rgb
    return np.ascontiguousarray(np.rot90(rgb, k=k))


def too_many_pixels_sentence(name: str, width: int, height: int) -> str:
    return (
        f"{display_name(name)} is {width}x{height} pixels ({width * height / 1e6:.0f} "
        f"megapixels), more than the {MAX_FRAME_PIXELS / 1e6:.0f} megapixels this tool reads: "
        "save it at a smaller size (a photo or video of 1280 pixels a side measures as well)."
    )


def check_frame_size(name: str, width: int, height: int) -> None:
    """InputError when a frame of ``width`` x ``height`` is over :data:`MAX_FRAME_PIXELS`."""
    if width <= 0 or height <= 0:
        return  # unknown from the header: the decoder's own checks apply
    if width * height > MAX_FRAME_PIXELS:
        raise InputError(too_many_pixels_sentence(name, width, height))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks_fit(data: Array | bytes) -> bool:
    """False for a PNG whose chunk lengths run past the end of the file (damaged or
    truncated; OpenCV could not decode it either). Checked before OpenCV sees it: OpenCV
    4.11 reserves what a chunk's length field claims, so a 22 KB file whose bytes after the
    header say 4 GB cost 4.1 GB of memory and 14 s before the refusal. True for other files."""
    buf = data.tobytes() if isinstance(data, np.ndarray) else data
    if not buf.startswith(PNG_SIGNATURE):
        return True
    i, n = len(PNG_SIGNATURE), len(buf)
    while i + 8 <= n:
        length = int.from_bytes(buf[i : i + 4], "big")
        if i + 12 + length > n:
            return False
        if buf[i + 4 : i + 8] == b"IEND":
            return True
        i += 12 + length
    return True


def image_header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from an image file's header, without decoding its pixels; None
    when the header cannot be read (the decoder then says what is wrong)."""
    from PIL import Image

    try:
        with Image.open(path) as im:  # reads the header only
            return int(im.width), int(im.height)
    except Image.DecompressionBombError as err:  # over ~179 MP, far past our limit
        raise InputError(
            f"{display_name(path.name)} is larger than the {MAX_FRAME_PIXELS / 1e6:.0f} "
            "megapixels this tool reads: save it at a smaller size (1280 pixels a side "
            "measures as well)."
        ) from err
    except Exception:  # noqa: BLE001 - any unreadable header: cv2 decides and says why
        return None


class ImageSource:
    """A still photo as a one-frame source (EXIF orientation applied by OpenCV)."""

    def __init__(self, path: Path, max_side_px: int | None = DEFAULT_MAX_SIDE_PX) -> None:
        import cv2

        size = image_header_size(path)
        if size is not None:
            check_frame_size(path.name, *size)
        data = np.fromfile(str(path), dtype=np.uint8)
        readable = data.size and png_chunks_fit(data)
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if readable else None
        if bgr is None or bgr.size == 0:
            raise InputError(
                f"{display_name(path.name)} is not a readable image (damaged, or not really "
                f"{path.suffix.lstrip('.').upper()}): export the photo again."
            )
        h, w = bgr.shape[:2]
        self._rgb = np.ascontiguousarray(_resized(bgr, max_side_px)[:, :, ::-1])
        self.info = MediaInfo(str(path), "image", w, h, None, 1, None, 0)
        self.status = DecodeStatus()

    def frames(self) -> Iterator[Frame]:
        self.status.frames_decoded = 1
        yield Frame(0, 0.0, self._rgb)

    def close(self) -> None:
        pass


class VideoSource:
    """A video file decoded with PyAV; frames are upright and timestamped from the container.

    ``decoder_threads``: FFmpeg's decoding threads; None = one up to
    :data:`ONE_DECODER_THREAD_MAX_PX` per frame, FFmpeg's choice (one per core) above.
    """

    def __init__(
        self,
        path: Path,
        max_side_px: int | None = DEFAULT_MAX_SIDE_PX,
        decoder_threads: int | None = None,
    ) -> None:
        import av

        self._path = path
        self._max_side_px = max_side_px
        self.status = DecodeStatus()
        try:
            container = av.open(str(path), metadata_errors="ignore")
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as err:
            raise InputError(
                f"{display_name(path.name)} is not a readable video (damaged, incomplete, or not "
                "really a video): export it again, for example as MP4 (H.264)."
            ) from err
        if not container.streams.video:
            container.close()
            raise InputError(
                f"{display_name(path.name)} has no video track: choose a file that has one."
            )
        self._container = container
        stream = container.streams.video[0]
        codec = stream.codec_context
        if codec is None:  # a track whose codec FFmpeg does not know (or a damaged header)
            container.close()
            raise InputError(
                f"{display_name(path.name)} is not a readable video (damaged, or its video "
                "format is unknown): export it again, for example as MP4 (H.264)."
            )
        stream.thread_type = "AUTO"
        if decoder_threads is None and codec.width * codec.height <= ONE_DECODER_THREAD_MAX_PX:
            decoder_threads = 1
        if decoder_threads is not None:
            codec.thread_count = decoder_threads
        self._stream = stream
        try:
            check_frame_size(path.name, int(codec.width or 0), int(codec.height or 0))
        except InputError:
            container.close()
            raise
        first = self._peek_first_frame()
        if first.width * first.height > MAX_FRAME_PIXELS:  # a header that under-stated it
            container.close()
            raise InputError(too_many_pixels_sentence(path.name, first.width, first.height))
        rotation = int(getattr(first, "rotation", 0) or 0)
        w, h = first.width, first.height
        if rotation % 180:
            w, h = h, w
        fps = float(stream.average_rate) if stream.average_rate else None
        duration_s = None
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / 1_000_000
        frame_count = int(stream.frames) if stream.frames else None
        self._declared_frames = frame_count  # exact in mp4/mov sample tables
        if frame_count is None and fps and duration_s:
            frame_count = int(round(fps * duration_s))
        self.info = MediaInfo(str(path), "video", w, h, fps, frame_count, duration_s, rotation)
        self._first = first

    def _peek_first_frame(self) -> VideoFrame:
        import av

        try:
            # The rest is read from this same decoder (_raw_frames): a second decoder on
            # the same stream finds it flushed when the first one reached its end (a
            # clip of two or three frames lost its last ones, reported as damage).
            self._decoder = self._container.decode(self._stream)
            for frame in self._decoder:
                return frame
        except (av.FFmpegError, ValueError) as err:
            self._container.close()
            raise InputError(
                f"{display_name(self._path.name)} is damaged: no video frame could be decoded. "
                "Export or copy it again."
            ) from err
        self._container.close()
        raise InputError(
            f"{display_name(self._path.name)} contains no video frames: record or export it again."
        )

    def _to_rgb(self, frame: VideoFrame, rotation_deg: int) -> Array:
        return _rotate_upright(_scaled_rgb(frame, self._max_side_px), rotation_deg)

    def _raw_frames(self) -> Iterator[VideoFrame]:
        yield self._first
        import av

        try:
            yield from self._decoder
        except (av.FFmpegError, ValueError):
            self.status.damaged = True
            self.status.warnings.append(damaged_warning(self.status.frames_decoded))

    @property
    def declared_frames(self) -> int | None:
        """The frame count the container declares (exact in mp4/mov sample tables)."""
        return self._declared_frames

    @property
    def first_frame_time_s(self) -> float | None:
        """Container time of the file's first frame, from which every ``t_s`` counts."""
        return None if self._first.time is None else float(self._first.time)

    def frames(self) -> Iterator[Frame]:
        fps = self.info.fps or 30.0
        skipped = 0
        for index, (t_s, placed, frame) in enumerate(_timed(self._raw_frames(), fps, None)):
            if not placed:
                skipped += 1  # duplicated or out-of-order timestamp: cannot be placed in time
                continue
            rotation = int(getattr(frame, "rotation", 0) or 0)
            self.status.frames_decoded += 1
            yield Frame(index, round(t_s, 6), self._to_rgb(frame, rotation))
        self.status.warnings += end_of_stream_warnings(
            self.status.frames_decoded,
            skipped,
            self._declared_frames,
            any("ends early" in w for w in self.status.warnings),
        )

    def frames_between(self, start_s: float, end_s: float | None) -> Iterator[Frame]:
        """The frames that :meth:`frames` gives with ``start_s <= t_s < end_s`` (None: to the
        end), with the same times; a fresh source seeks to the keyframe before ``start_s``
        and decodes, without converting, the frames before it. ``Frame.index`` counts from
        the first frame decoded here. How it went is in ``self.segment`` (skipped frames,
        end reached) and ``self.status`` (frames given, damage); no warning is added.
        """
        if self.first_frame_time_s is None:
            raise ValueError("a video whose first frame has no timestamp cannot be segmented")
        self.segment = SegmentStatus()
        fps = self.info.fps or 30.0
        raw = self._raw_frames_from(start_s) if start_s > 0 else self._raw_frames_quiet()
        for index, (t_s, placed, frame) in enumerate(_timed(raw, fps, self.first_frame_time_s)):
            t_s = round(t_s, 6)
            if t_s < start_s:
                continue
            if end_s is not None and t_s >= end_s and placed:
                self.segment.reached_end = True
                return
            if not placed:
                self.segment.frames_skipped += 1
                continue
            rotation = int(getattr(frame, "rotation", 0) or 0)
            self.status.frames_decoded += 1
            yield Frame(index, t_s, self._to_rgb(frame, rotation))

    def _raw_frames_quiet(self) -> Iterator[VideoFrame]:  # damage flagged, no warning
        n_warnings = len(self.status.warnings)
        yield from self._raw_frames()
        del self.status.warnings[n_warnings:]

    def _raw_frames_from(self, start_s: float) -> Iterator[VideoFrame]:
        """Decoded frames from a keyframe at or before ``start_s`` (seconds from the first frame).

        Containers whose index is coarse may land after ``start_s``: then seek further back.
        """
        import av

        t0_s = float(self._first.time)
        back_s = 0.0
        while True:
            target_s = max(start_s - back_s, 0.0)
            try:
                self._container.seek(
                    # A demuxed stream always has its time base.
                    int(math.floor((t0_s + target_s) / cast("Fraction", self._stream.time_base))),
                    stream=self._stream,
                    backward=True,
                    any_frame=False,
                )
                decoded = self._container.decode(self._stream)
                first = next(decoded, None)
            except (av.FFmpegError, ValueError):
                self.status.damaged = True
                return
            if first is None:
                return
            landed_s = None if first.time is None else float(first.time) - t0_s
            if target_s == 0.0 or landed_s is None or landed_s <= start_s:
                break
            back_s = max(1.0, 2 * back_s)
        yield first
        try:
            yield from decoded
        except (av.FFmpegError, ValueError):
            self.status.damaged = True

    def close(self) -> None:
        self._container.close()


class CameraSource:
    """A local webcam by index (CLI use); times are seconds since the first frame."""

    def __init__(self, index: int, max_side_px: int | None = DEFAULT_MAX_SIDE_PX) -> None:
        import cv2

        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            raise InputError(
                f"Camera {index} could not be opened: check that it is connected, "
                "not used by another program, and that access is allowed."
            )
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            self._cap.release()
            raise InputError(f"Camera {index} opened but gave no picture: try another index.")
        self._first = bgr
        self._max_side_px = max_side_px
        h, w = bgr.shape[:2]
        fps = self._cap.get(cv2.CAP_PROP_FPS) or None
        self.info = MediaInfo(f"camera:{index}", "camera", w, h, fps, None, None, 0)
        self.status = DecodeStatus()
        self.stop_requested = False

    def frames(self) -> Iterator[Frame]:

        t0 = time.monotonic()
        bgr = self._first
        index = 0
        while bgr is not None and not self.stop_requested:
            bgr = _resized(bgr, self._max_side_px)
            self.status.frames_decoded += 1
            yield Frame(index, time.monotonic() - t0, np.ascontiguousarray(bgr[:, :, ::-1]))
            index += 1
            ok, bgr = self._cap.read()
            if not ok:
                break

    def close(self) -> None:
        self._cap.release()


class StridedVideoSource(VideoSource):
    """A video whose ``frames()`` yields frames 0, N, 2N, ... of the container, with their
    container times (``AnalysisOptions.frame_stride``; ``posture batch --stride``).

    The frames in between are decoded (H.264 needs them as references) but are not
    converted to RGB, scaled or given to the models, which is where the time goes. Frames
    left out still count as decoded, so a complete file does not get the "ends early"
    warning.
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


MediaSource = ImageSource | VideoSource | CameraSource


def open_media(
    path: str | os.PathLike[str],
    max_side_px: int | None = DEFAULT_MAX_SIDE_PX,
    frame_stride: int = 1,
) -> MediaSource:
    """Open a video or image file, refusing bad input with one plain sentence; with
    ``frame_stride`` > 1, a video keeps every ``frame_stride``-th frame."""
    if frame_stride < 1:
        raise ValueError(f"frame_stride must be 1 or more, not {frame_stride}")
    p = check_input_path(path)
    if p.suffix.lower() in IMAGE_EXTENSIONS:
        return ImageSource(p, max_side_px)
    if frame_stride > 1:
        return StridedVideoSource(p, max_side_px, frame_stride)
    return VideoSource(p, max_side_px)


def prefetch(frames: Iterator[Frame], max_queued: int = 4) -> Iterator[Frame]:
    """Decode ahead in a thread (bounded queue) so decoding overlaps inference."""
    q: queue.Queue[object] = queue.Queue(maxsize=max_queued)
    done = object()
    stop = threading.Event()

    def worker() -> None:
        try:
            for f in frames:
                while not stop.is_set():
                    try:
                        q.put(f, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as err:  # handed to the consumer, raised there
            q.put(err)
            return
        q.put(done)

    thread = threading.Thread(target=worker, name="posture-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(Frame, item)  # the worker puts only frames, errors and done
    finally:
        stop.set()
        thread.join(timeout=2.0)
