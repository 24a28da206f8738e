"""Speed benchmark: decode-only, model-only and full-pipeline throughput on one clip.

Each stage runs in its own process so peak memory is measured per stage.
Usage: python benchmarks/speed.py [CLIP] [--loop N] [--workers N]
Default clip: ../shared/data/sports2d_demo/demo.mp4 (1768x994, 30 fps, 7.7 s).
``--loop N`` first writes the clip N times over into one H.264 file in /tmp (a
longer recording, where one-off costs such as the first people search weigh
less) and measures that. ``--workers N`` (default 2; 1 leaves it out) adds the
full pipeline with N processes (posture.runners.chunked): its clock includes starting
the worker processes and loading their models, and its peak memory is the sum
of every process's peak (read from /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CLIP = REPO.parent / "shared" / "data" / "sports2d_demo" / "demo.mp4"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakRssSampler:
    """Peak resident memory of this process and all its descendants, each read from
    /proc/PID/status (VmHWM) every ``interval_s`` while they live, summed."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self._interval_s = interval_s
        self._peaks_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def processes(self) -> int:
        return len(self._peaks_kb)

    @property
    def total_mb(self) -> float:
        return sum(self._peaks_kb.values()) / 1024

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._sample()

    def _sample(self) -> None:
        for pid in {os.getpid(), *_descendants(os.getpid())}:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # ended between the listing and the read
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    kb = int(line.split()[1])
                    self._peaks_kb[pid] = max(self._peaks_kb.get(pid, 0), kb)


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def stage_decode(clip: str) -> dict:
    from posture.io.media import open_media

    src = open_media(clip)
    t0 = time.perf_counter()
    n = sum(1 for _ in src.frames())
    dt = time.perf_counter() - t0
    return {"frames": n, "seconds": dt, "duration_s": src.info.duration_s}


def stage_model(clip: str) -> dict:
    """MediaPipe alone: Pose (full, tracking) on the frame and FaceMesh on the frame."""
    import mediapipe as mp

    from posture.io.media import open_media

    pose = mp.solutions.pose.Pose(model_complexity=1, smooth_landmarks=False)
    face = mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True)
    src = open_media(clip)
    model_s, n = 0.0, 0
    for f in src.frames():
        t0 = time.perf_counter()
        pose.process(f.rgb)
        face.process(f.rgb)
        model_s += time.perf_counter() - t0
        n += 1
    return {"frames": n, "seconds": model_s}


def stage_pipeline(clip: str, annotated: bool, workers: int = 1) -> dict:
    """The whole analysis (decode, search, tracking, face crop, geometry, filtering,
    report; annotation when asked). Model loading is done before the clock starts,
    as in the model-only stage; it is reported on its own. With ``workers`` > 1 the
    worker processes start, and load their models, inside the clock."""
    import tempfile

    from posture.io.media import open_media
    from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
    from posture.pipeline import analyze_source

    out = Path(tempfile.mkdtemp()) / "a.mp4" if annotated else None
    t_load = time.perf_counter()
    landmarker = MediaPipeLandmarker(video_mode=True)
    load_s = time.perf_counter() - t_load
    import scipy.signal  # noqa: F401 - the filters import it on first use (~0.9 s)

    t0 = time.perf_counter()
    source = open_media(clip)
    report = analyze_source(
        source, annotated_path=out, landmarker=landmarker, workers=workers
    ).to_dict()
    dt = time.perf_counter() - t0
    return {
        "frames": report["input"]["frame_count"],
        "seconds": dt,
        "model_load_s": load_s,
        "processes": report["settings"].get("workers", 1),
    }


def stage_parallel(clip: str, workers: int) -> dict:
    with PeakRssSampler() as rss:
        result = stage_pipeline(clip, False, workers)
    result["peak_rss_mb"] = rss.total_mb
    return result


