"""Live webcam speed (issue #7): the frame function in-process and the dashboard in a browser.

Target: live webcam >= 25 processed frames/s at 640x480 with the overlay.

1. In-process: the webcam callback's work (``app.webcam``: av frame -> rgb24,
   ``LiveProtocol.process``, rgb24 -> av frame) on 640x480 frames of
   ``sample_videos/rom_front.mp4`` decoded beforehand (outside the clock), for
   ``--inproc-s`` seconds, with a per-stage breakdown; then the server's per-frame VP8
   decode (every arriving frame) and encode (every returned frame) as aiortc does them.
2. In a real browser: the dashboard (``streamlit run app/streamlit_app.py``, headless, on a
   free localhost port, its own POSTURE_DB) and Debian chromium through Playwright with a
   fake camera playing a 640x480 30 fps y4m clip; Self-check -> red flags "No" ->
   Continue -> "Continue to the measurement" -> START; the page's processed-frames status
   ("N frames · X frames/s processed") is sampled over ``--browser-s`` seconds. A small
   probe inside the server process (``--probe``, default on) counts frames arriving at
   the streamlit-webrtc track, frames given to the callback, and times the callback and
   aiortc's VP8 decode/encode; WebRTC statistics from the page give the size and rate the
   browser sends and receives; /proc gives each side's CPU use.

Nothing reaches the network: the server listens on 127.0.0.1, no ICE servers, chromium
runs with background networking off.

Usage: python benchmarks/live_speed.py [--inproc-s 20] [--browser-s 30] [--runs 2]
       [--skip-inproc] [--skip-browser] [--no-probe] [--app-root DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path and "--serve" not in sys.argv[1:2]:  # the server: PYTHONPATH
    sys.path.insert(0, str(REPO))

SAMPLE = REPO / "sample_videos" / "rom_front.mp4"
SIZE_PX = (640, 480)
CAMERA_FPS = 30
# The fake camera: the first 5.5 s of the sample (still, then rotation left and back), the
# first frame held 1 s, looped by chromium. The protocol takes neutral, detects rotation
# left, then waits for a rotation right that never comes (the step time-out is set long),
# so the page keeps showing its status for the whole measurement while the head moves.
CLIP_MAX_S = 5.5
CLIP_HOLD_S = 1.0
STEP_TIMEOUT_S = 600
TARGET_FPS = 25.0

# Records RTCPeerConnections made in any frame (the webrtc component lives in an iframe).
PC_HOOK_JS = """
(() => {
  const Orig = window.RTCPeerConnection;
  if (!Orig || Orig.__benchHooked) return;
  window.__benchPcs = [];
  function Hooked(...args) { const pc = new Orig(...args); window.__benchPcs.push(pc); return pc; }
  Hooked.prototype = Orig.prototype;
  Object.setPrototypeOf(Hooked, Orig);
  Hooked.__benchHooked = true;
  window.RTCPeerConnection = Hooked;
})();
"""
RTC_STATS_JS = """
async () => {
  const out = [];
  for (const pc of (window.__benchPcs || [])) {
    const report = await pc.getStats();
    const codecs = {};
    report.forEach(s => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
    report.forEach(s => {
      if ((s.type === 'outbound-rtp' || s.type === 'inbound-rtp') && s.kind === 'video') {
        out.push({type: s.type, codec: codecs[s.codecId] || null,
          frames: s.type === 'outbound-rtp' ? s.framesEncoded : s.framesDecoded,
          width: s.frameWidth || null, height: s.frameHeight || null,
          fps: s.framesPerSecond || null,
          quality_limit: s.qualityLimitationReason || null,
          dropped: s.framesDropped || 0,
          codec_time_s: s.type === 'outbound-rtp' ? s.totalEncodeTime : s.totalDecodeTime,
          t_ms: s.timestamp});
      }
    });
  }
  return out;
}
"""


# -- table ------------------------------------------------------------------------------


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    print("-" * len(title))
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
    sys.stdout.flush()


def load_average_1min() -> float:
    return os.getloadavg()[0]


# -- 1. in-process ----------------------------------------------------------------------


class StageClock:
    """Wall time (s) and calls per named stage."""

    def __init__(self) -> None:
        self.total_s: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def add(self, stage: str, elapsed_s: float) -> None:
        self.total_s[stage] = self.total_s.get(stage, 0.0) + elapsed_s
        self.calls[stage] = self.calls.get(stage, 0) + 1

    def timed(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(stage, time.perf_counter() - t0)

        return wrapper

    def ms_per_frame(self, stage: str, frames: int) -> float:
        return 1000.0 * self.total_s.get(stage, 0.0) / max(frames, 1)


def decode_frames(path: Path, size_px: tuple[int, int], max_frames: int) -> list[Any]:
    """yuv420p av frames at ``size_px``, as aiortc's VP8 decoder hands them to the track."""
    import av

    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if (frame.width, frame.height) != size_px:
                frame = frame.reformat(width=size_px[0], height=size_px[1])
            frames.append(frame.reformat(format="yuv420p"))
            if len(frames) >= max_frames:
                break
    return frames


def run_inprocess(seconds: float) -> None:
    import posture.live as live
    from app.webcam import frame_to_rgb, rgb_to_frame

    load = load_average_1min()
    frames = decode_frames(SAMPLE, SIZE_PX, max_frames=800)
    clock = StageClock()

    orig_measure, orig_framing = live.measure_with_options, live.framing_problem
    orig_overlay = live.draw_overlay
    live.measure_with_options = clock.timed("measurement", orig_measure)
    live.framing_problem = clock.timed("framing check", orig_framing)
    live.draw_overlay = clock.timed("overlay: draw_overlay", orig_overlay)
    try:

        def landmarker() -> object:
            from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker

            inner = MediaPipeLandmarker(video_mode=True, pose_every=live.LIVE_POSE_EVERY)

            class Timed:
                def set_camera_roll(self, roll_deg: float) -> None:
                    inner.set_camera_roll(roll_deg)

                def process(self, rgb: Any, t_s: float) -> Any:
                    return clock.timed("landmarks (MediaPipe)", inner.process)(rgb, t_s)

            return Timed()

        proc = live.LiveProtocol(step_timeout_s=STEP_TIMEOUT_S, landmarker_factory=landmarker)
        proc._draw_prompt = clock.timed("overlay: prompt banner", proc._draw_prompt)  # type: ignore[method-assign]
        # Warm-up (model load, first people search) outside the clock.
        for i in range(10):
            proc.process(frames[i].to_ndarray(format="rgb24"), i / CAMERA_FPS)
        clock.__init__()  # type: ignore[misc]
        n, outputs = 0, []
        cpu0, t0 = time.process_time(), time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            frame = frames[n % len(frames)]
            t_s = (10 + n) / CAMERA_FPS
            c0 = time.perf_counter()
            rgb = frame_to_rgb(frame)
            clock.add("av frame -> rgb", time.perf_counter() - c0)
            p0 = time.perf_counter()
            out, _ = proc.process(rgb, t_s)
            clock.add("process (total)", time.perf_counter() - p0)
            c0 = time.perf_counter()
            rgb_to_frame(out)
            clock.add("rgb -> av frame", time.perf_counter() - c0)
            if len(outputs) < 60:
                outputs.append(out)
            n += 1
        wall_s = time.perf_counter() - t0
        cpu_s = time.process_time() - cpu0
    finally:
        live.measure_with_options, live.framing_problem = orig_measure, orig_framing
        live.draw_overlay = orig_overlay

    named = [
        "landmarks (MediaPipe)",
        "measurement",
        "framing check",
        "overlay: draw_overlay",
        "overlay: prompt banner",
    ]
    other = clock.total_s["process (total)"] - sum(clock.total_s.get(k, 0.0) for k in named)
    rows = [
        ("load average (1 min) at start", f"{load:.2f}"),
        ("frames / wall time", f"{n} / {wall_s:.1f} s"),
        ("callback fps (conversions + process)", f"{n / wall_s:.1f}"),
        ("process() fps", f"{n / clock.total_s['process (total)']:.1f}"),
        ("CPU use (process, 100% = 1 core)", f"{100 * cpu_s / wall_s:.0f}%"),
    ]
    for stage in [*named, "av frame -> rgb", "rgb -> av frame"]:
        rows.append((f"  {stage} ms/frame", f"{clock.ms_per_frame(stage, n):.2f}"))
    rows.append(("  rest of process() ms/frame", f"{1000 * other / n:.2f}"))
    rows.append(("  callback total ms/frame", f"{1000 * wall_s / n:.2f}"))
    rows += codec_rows(frames[:60], outputs)
    print_table(f"In-process: the webcam callback on {SIZE_PX[0]}x{SIZE_PX[1]} frames", rows)


def codec_rows(inputs: list[Any], outputs: list[np.ndarray]) -> list[tuple[str, str]]:
    """The server's per-frame work outside the callback, on fresh frame objects: aiortc's
    VP8 decode of each arriving frame and encode of each returned one (both run for every
    camera frame), and PyAV's rgb24 conversions for comparison with the callback's."""
    import av
    from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder, vp8_depayload
    from aiortc.jitterbuffer import JitterFrame

    from app.webcam import rgb_to_frame

    def ms_each(fn: Callable[[Any], Any], items: list[Any]) -> float:
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        return 1000 * (time.perf_counter() - t0) / len(items)

    def stamped(frames: list[Any]) -> list[Any]:
        for i, frame in enumerate(frames):
            frame.pts, frame.time_base = i * 3000, Fraction(1, 90000)
        return frames

    enc_in = Vp8Encoder()
    packets = []
    for frame in stamped(inputs):
        payloads, ts = enc_in.encode(frame)
        packets.append(JitterFrame(b"".join(vp8_depayload(p) for p in payloads), ts))
    decode_ms = ms_each(Vp8Decoder().decode, packets)
    rgb24 = stamped([av.VideoFrame.from_ndarray(o, format="rgb24") for o in outputs])
    encode_rgb24_ms = ms_each(Vp8Encoder().encode, rgb24)
    encode_yuv_ms = ms_each(Vp8Encoder().encode, stamped([rgb_to_frame(o) for o in outputs]))
    fresh = [av.VideoFrame.from_ndarray(o, format="rgb24") for o in outputs]
    reformat_ms = ms_each(lambda f: f.reformat(format="yuv420p"), fresh)
    to_rgb24_ms = ms_each(lambda f: f.to_ndarray(format="rgb24"), inputs)
    return [
        ("server VP8 decode ms/arriving frame", f"{decode_ms:.2f}"),
        ("server VP8 encode ms/returned frame, yuv420p in", f"{encode_yuv_ms:.2f}"),
        ("  same, rgb24 in (encoder converts; before)", f"{encode_rgb24_ms:.2f}"),
        ("PyAV reformat rgb24 -> yuv420p ms/frame", f"{reformat_ms:.2f}"),
        ("PyAV to_ndarray rgb24 ms/frame", f"{to_rgb24_ms:.2f}"),
    ]


# -- 2. the browser ---------------------------------------------------------------------


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process (clock ticks); 0 when it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _chromium_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            exe = os.readlink(entry / "exe")
        except OSError:
            continue
        if "chromium" in exe:
            pids.append(int(entry.name))
    return pids


def _machine_busy_ticks() -> int:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    return sum(values) - values[3] - values[4]  # all but idle and iowait


@contextmanager
def dashboard(
    probe_path: Path | None, tmp: Path, app_root: Path = REPO
) -> Iterator[tuple[str, subprocess.Popen]]:
    """The dashboard of ``app_root`` (default this checkout) on a free localhost port."""
    from tests.e2e.helpers import STREAMLIT_ARGS, free_port, streamlit_server

    port = free_port()
    env = dict(os.environ)
    env.update(
        POSTURE_DB=str(tmp / "history.sqlite3"),
        POSTURE_LIVE_STEP_TIMEOUT_S=str(STEP_TIMEOUT_S),
        PYTHONPATH=str(app_root) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    args = ["run", str(app_root / "app" / "streamlit_app.py"), "--server.port", str(port),
            *STREAMLIT_ARGS]  # fmt: skip
    if probe_path is None:
        cmd = [sys.executable, "-m", "streamlit", *args]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", str(probe_path), *args]
    with streamlit_server(cmd, REPO, env, port, tmp / "streamlit.log") as served:
        yield served


def _status(page: Any) -> tuple[int, float] | None:
    import re

    text = page.locator("body").inner_text()
    found = re.findall(r"(\d+) frames · ([\d.]+) frames/s processed", text)
    return (int(found[-1][0]), float(found[-1][1])) if found else None


def _rtc_stats(page: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for frame in page.frames:
        try:
            out += frame.evaluate(RTC_STATS_JS)
        except Exception:  # noqa: BLE001 - a frame navigating or without the hook
            continue
    return out


def _probe(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def run_browser(
    seconds: float, run_no: int, use_probe: bool, app_root: Path = REPO, warmup_s: float = 8.0
) -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.fake_camera import fake_camera_args, make_y4m
    from tests.e2e.helpers import CHROMIUM, CHROMIUM_ARGS, choose_mode, pass_safety_screen

    load = load_average_1min()
    with tempfile.TemporaryDirectory(prefix="live_speed_") as tmp_name:
        tmp = Path(tmp_name)
        clip = make_y4m(SAMPLE, tmp / "camera.y4m", SIZE_PX, CAMERA_FPS, CLIP_MAX_S, CLIP_HOLD_S)
        probe_path = tmp / "probe.json" if use_probe else None
        with dashboard(probe_path, tmp, app_root) as (url, server), sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=[*CHROMIUM_ARGS, *fake_camera_args(clip)],
            )
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 1100})
                context.add_init_script(PC_HOOK_JS)
                page = context.new_page()
                page.goto(url)
                page.get_by_text("posture: neck posture and range of motion").wait_for(
                    timeout=60_000
                )
                pass_safety_screen(page)  # every mode's first screen
                choose_mode(page, "Self-check")
                page.get_by_role("button", name="Continue to the measurement").click()
                frame = page.frame_locator('iframe[title*="webrtc"]').first
                frame.get_by_role("button", name="START").click(timeout=60_000)
                deadline = time.monotonic() + 120
                while (_status(page) or (0, 0.0))[0] == 0:
                    if time.monotonic() > deadline:
                        raise RuntimeError("no frame was processed within 120 s of START")
                    page.wait_for_timeout(500)
                page.wait_for_timeout(int(warmup_s * 1000))
                samples = _measure_window(page, server.pid, probe_path, seconds)
            except Exception:
                shot = REPO / "test-artifacts" / "live_speed_failure.png"
                shot.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
                print(f"failed; screenshot {shot}; server log:\n"
                      f"{(tmp / 'streamlit.log').read_text()[-3000:]}")  # fmt: skip
                raise
            finally:
                browser.close()
    _print_browser(run_no, load, seconds, samples, app_root)


def _measure_window(
    page: Any, server_pid: int, probe_path: Path | None, seconds: float
) -> dict[str, Any]:
    n_samples = 6
    chromium = _chromium_pids()
    status0, rtc0, probe0 = _status(page), _rtc_stats(page), _probe(probe_path)
    t0 = time.monotonic()
    server0 = _cpu_ticks(server_pid)
    chrome0 = {pid: _cpu_ticks(pid) for pid in chromium}
    busy0 = _machine_busy_ticks()
    status_samples = []
    for i in range(1, n_samples + 1):
        page.wait_for_timeout(max(0, int((t0 + i * seconds / n_samples - time.monotonic()) * 1000)))
        status_samples.append(_status(page))
    wall_s = time.monotonic() - t0
    server1 = _cpu_ticks(server_pid)
    chrome1 = {pid: _cpu_ticks(pid) for pid in chromium}
    busy1 = _machine_busy_ticks()
    status1, rtc1, probe1 = status_samples[-1], _rtc_stats(page), _probe(probe_path)
    hz = os.sysconf("SC_CLK_TCK")
    return {
        "wall_s": wall_s,
        "status0": status0,
        "status1": status1,
        "status_samples": status_samples,
        "rtc0": rtc0,
        "rtc1": rtc1,
        "probe0": probe0,
        "probe1": probe1,
        "server_cpu_s": (server1 - server0) / hz,
        "chromium_cpu_s": sum(chrome1[p] - chrome0[p] for p in chromium) / hz,
        "machine_cpu_s": (busy1 - busy0) / hz,
    }


def _rtc_pick(stats: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    found = [s for s in stats if s["type"] == kind]
    return max(found, key=lambda s: s["frames"] or 0) if found else None


def _print_browser(
    run_no: int, load: float, seconds: float, s: dict[str, Any], app_root: Path
) -> None:
    wall = s["wall_s"]
    rows: list[tuple[str, str]] = [("load average (1 min) at start", f"{load:.2f}")]
    samples = [f"{x[1]:.0f}" if x else "-" for x in s["status_samples"]]
    rows.append(("page status frames/s, sampled", " ".join(samples)))
    if s["status0"] and s["status1"]:
        n = s["status1"][0] - s["status0"][0]
        rows.append(("page status frames over the window", f"{n} in {wall:.1f} s"))
        rows.append(("processed fps (page frame count)", f"{n / wall:.1f}"))
    p0, p1 = s["probe0"], s["probe1"]
    if p0 and p1:
        arrived = p1["arrived"] - p0["arrived"]
        processed = p1["callback_calls"] - p0["callback_calls"]
        queued = p1["queued_frames"] - p0["queued_frames"]
        cb_s = p1["callback_wall_s"] - p0["callback_wall_s"]
        cb_cpu_s = p1["callback_cpu_s"] - p0["callback_cpu_s"]
        rows += [
            ("frame size arriving at the callback", f"{p1['last_size']}"),
            ("frames arriving at the track (fps)", f"{arrived} ({arrived / wall:.1f})"),
            ("frames to the callback (fps)", f"{processed} ({processed / wall:.1f})"),
            ("frames dropped by async_processing", f"{queued - processed}"),
            ("callback ms/frame: wall (its own thread's CPU)",
             f"{1000 * cb_s / max(processed, 1):.1f} ({1000 * cb_cpu_s / max(processed, 1):.1f})"),
            ("callback busy share of the window", f"{100 * cb_s / wall:.0f}%"),
        ]  # fmt: skip
        for name in ("decode", "encode"):
            calls = p1[f"{name}_calls"] - p0[f"{name}_calls"]
            t = p1[f"{name}_wall_s"] - p0[f"{name}_wall_s"]
            rows.append(
                (
                    f"server {p1.get(name + '_codec', '?')} {name}s (ms each)",
                    f"{calls} ({1000 * t / max(calls, 1):.1f})",
                )
            )
    out0, out1 = _rtc_pick(s["rtc0"], "outbound-rtp"), _rtc_pick(s["rtc1"], "outbound-rtp")
    in0, in1 = _rtc_pick(s["rtc0"], "inbound-rtp"), _rtc_pick(s["rtc1"], "inbound-rtp")
    if out0 and out1:
        rtc_s = (out1["t_ms"] - out0["t_ms"]) / 1000
        sent = out1["frames"] - out0["frames"]
        rows += [
            ("browser sends: codec, size", f"{out1['codec']} {out1['width']}x{out1['height']}"),
            ("browser sends fps (encoded frames)", f"{sent / rtc_s:.1f}"),
            ("browser send quality limitation", f"{out1['quality_limit']}"),
        ]
    if in0 and in1:
        rtc_s = (in1["t_ms"] - in0["t_ms"]) / 1000
        got = in1["frames"] - in0["frames"]
        rows += [
            ("browser receives: size", f"{in1['width']}x{in1['height']}"),
            ("browser receives fps (decoded frames)", f"{got / rtc_s:.1f}"),
        ]
    others_s = s["machine_cpu_s"] - s["server_cpu_s"] - s["chromium_cpu_s"]
    rows += [
        ("CPU, server process (100% = 1 core)", f"{100 * s['server_cpu_s'] / wall:.0f}%"),
        ("CPU, chromium processes", f"{100 * s['chromium_cpu_s'] / wall:.0f}%"),
        ("CPU, whole machine (2 cores = 200%)", f"{100 * s['machine_cpu_s'] / wall:.0f}%"),
        ("CPU, everything else (this script, other jobs)", f"{100 * others_s / wall:.0f}%"),
    ]
    if not (s["status0"] and s["status1"] and s["status1"][0] > s["status0"][0]):
        rows.append(("NOTE", "no frame processed in the window: the stream stopped; not valid"))
    where = "" if app_root == REPO else f", app from {app_root}"
    print_table(f"Browser run {run_no}: {seconds:.0f} s after START + warm-up{where}", rows)


# -- the probe inside the server process ------------------------------------------------


def serve_with_probe(stats_path: Path, streamlit_args: list[str]) -> None:
    """Run streamlit in this process with counters on the webrtc track, the callback and
    aiortc's codecs, written to ``stats_path`` (JSON) twice a second.

    streamlit_webrtc must not be imported before streamlit's runtime exists (its component
    would not be registered): its classes are patched once the app has imported them."""
    from aiortc.codecs import h264, vpx

    lock = threading.Lock()
    stats: dict[str, Any] = {
        "arrived": 0, "queued_frames": 0, "callback_calls": 0, "callback_wall_s": 0.0,
        "callback_cpu_s": 0.0, "decode_calls": 0, "decode_wall_s": 0.0, "encode_calls": 0,
        "encode_wall_s": 0.0, "last_size": None, "patched": False,
    }  # fmt: skip

    def add(**values: Any) -> None:
        with lock:
            for k, v in values.items():
                stats[k] = v if isinstance(v, str | list) else stats[k] + v

    def patch_webrtc() -> None:
        while True:
            models = sys.modules.get("streamlit_webrtc.models")
            webrtc_process = sys.modules.get("streamlit_webrtc.process")
            if hasattr(models, "CallbackAttachableProcessor") and hasattr(
                webrtc_process, "AsyncMediaProcessTrack"
            ):
                break
            time.sleep(0.05)
        track_recv = webrtc_process.AsyncMediaProcessTrack.recv

        async def recv(self: Any) -> Any:
            out = await track_recv(self)
            add(arrived=1)
            return out

        webrtc_process.AsyncMediaProcessTrack.recv = recv

        recv_queued = models.CallbackAttachableProcessor.recv_queued

        async def queued(self: Any, frames: list[Any]) -> Any:
            add(queued_frames=len(frames), last_size=f"{frames[-1].width}x{frames[-1].height}")
            return await recv_queued(self, frames)

        models.CallbackAttachableProcessor.recv_queued = queued

        callback_recv = models.CallbackAttachableProcessor.recv

        def timed_recv(self: Any, frame: Any) -> Any:
            w0, c0 = time.perf_counter(), time.thread_time()
            try:
                return callback_recv(self, frame)
            finally:
                add(
                    callback_calls=1,
                    callback_wall_s=time.perf_counter() - w0,
                    callback_cpu_s=time.thread_time() - c0,
                )

        models.CallbackAttachableProcessor.recv = timed_recv
        with lock:
            stats["patched"] = True

    threading.Thread(target=patch_webrtc, daemon=True).start()

    def wrap_codec(cls: Any, method: str, name: str, codec: str) -> None:
        orig = getattr(cls, method)

        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return orig(self, *args, **kwargs)
            finally:
                with lock:
                    stats[f"{name}_calls"] += 1
                    stats[f"{name}_wall_s"] += time.perf_counter() - t0
                    stats[f"{name}_codec"] = codec

        setattr(cls, method, timed)

    wrap_codec(vpx.Vp8Decoder, "decode", "decode", "VP8")
    wrap_codec(vpx.Vp8Encoder, "encode", "encode", "VP8")
    wrap_codec(h264.H264Decoder, "decode", "decode", "H264")
    wrap_codec(h264.H264Encoder, "encode", "encode", "H264")

    def writer() -> None:
        tmp = stats_path.with_suffix(".tmp")
        while True:
            with lock:
                text = json.dumps(stats)
            tmp.write_text(text)
            tmp.replace(stats_path)
            time.sleep(0.5)

    threading.Thread(target=writer, daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *streamlit_args]
    cli.main(prog_name="streamlit")


# -- main -------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve_with_probe(Path(sys.argv[2]), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inproc-s", type=float, default=20.0)
    parser.add_argument("--browser-s", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=2, help="browser runs")
    parser.add_argument("--skip-inproc", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--no-probe", action="store_true", help="plain streamlit run")
    parser.add_argument(
        "--app-root",
        type=Path,
        default=REPO,
        help="the dashboard from another copy holding app/ (e.g. an earlier commit's app/ "
        "from git archive), to compare; posture/ is the installed package",
    )
    args = parser.parse_args()
    print(f"live speed, target >= {TARGET_FPS:.0f} processed frames/s at 640x480; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    if not args.skip_inproc:
        run_inprocess(args.inproc_s)
    if not args.skip_browser:
        from tests.e2e.helpers import CHROMIUM

        if not CHROMIUM.exists():
            sys.exit(f"{CHROMIUM} is missing (make test-sysdeps installs chromium)")
        for run_no in range(1, args.runs + 1):
            run_browser(args.browser_s, run_no, not args.no_probe, args.app_root.resolve())


if __name__ == "__main__":
    main()
