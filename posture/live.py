"""The guided live protocol: frame in -> (annotated frame, measurement) out, no Streamlit.

The webrtc callback (``app/webcam.py``), the tests, the benchmarks and any other caller use
the same :meth:`LiveProtocol.process`. It runs in the video worker thread; the page reads
:meth:`LiveProtocol.status` (a snapshot taken under a lock) and, when the protocol is done,
:meth:`LiveProtocol.report`, which goes through the library's own report assembly
(zero-phase filtering, neutral, range of motion), so live and file results are computed alike.

Steps: framing (quality prompts until the picture is usable) -> neutral (hold still) -> six
movements, each prompted; a movement's peak is detected when the head has gone at least
``MIN_EXCURSION_DEG`` from neutral in the prompted direction and come back. A step that sees
no movement within its time-out is skipped, so the protocol always ends. The six
directions, their per-frame angles and signs are ``posture.measures.ROM_DIRECTIONS``; only
the prompts are this module's own (``MOVEMENT_PROMPTS``).

A camera profile (``posture calibrate``) is applied as in file analysis: its lens is scaled
to the frame size, known from the first frame (``posture.calibration.options``); landmarks are
undistorted and measured as in file analysis (``posture.stream.measure_with_options``).
A profile that does not fit this webcam (another picture shape or orientation, a missing or
damaged file) is not applied: the protocol runs uncalibrated and says why
(:attr:`LiveStatus.calibration_problem` and a report warning).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import cv2
import numpy as np

from posture.annotate import draw_overlay
from posture.arrays import Array
from posture.assemble import assemble_report
from posture.calibration.options import analysed_frame_size, calibrated_options
from posture.errors import InputError
from posture.geometry.measure import FrameMeasurement
from posture.io.media import MediaInfo
from posture.landmarks.types import LEFT_SHOULDER, RIGHT_SHOULDER, FrameLandmarks, Landmarker
from posture.measures import ROM_DIRECTIONS, RomKey
from posture.options import AnalysisOptions
from posture.report import Report
from posture.signals.rom import (
    HEAD_KEYS,
    LOST_NEAR_PEAK_FRACTION,
    MIN_EXCURSION_DEG,
    NEUTRAL_BAND_DEG,
)
from posture.stream import LiveSmoother, SteadyTrunkYaw, measure_with_options

# Frames are scaled to this long side before the models (the speed target is set at 640x480).
LIVE_MAX_SIDE_PX = 640
# The pose model (shoulders, trunk; ~25 ms) runs on every other live frame and FaceMesh
# (the head angles; ~5 ms) on every frame (MediaPipeLandmarker's pose_every).
LIVE_POSE_EVERY = 2
# Framing must be good for this long (s) before neutral is captured.
FRAMING_HOLD_S = 0.5
# Neutral: every head angle within NEUTRAL_BAND_DEG for this long (s), roughly upright and
# facing the camera (a still moment at the end of a movement is not a neutral).
NEUTRAL_HOLD_S = 0.8
NEUTRAL_MAX_DEG = {"head_rotation_deg": 20.0, "head_flexion_deg": 20.0,
                   "head_lateral_flexion_deg": 15.0}  # fmt: skip
# A movement is "back" when its excursion has fallen below this share of its peak (or 5 deg).
RETURN_FRACTION = 0.4
RETURN_MIN_DEG = 5.0
DEFAULT_STEP_TIMEOUT_S = 20.0
# Framing and neutral do not wait forever: past these (s) the protocol stops and says why.
DEFAULT_FRAMING_TIMEOUT_S = 90.0
DEFAULT_NEUTRAL_TIMEOUT_S = 60.0
# What a session keeps per frame is bounded: at most this many measurements (~1 kB each:
# ~12 MB; 6.7 min at 30 frames/s, while the default time-outs end the protocol within
# 4.5 min), plus at most 7 key frames (0.7 MB each at 640x360).
MAX_LIVE_FRAMES = 12_000
FRAMING_TIMEOUT_SENTENCE = (
    "Stopped: no good view of your head and shoulders for {s:.0f} s. Check the light and "
    "that your face and both shoulders are in the picture, then press Restart."
)
NEUTRAL_TIMEOUT_SENTENCE = (
    "Stopped: your head was not held still and upright for {s:.0f} s, so there is no "
    "starting position to measure from. Sit upright, look at the camera, then press Restart."
)
TOO_LONG_SENTENCE = (
    "Stopped: the protocol ran for over {n} frames without finishing. Press Restart."
)
# A framing problem must last this long (s) to count: one lost frame is not "step into view".
PROBLEM_GRACE_S = 0.3
# Picture quality thresholds.
MIN_MEAN_LUMA = 50.0  # 0-255; below this "more light"
MIN_FACE_WIDTH_FRACTION = 0.07  # face narrower than this share of the frame: "move closer"
MAX_HEAD_TO_FRAME_FRACTION = 0.55  # shoulder-to-crown taller than this share: "move back"
MAX_TRUNK_YAW_DEG = 30.0

# What the person is asked to do in each direction (the protocol's own text).
MOVEMENT_PROMPTS: dict[RomKey, str] = {
    "rotation_left_deg":
        "Turn your head slowly to the LEFT as far as is comfortable, then back",
    "rotation_right_deg":
        "Turn your head slowly to the RIGHT as far as is comfortable, then back",
    "flexion_deg":
        "Bend your head slowly FORWARD, chin to chest, as far as is comfortable, then back",
    "extension_deg":
        "Tilt your head slowly BACK, looking up, as far as is comfortable, then back",
    "lateral_flexion_left_deg":
        "Tilt your LEFT ear toward your left shoulder as far as is comfortable, then back",
    "lateral_flexion_right_deg":
        "Tilt your RIGHT ear toward your right shoulder as far as is comfortable, then back",
}  # fmt: skip


class LiveMovement(NamedTuple):
    """One prompted step: a ROM direction (key, per-frame angle, sign of the excursion,
    all from ``posture.measures.ROM_DIRECTIONS``) and its prompt."""

    key: RomKey
    angle: str
    prompt: str
    sign: float


# The six movements in ROM_DIRECTIONS' order.
MOVEMENTS: tuple[LiveMovement, ...] = tuple(
    LiveMovement(d.key, d.angle, MOVEMENT_PROMPTS[d.key], d.sign) for d in ROM_DIRECTIONS
)
STEP_NAMES: tuple[str, ...] = ("framing", "neutral", *(m.key for m in MOVEMENTS), "done")
FRAMING_PROMPT = "Sit facing the camera with your head and shoulders in view"
NEUTRAL_PROMPT = "Sit tall, look straight at the camera and hold still"
DONE_PROMPT = "Done: well done! Your results are below"
UNCALIBRATED_NOTE = "Measured without camera calibration."


@dataclass(frozen=True)
class LiveStatus:
    """What the page shows: the step, its prompt, a quality hint and the peaks so far."""

    step: str
    step_index: int
    n_steps: int
    prompt: str
    quality_hint: str | None
    peaks_deg: dict[str, float | None]
    frames: int
    fps: float
    done: bool
    calibration: str | None = None  # the camera profile applied, if any
    calibration_problem: str | None = None  # why the chosen profile is not applied
    # Directions whose peak is only a lower bound: the head went past what the camera follows.
    at_least: tuple[str, ...] = ()
    # Why the protocol stopped before the end (a step timed out); None while it runs.
    stopped: str | None = None


def framing_problem(rgb: Array, lm: FrameLandmarks, m: FrameMeasurement) -> str | None:
    """The first thing wrong with the picture, as a plain instruction; None when usable."""
    h, w = rgb.shape[:2]
    luma = float(cv2.cvtColor(rgb[::4, ::4], cv2.COLOR_RGB2GRAY).mean())
    if lm.pose is None and lm.face is None:
        if luma < MIN_MEAN_LUMA:
            return "More light, please: the picture is too dark"
        return "Step into view: head and shoulders in the picture"
    if lm.people_in_view is not None and lm.people_in_view > 1:
        return "One person only, please"
    if luma < MIN_MEAN_LUMA:
        return "More light, please: the picture is too dark"
    pose = lm.pose
    if pose is not None:
        shoulders = pose.visible(LEFT_SHOULDER) and pose.visible(RIGHT_SHOULDER)
        if not shoulders:
            return "Move back a little: both shoulders should be in view"
        shoulder_y = float(pose.image_xy[[LEFT_SHOULDER, RIGHT_SHOULDER], 1].mean())
        if lm.face is not None:
            crown_y = float(lm.face.xyz[:, 1].min())
            if shoulder_y - crown_y > MAX_HEAD_TO_FRAME_FRACTION * h:
                return "Move back a little"
    if lm.face is None:
        return "Face the camera: your face is not found"
    face_w = float(np.ptp(lm.face.xyz[:, 0]))
    if face_w < MIN_FACE_WIDTH_FRACTION * w:
        return "Come a little closer to the camera"
    if m.trunk_yaw_deg is not None and abs(m.trunk_yaw_deg) > MAX_TRUNK_YAW_DEG:
        return "Turn your body to face the camera"
    return None


def _scaled(rgb: Array, max_side_px: int) -> Array:
    """Scaled to the size file analysis would give (so a profile's lens scales alike)."""
    h, w = rgb.shape[:2]
    size = analysed_frame_size(w, h, max_side_px)
    if size == (w, h):
        return rgb
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _banner(out: Array, lines: list[tuple[str, tuple[int, int, int]]]) -> None:
    """Prompt lines on a dark band at the bottom of the frame (ASCII: OpenCV fonts)."""
    h, w = out.shape[:2]
    scale = max(0.4, w / 1100)
    line_h = int(26 * scale / 0.58)
    top = h - line_h * len(lines) - 6
    # Darkened in place to 40%: the same pixels as blending a black band at 60%, without
    # allocating and blending a second band (~0.05 ms instead of ~0.7 ms at 640x480).
    band = out[top:]
    cv2.convertScaleAbs(band, dst=band, alpha=0.4)
    for i, (text, colour) in enumerate(lines):
        org = (8, top + line_h * (i + 1) - 6)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def _wrap(text: str, max_chars: int) -> list[str]:
    lines: list[str] = []
    cur = ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > max_chars:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return [*lines, cur] if cur else lines


@dataclass
class _MovementTracker:
    peak_deg: float = 0.0
    started_s: float | None = None
    peak_frame: Array | None = None
    last_excursion_deg: float | None = None  # the latest reading's excursion
    lost_near_peak: bool = False  # the head was lost while well on the way to its peak


@dataclass
class LiveProtocol:
    """Per-browser-session state of the guided protocol (one landmarker per session).

    Args:
        step_timeout_s: a movement not seen within this time (s) is skipped.
        framing_timeout_s, neutral_timeout_s: without a good framing, or a still upright
            head, for this long (s) the protocol stops and says why.
        max_frames: measurements kept at most; the protocol stops when it reaches them.
        landmarker_factory: builds the landmarker (any ``Landmarker``) on the first frame,
            in the video thread (tests may pass a fake); default: MediaPipe in video mode.
        options: analysis settings applied to every frame (view, calibration already
            resolved); a ``camera`` profile is applied on top of them.
        camera: camera profile name (``posture calibrate``); its lens is scaled to the
            frames' size once the first frame arrives. None: uncalibrated.
    """

    step_timeout_s: float = DEFAULT_STEP_TIMEOUT_S
    framing_timeout_s: float = DEFAULT_FRAMING_TIMEOUT_S
    neutral_timeout_s: float = DEFAULT_NEUTRAL_TIMEOUT_S
    max_frames: int = MAX_LIVE_FRAMES
    landmarker_factory: Callable[[], Landmarker] | None = None
    options: AnalysisOptions = field(default_factory=AnalysisOptions)
    camera: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._landmarker: Landmarker | None = None
        self._forget_calibration()
        self.reset()

    def _forget_calibration(self) -> None:
        self._applied = self.options  # the options in use: self.options + the camera profile
        self._calibrated_size: tuple[int, int] | None = None
        self._calibration_problem: str | None = None

    def set_camera(self, camera: str | None) -> None:
        """Use another camera profile (None: none); the protocol restarts when it changes."""
        if camera == self.camera:
            return
        with self._lock:
            self.camera = camera
            self._forget_calibration()
        self.reset()

    def _calibrate(self, size_px: tuple[int, int]) -> None:
        """Fit the camera profile to frames of ``size_px`` (width, height); a profile that
        does not fit leaves the frames uncalibrated, with the reason kept for the page."""
        self._calibrated_size = size_px
        self._applied, self._calibration_problem = self.options, None
        if not self.camera:
            return
        try:
            self._applied = calibrated_options(
                self.options, camera=self.camera, frame_size_px=size_px
            )
        except InputError as err:
            self._calibration_problem = str(err)

    def reset(self) -> None:
        """Start again from framing (keeps the landmarker)."""
        with getattr(self, "_lock", threading.Lock()):
            self._step = 0
            self._measurements: list[FrameMeasurement] = []
            self._trunk = SteadyTrunkYaw()
            self._smoother = LiveSmoother()
            self._good_since: float | None = None
            self._recent: deque[tuple[float, dict[str, float | None]]] = deque()
            self._neutral: dict[str, float] | None = None
            self._tracker = _MovementTracker()
            self._peaks: dict[str, float | None] = {m.key: None for m in MOVEMENTS}
            self._at_least: set[str] = set()
            self._hint: str | None = None
            self._problem_since: float | None = None
            self._last_t: float | None = None
            self._size = (0, 0)
            self._people_max = 0
            self._frame_times: deque[float] = deque(maxlen=30)
            self._key_frames: dict[str, Array] = {}
            self._step_started_s: float | None = None
            self._stopped: str | None = None

    def close(self) -> None:
        """Release the landmarker (its models) now; a later frame makes a new one."""
        with self._lock:
            landmarker, self._landmarker = self._landmarker, None
        close = getattr(landmarker, "close", None)
        if close is not None:
            close()

    # -- the frame function -------------------------------------------------------------

    def process(self, rgb: Array, t_s: float) -> tuple[Array, FrameMeasurement]:
        """One frame: landmarks, angles, protocol step, overlay. ``t_s`` must increase."""
        rgb = _scaled(rgb, LIVE_MAX_SIDE_PX)
        with self._lock:
            if self._last_t is not None and t_s <= self._last_t:
                t_s = self._last_t + 1e-3  # a repeated camera timestamp; keep time moving
            self._last_t = t_s
            landmarker = self._landmarker
            if landmarker is None:
                landmarker = self._landmarker = self._make_landmarker()
            size = (rgb.shape[1], rgb.shape[0])
            if size != self._calibrated_size:
                self._calibrate(size)
            opts = self._applied
            landmarker.set_camera_roll(opts.camera_roll_deg)
            lm = landmarker.process(rgb, t_s)
            m = measure_with_options(lm, opts, self._trunk)
            values = self._smoother(m)
            self._size = size
            if lm.people_in_view:
                self._people_max = max(self._people_max, lm.people_in_view)
            self._update_hint(t_s, framing_problem(rgb, lm, m))
            out = draw_overlay(rgb, lm, values)
            if self._step < len(STEP_NAMES) - 1 and self._stopped is None:
                self._measurements.append(m)
                self._advance(t_s, values, out, m.head_lost)
                self._check_limits(t_s)
            self._frame_times.append(time.perf_counter())
            self._draw_prompt(out)
            return out, m

    def _check_limits(self, t_s: float) -> None:
        """Stop, saying why, when framing or neutral takes too long or too many frames."""
        if self._step_started_s is None:
            self._step_started_s = t_s
        waited_s = t_s - self._step_started_s
        step = STEP_NAMES[self._step]
        if step == "framing" and waited_s > self.framing_timeout_s:
            self._stopped = FRAMING_TIMEOUT_SENTENCE.format(s=self.framing_timeout_s)
        elif step == "neutral" and waited_s > self.neutral_timeout_s:
            self._stopped = NEUTRAL_TIMEOUT_SENTENCE.format(s=self.neutral_timeout_s)
        elif len(self._measurements) >= self.max_frames:
            self._stopped = TOO_LONG_SENTENCE.format(n=self.max_frames)

    def _update_hint(self, t_s: float, problem: str | None) -> None:
        if problem is None:
            self._problem_since, self._hint = None, None
            return
        if self._problem_since is None:
            self._problem_since = t_s
        if t_s - self._problem_since >= PROBLEM_GRACE_S:
            self._hint = problem

    def _make_landmarker(self) -> Landmarker:
        if self.landmarker_factory is not None:
            return self.landmarker_factory()
        from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker

        return MediaPipeLandmarker(video_mode=True, pose_every=LIVE_POSE_EVERY)

    def _advance(
        self, t_s: float, values: dict[str, float | None], out: Array, head_lost: bool
    ) -> None:
        step = STEP_NAMES[self._step]
        if step == "framing":
            if self._hint is not None:
                self._good_since = None
            elif self._good_since is None:
                self._good_since = t_s
            elif t_s - self._good_since >= FRAMING_HOLD_S:
                self._next(t_s)
        elif step == "neutral":
            if self._update_neutral(t_s, values):
                self._key_frames["neutral"] = out.copy()
        else:
            self._update_movement(t_s, values, out, head_lost)

    def _next(self, t_s: float) -> None:
        self._step += 1
        self._step_started_s = t_s
        self._tracker = _MovementTracker(started_s=t_s)

    def _update_neutral(self, t_s: float, values: dict[str, float | None]) -> bool:
        self._recent.append((t_s, values))
        while self._recent and t_s - self._recent[0][0] > NEUTRAL_HOLD_S:
            self._recent.popleft()
        # Frames without a face (a lost frame) are skipped, not counted as movement.
        window = [v for _, v in self._recent if all(v[k] is not None for k in HEAD_KEYS)]
        if t_s - self._recent[0][0] < 0.9 * NEUTRAL_HOLD_S or len(window) < 5:
            return False
        head = np.array([[v[k] for k in HEAD_KEYS] for v in window], dtype=float)
        median = {k: float(np.median(head[:, i])) for i, k in enumerate(HEAD_KEYS)}
        upright = all(abs(median[k]) <= NEUTRAL_MAX_DEG[k] for k in HEAD_KEYS)
        if upright and np.all(np.ptp(head, axis=0) <= NEUTRAL_BAND_DEG):
            self._neutral = median
            self._next(t_s)
            return True
        return False

    def _update_movement(
        self, t_s: float, values: dict[str, float | None], out: Array, head_lost: bool
    ) -> None:
        key, angle, _, sign = MOVEMENTS[self._step - 2]
        tr = self._tracker
        v = values.get(angle)
        if v is None and head_lost and tr.last_excursion_deg is not None:
            # Lost on the way out: the head went further than the camera follows.
            near = max(MIN_EXCURSION_DEG, LOST_NEAR_PEAK_FRACTION * tr.peak_deg)
            tr.lost_near_peak |= tr.last_excursion_deg >= near
        if v is not None and self._neutral is not None:
            excursion = sign * (v - self._neutral[angle])
            tr.last_excursion_deg = excursion
            if excursion > tr.peak_deg:
                tr.peak_deg, tr.peak_frame = excursion, out.copy()
            back = excursion <= max(RETURN_MIN_DEG, RETURN_FRACTION * tr.peak_deg)
            if tr.peak_deg >= MIN_EXCURSION_DEG and back:
                self._finish_movement(key, t_s)
                return
        if tr.started_s is not None and t_s - tr.started_s > self.step_timeout_s:
            if tr.lost_near_peak:  # never came back into view: keep what was seen, as a bound
                self._finish_movement(key, t_s)
            else:
                self._next(t_s)

    def _finish_movement(self, key: str, t_s: float) -> None:
        tr = self._tracker
        self._peaks[key] = round(tr.peak_deg, 1)
        if tr.lost_near_peak:
            self._at_least.add(key)
        if tr.peak_frame is not None:
            self._key_frames[key] = tr.peak_frame
        self._next(t_s)

    def _draw_prompt(self, out: Array) -> None:
        step = STEP_NAMES[self._step]
        max_chars = max(30, out.shape[1] // 11)
        lines = [(f"Step {self._step + 1}/{len(STEP_NAMES)}", (180, 220, 255))]
        lines += [(s, (255, 255, 255)) for s in _wrap(self._prompt(step), max_chars)]
        if self._stopped is not None:
            lines = [(s, (255, 200, 60)) for s in _wrap(self._stopped, max_chars)]
        elif self._hint and step != "done":
            lines += [(s, (255, 200, 60)) for s in _wrap(self._hint, max_chars)]
        _banner(out, lines)

    @staticmethod
    def _prompt(step: str) -> str:
        if step == "framing":
            return FRAMING_PROMPT
        if step == "neutral":
            return NEUTRAL_PROMPT
        if step == "done":
            return DONE_PROMPT
        return next(m.prompt for m in MOVEMENTS if m.key == step)

    # -- what the page reads -------------------------------------------------------------

    def status(self) -> LiveStatus:
        with self._lock:
            step = STEP_NAMES[self._step]
            times = list(self._frame_times)
            fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
            return LiveStatus(
                step=step,
                step_index=self._step,
                n_steps=len(STEP_NAMES),
                prompt=self._prompt(step),
                quality_hint=self._hint,
                peaks_deg=dict(self._peaks),
                frames=len(self._measurements),
                fps=round(fps, 1),
                done=step == "done",
                calibration=self._applied.calibration,
                calibration_problem=self._calibration_problem,
                at_least=tuple(k for k in self._peaks if k in self._at_least),
                stopped=self._stopped,
            )

    def key_frames(self) -> dict[str, Array]:
        """Annotated frames at neutral and at each detected peak ('neutral' or a ROM key)."""
        with self._lock:
            return dict(self._key_frames)

    @property
    def neutral_deg(self) -> dict[str, float] | None:
        return None if self._neutral is None else dict(self._neutral)

    def report(self) -> Report | None:
        """The recording so far as a report (library assembly); None before any frame."""
        with self._lock:
            ms = list(self._measurements)
            neutral = None if self._neutral is None else dict(self._neutral)
            size, people = self._size, self._people_max
            applied, problem = self._applied, self._calibration_problem
        if len(ms) < 2:
            return None
        duration = ms[-1].t - ms[0].t
        t0 = ms[0].t
        # Report times start at 0, like a file's.
        ms = [replace(m, t=round(m.t - t0, 4)) for m in ms]
        info = MediaInfo(
            path="webcam",
            kind="video",
            width=size[0],
            height=size[1],
            fps=round((len(ms) - 1) / duration, 2) if duration > 0 else None,
            frame_count=len(ms),
            duration_s=round(duration, 3),
        )
        # The calibration applied to the frames (settings.calibration names the profile).
        options = replace(
            applied, neutral_deg=neutral, neutral_source="held still when prompted (live)"
        )
        warnings = [f"{UNCALIBRATED_NOTE} {problem}"] if problem else []
        return assemble_report(info, ms, options, people, warnings)