def looped_copy(clip: str, loops: int) -> str:
    """The clip ``loops`` times over, re-encoded (H.264, same size and rate) into /tmp."""
    import tempfile
    from fractions import Fraction

    import av

    out_path = Path(tempfile.gettempdir()) / f"posture-speed-{Path(clip).stem}-x{loops}.mp4"
    if out_path.exists():
        return str(out_path)
    with av.open(clip) as first:
        s = first.streams.video[0]
        rate = s.average_rate or Fraction(30)
        width, height = s.codec_context.width, s.codec_context.height
    tmp = out_path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        index = 0
        for _ in range(loops):
            with av.open(clip) as src:
                for frame in src.decode(video=0):
                    frame = frame.reformat(format="yuv420p")
                    frame.pts, frame.time_base = index, 1 / Fraction(rate)
                    index += 1
                    for packet in stream.encode(frame):
                        out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.rename(out_path)
    return str(out_path)


def run_stage(name: str, clip: str, workers: int = 1) -> dict:
    cmd = [sys.executable, __file__, clip, "--stage", name, "--workers", str(workers)]
    env = dict(os.environ, GLOG_minloglevel="2")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    parser.add_argument("--stage", choices=["decode", "model", "pipeline", "annotated", "parallel"])
    parser.add_argument(
        "--loop", type=int, default=1, metavar="N", help="measure the clip N times over"
    )
    parser.add_argument(
        "--workers", type=int, default=2, metavar="N", help="processes for the parallel row"
    )
    args = parser.parse_args()
    if args.stage:
        fn = {
            "decode": lambda: stage_decode(args.clip),
            "model": lambda: stage_model(args.clip),
            "pipeline": lambda: stage_pipeline(args.clip, False),
            "annotated": lambda: stage_pipeline(args.clip, True),
            "parallel": lambda: stage_parallel(args.clip, args.workers),
        }[args.stage]
        result = fn()
        result.setdefault("peak_rss_mb", _peak_rss_mb())
        print(json.dumps(result))
        return
    if not Path(args.clip).is_file():
        sys.exit(f"Clip not found: {args.clip} (give a path as the first argument).")
    if args.loop > 1:
        args.clip = looped_copy(args.clip, args.loop)
    from posture.io.media import open_media

    info = open_media(args.clip).info
    print(
        f"clip: {args.clip} ({info.width}x{info.height}, {info.fps:.2f} fps, "
        f"{info.frame_count} frames, {info.duration_s:.2f} s); cores: {os.cpu_count()}"
    )
    stages = [
        ("decode", "decode only"),
        ("model", "model only (pose + face)"),
        ("pipeline", "full pipeline"),
        ("annotated", "full pipeline + annotated"),
    ]
    if args.workers > 1:
        stages.append(("parallel", f"full pipeline, {args.workers} procs"))
    rows = {name: run_stage(name, args.clip, args.workers) for name, _ in stages}
    model_fps = rows["model"]["frames"] / rows["model"]["seconds"]
    print(f"{'stage':<28}{'fps':>8}{'x real time':>13}{'peak MB':>10}")
    for name, label in stages:
        r = rows[name]
        fps = r["frames"] / r["seconds"]
        rt = fps / info.fps if info.fps else float("nan")
        print(f"{label:<28}{fps:>8.1f}{rt:>13.2f}{r['peak_rss_mb']:>10.0f}")
    for name, _ in stages[2:]:
        ratio = rows[name]["frames"] / rows[name]["seconds"] / model_fps
        print(f"ratio {name} / model-only: {ratio:.2f}")
    if "parallel" in rows:
        used = rows["parallel"]["processes"]
        print(
            f"parallel: {used} process(es) used; peak MB is the sum over them and the "
            "fork server; worker start-up and model loading are inside its clock"
        )
    load_s = rows["pipeline"]["model_load_s"]
    print(f"model loading (once per video, not in the fps above): {load_s:.2f} s")


if __name__ == "__main__":
    main()
