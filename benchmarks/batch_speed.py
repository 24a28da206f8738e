"""Batch throughput (local process pool vs Ray) and one worker's peak memory on a long video.

    python benchmarks/batch_speed.py [--copies 2] [--workers N] [--long-minutes 10]
    python benchmarks/batch_speed.py --skip-memory      # throughput only

Throughput: a folder in /tmp of symlinks to the sample videos (``--copies`` of
each), analysed by ``posture.batch.runner.run_batch`` with each engine into a
fresh output folder; wall time includes starting the workers (and Ray).
Memory: a ~10-minute video made in /tmp by looping a sample (packets copied, no
re-encoding), analysed by one worker (``run_job``) in a child process whose peak
resident memory is read from the OS; the target is under 600 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = [REPO / "sample_videos" / "rom_front.mp4", REPO / "sample_videos" / "sitting_side.mp4"]
PEAK_MEMORY_TARGET_MB = 600


def make_folder(root: Path, copies: int) -> tuple[Path, float]:
    """Symlinks to the samples; (folder, total seconds of video)."""
    from posture.io.media import open_media

    folder = root / "in"
    folder.mkdir(parents=True)
    total_s = 0.0
    for clip in SAMPLES:
        src = open_media(clip)
        total_s += copies * (src.info.duration_s or 0.0)
        src.close()
        for i in range(copies):
            (folder / f"{clip.stem}-{i}{clip.suffix}").symlink_to(clip)
    return folder, total_s


def time_engine(folder: Path, out: Path, engine: str, workers: int) -> tuple[float, int]:
    from posture.batch.runner import run_batch

    t0 = time.perf_counter()
    result = run_batch(folder, out, engine=engine, workers=workers)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    if result.failed:
        sys.exit(f"{engine}: {len(result.failed)} inputs failed: {result.failed[0].error}")
    return seconds, len(result.rows)


def loop_video(src: Path, dst: Path, minutes: float) -> Path:
    """``src`` repeated until ``minutes`` long, packets copied (timestamps shifted)."""
    import av

    with av.open(str(src)) as probe:
        clip_s = float(probe.streams.video[0].duration * probe.streams.video[0].time_base)
    loops = max(1, round(minutes * 60 / clip_s))
    with av.open(str(dst), "w") as out:
        out_stream = None
        offset = 0
        for _ in range(loops):
            with av.open(str(src)) as inp:
                stream = inp.streams.video[0]
                if out_stream is None:
                    out_stream = out.add_stream_from_template(stream)
                end = offset
                for packet in inp.demux(stream):
                    if packet.dts is None:
                        continue
                    packet.pts += offset
                    packet.dts += offset
                    end = max(end, packet.pts + (packet.duration or 0))
                    packet.stream = out_stream
                    out.mux(packet)
                offset = end
    return dst


def worker_memory(video: Path) -> dict:
    """Run one batch job on ``video`` in this process (called in a child process)."""
    from posture.batch.inputs import BatchInput
    from posture.batch.jobs import BatchSettings, Job
    from posture.batch.worker import run_job

    job = Job(BatchInput(video, video.name), BatchSettings(), "-", "-")
    t0 = time.perf_counter()
    outcome = run_job(job)
    seconds = time.perf_counter() - t0
    return {
        "ok": outcome.ok,
        "error": outcome.error,
        "seconds": seconds,
        "duration_s": outcome.values.get("duration_s"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_memory(tmp: Path, minutes: float) -> None:
    video = loop_video(SAMPLES[0], tmp / "long.mp4", minutes)
    cmd = [sys.executable, __file__, "--memory-child", str(video)]
    env = dict(os.environ, GLOG_minloglevel="2")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if not r["ok"]:
        sys.exit(f"long video failed: {r['error']}")
    verdict = "meets" if r["peak_rss_mb"] < PEAK_MEMORY_TARGET_MB else "MISSES"
    print(
        f"\none worker, {r['duration_s'] / 60:.1f}-minute video ({SAMPLES[0].name} looped): "
        f"peak RSS {r['peak_rss_mb']:.0f} MB ({verdict} < {PEAK_MEMORY_TARGET_MB} MB), "
        f"{r['seconds']:.0f} s, {r['duration_s'] / r['seconds']:.2f} x real time"
    )


def main() -> None:
    from posture.batch.engines import default_workers

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=2, help="copies of each sample (2)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--engines", nargs="+", default=["local", "ray"])
    parser.add_argument("--long-minutes", type=float, default=10.0)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--memory-child", metavar="VIDEO", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(worker_memory(Path(args.memory_child))))
        return
    tmp = Path(tempfile.mkdtemp(prefix="posture-batch-speed-"))
    try:
        if not args.skip_throughput:
            folder, video_s = make_folder(tmp, args.copies)
            n = len(list(folder.iterdir()))
            print(
                f"{n} videos, {video_s:.0f} s of video in all; workers: {args.workers}; "
                f"cores: {os.cpu_count()}"
            )
            print(f"{'engine':<8}{'wall s':>8}{'videos/min':>12}{'x real time':>13}")
            for engine in args.engines:
                secs, _ = time_engine(folder, tmp / f"out-{engine}", engine, args.workers)
                print(f"{engine:<8}{secs:>8.1f}{n / secs * 60:>12.2f}{video_s / secs:>13.2f}")
        if not args.skip_memory:
            measure_memory(tmp, args.long_minutes)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
