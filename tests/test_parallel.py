"""One video analysed in time chunks by several processes (posture.runners.chunked).

Decoding checks run without the models; the end-to-end ones (marked slow) run
MediaPipe on the bundled ROM clip, once with one process and once with two.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import av
import numpy as np
import pytest

from posture.errors import InputError
from posture.geometry.measure import ANGLE_KEYS, FrameMeasurement
from posture.io.media import Frame, StridedVideoSource, VideoSource, open_media
from posture.landmarks.types import FrameLandmarks, PoseLandmarks
from posture.measures import ROM_KEYS
from posture.pipeline import analyze, analyze_source
from posture.report_schema import validate_report
from posture.runners.chunked import (
    HEAD_START_S,
    REJOIN_FRAMES,
    Chunk,
    ChunkResult,
    RejoinWatch,
    decode_warnings,
    handover_mismatch,
    joined_results,
    plan_chunks,
    split_timeline,
)
from tests.media_fixtures import no_person_image, person_image, write_video

REPO = Path(__file__).resolve().parent.parent
ROM_CLIP = REPO / "sample_videos" / "rom_front.mp4"  # 26.6 s, 798 frames, 640x480
FULL_RANGE_CLIP = REPO / "sample_videos" / "rom_full_range.mp4"  # 12.1 s, 362 frames


def _faststart(src: Path, dst: Path) -> Path:
    """A copy with the index first, so that cutting or damaging the data keeps it readable."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "faststart"}) as out:
        s_in = inp.streams.video[0]
        s_out = out.add_stream_from_template(s_in)
        for packet in inp.demux(s_in):
            if packet.dts is None:
                continue
            packet.stream = s_out
            out.mux(packet)
    return dst


def _cut(tmp_path: Path, fraction: float) -> Path:
    data = _faststart(ROM_CLIP, tmp_path / "fast.mp4").read_bytes()
    out = tmp_path / "cut.mp4"
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def _scrambled(tmp_path: Path, fraction: float) -> Path:
    data = bytearray(_faststart(ROM_CLIP, tmp_path / "fast.mp4").read_bytes())
    at = int(len(data) * fraction)
    data[at : at + 20_000] = np.random.default_rng(0).integers(0, 256, 20_000, np.uint8).tobytes()
    out = tmp_path / "scrambled.mp4"
    out.write_bytes(bytes(data))
    return out


def _serial_times(path: Path) -> tuple[list[float], list[str]]:
    src = open_media(path)
    try:
        times = [f.t_s for f in src.frames()]
    finally:
        src.close()
    return times, src.status.warnings


def _read_chunk(path: Path, chunk: Chunk) -> tuple[list[float], ChunkResult]:
    """What a worker reads of ``chunk`` (no models: one empty measurement per frame)."""
    src = open_media(path)
    try:
        times = [f.t_s for f in src.frames_between(chunk.start_s, chunk.end_s)]
    finally:
        src.close()
    result = ChunkResult(
        chunk.index,
        [FrameMeasurement(t, False, "unknown", "camera") for t in times],
        [None] * len(times),
        0,
        src.status.frames_decoded,
        src.segment.frames_skipped,
        src.status.damaged,
        src.segment.reached_end,
    )
    return times, result


def _no_rerun(first: ChunkResult, subject: tuple[float, float, float]) -> ChunkResult:
    raise AssertionError("no subject was followed, so nothing may be analysed again")


def _chunked(path: Path, workers: int) -> tuple[list[float], list[str]]:
    """Times and decode warnings as the parallel path joins them."""
    src = open_media(path)
    try:
        chunks = plan_chunks(src, workers)
        declared = src.declared_frames
    finally:
        src.close()
    assert chunks is not None and len(chunks) == workers
    reads = [_read_chunk(path, c) for c in chunks]
    kept = joined_results([r for _, r in reads], chunks, _no_rerun)
    times = [m.t for r in kept for m in r.measurements]
    return times, decode_warnings(kept, declared)


# -- planning and decoding (no models) ---------------------------------------------------


def test_timeline_is_split_into_contiguous_chunks_with_a_head_start():
    chunks = split_timeline(26.6, 3)
    assert [c.index for c in chunks] == [0, 1, 2]
    assert chunks[0].start_s == 0.0 and chunks[-1].end_s is None
    assert all(a.end_s == b.start_s for a, b in zip(chunks, chunks[1:], strict=False))
    lengths = [chunks[1].start_s, chunks[2].start_s - chunks[1].start_s, 26.6 - chunks[2].start_s]
    assert lengths[0] == pytest.approx(lengths[1] + HEAD_START_S)
    assert lengths[1] == pytest.approx(lengths[2])


def test_one_process_is_planned_where_chunks_cannot_help(tmp_path):
    photo = tmp_path / "p.png"
    import cv2

    cv2.imwrite(str(photo), person_image()[:, :, ::-1])
    short = write_video(tmp_path / "short.mp4", [person_image((160, 120))] * 90)  # 3 s
    for source, workers in [
        (open_media(ROM_CLIP), 1),
        (open_media(photo), 2),
        (open_media(short), 2),  # under 2 s per process
        (StridedVideoSource(ROM_CLIP, frame_stride=2), 2),  # wrappers keep their own reading
    ]:
        assert plan_chunks(source, workers) is None
        source.close()
    source = open_media(ROM_CLIP)
    assert len(plan_chunks(source, 64)) == 13  # at most one process per 2 s of video
    source.close()


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_chunks_cover_every_frame_exactly_once(workers):
    serial, warnings = _serial_times(FULL_RANGE_CLIP)  # 12 s: 2 s or more per chunk
    times, chunk_warnings = _chunked(FULL_RANGE_CLIP, workers)
    assert times == serial  # same frames, same container times, none twice
    assert chunk_warnings == warnings == []


def test_chunks_keep_variable_frame_times(tmp_path):
    rng = np.random.default_rng(1)
    steps = rng.choice([0.02, 0.033, 0.05, 0.1], size=150)
    times_s = np.round(np.concatenate([[0.0], np.cumsum(steps)[:-1]]), 3).tolist()
    frames = [np.full((48, 64, 3), i % 255, np.uint8) for i in range(len(times_s))]
    path = write_video(tmp_path / "vfr.mp4", frames, times_s=times_s)
    serial, _ = _serial_times(path)
    assert serial == pytest.approx(times_s, abs=0.002)
    times, _ = _chunked(path, 3)
    assert times == serial


@pytest.mark.parametrize(
    "damage", [lambda d: _cut(d, 0.3), lambda d: _cut(d, 0.6), lambda d: _scrambled(d, 0.5)]
)
def test_damaged_video_gives_the_serial_sentence(tmp_path, damage):
    path = damage(tmp_path)
    serial, warnings = _serial_times(path)
    assert 0 < len(serial) < 798 and len(warnings) == 1
    for workers in (2, 3):
        times, chunk_warnings = _chunked(path, workers)
        assert times == serial
        assert chunk_warnings == warnings


def test_one_decoding_thread_gives_the_same_frames():
    sources = [VideoSource(ROM_CLIP, decoder_threads=n) for n in (1, 2)]
    try:
        pairs = zip(*(islice(s.frames(), 40) for s in sources), strict=True)
        for a, b in pairs:
            assert a.t_s == b.t_s and np.array_equal(a.rgb, b.rgb)
    finally:
        for s in sources:
            s.close()


# -- hand-over of the subject between chunks ---------------------------------------------


def _result(index: int, times: list[float], boxes: list) -> ChunkResult:
    ms = [FrameMeasurement(t, True, "front", "trunk") for t in times]
    return ChunkResult(index, ms, boxes, 2, len(times), 0, False, True)


def test_a_chunk_that_starts_on_someone_else_is_analysed_again():
    before = _result(0, [4.9, 4.95], [(100.0, 200.0, 300.0), (102.0, 200.0, 300.0)])
    same = _result(1, [5.0, 5.05], [(105.0, 201.0, 290.0), None])
    other = _result(1, [5.0, 5.05], [None, (500.0, 200.0, 250.0)])
    late = _result(1, [5.0, 7.0], [None, (500.0, 200.0, 250.0)])  # first seen after the window
    assert handover_mismatch(before, same, 5.0) is None
    assert handover_mismatch(before, other, 5.0) == (102.0, 200.0, 300.0)
    assert handover_mismatch(before, late, 5.0) is None
    chunks = [Chunk(0, 0.0, 5.0), Chunk(1, 5.0, None)]
    again = _result(1, [5.0, 5.05], [(103.0, 200.0, 300.0)] * 2)
    calls = []

    def rerun(first: ChunkResult, subject: tuple[float, float, float]) -> ChunkResult:
        calls.append((first, subject))
        return again

    assert joined_results([before, other], chunks, rerun) == [before, again]
    assert calls == [(other, (102.0, 200.0, 300.0))]
    assert joined_results([before, same], chunks, rerun) == [before, same]
    assert len(calls) == 1


def test_analysing_again_stops_once_both_follow_the_same_person():
    other = [(500.0, 200.0, 250.0)] * 30
    watch = RejoinWatch(other=other)
    frame = Frame(0, 0.0, np.zeros((4, 4, 3), np.uint8))
    for i in range(30):
        pose = None
        if i >= 10:  # lost the first subject, then found the one the worker followed
            xy = np.array([[400.0, 100.0], [590.0, 290.0]])
            pose = PoseLandmarks(np.resize(xy, (33, 2)), np.ones(33), np.zeros((33, 3)))
        watch(
            frame,
            FrameLandmarks(0.0, 4, 4, pose, None),
            FrameMeasurement(0.0, False, "unknown", "camera"),
        )
        if watch.rejoined:
            break
    assert i == 10 + REJOIN_FRAMES - 1


# -- end to end, with the models -----------------------------------------------------------


@pytest.mark.slow
def test_parallel_report_matches_one_process(
    rom_full_range_report, cli_full_range_in_two_processes
):
    serial = rom_full_range_report  # the one-process analysis, shared (tests/conftest.py)
    # `posture analyze --workers 2` of the same clip, shared with the privacy test (one
    # run of the chunked path for both; tests/conftest.py).
    parallel = cli_full_range_in_two_processes["report"]
    assert validate_report(parallel) == []
    assert parallel["settings"]["workers"] == 2 and "workers" not in serial["settings"]
    assert [f["t"] for f in parallel["frames"]] == [f["t"] for f in serial["frames"]]
    assert parallel["input"] == serial["input"]
    assert parallel["quality"]["warnings"] == serial["quality"]["warnings"]
    assert parallel["quality"]["valid_frame_fraction"] == pytest.approx(
        serial["quality"]["valid_frame_fraction"], abs=0.01
    )
    for key in ANGLE_KEYS:
        pairs = [
            (a[key], b[key])
            for a, b in zip(serial["frames"], parallel["frames"], strict=True)
            if a[key] is not None and b[key] is not None
        ]
        present = sum(a[key] is not None for a in serial["frames"])
        assert len(pairs) >= present - 5, key
        if not pairs:
            continue
        diff = np.abs(np.subtract(*zip(*pairs, strict=True)))
        # Frames after a chunk boundary are tracked from another crop: they differ a
        # little, and so does the recording's median trunk yaw that head angles are
        # referred to (0.3 deg here).
        assert np.median(diff) < 0.5, key
        assert np.percentile(diff, 95) < 2.5, key
    for key in ROM_KEYS:
        assert parallel["summary"]["rom"][key] == pytest.approx(
            serial["summary"]["rom"][key], abs=1.0
        ), key
    for key in ("head_tilt_deg", "shoulder_tilt_deg"):
        assert parallel["summary"][key] == pytest.approx(serial["summary"][key], abs=1.0)


@pytest.mark.slow
def test_truncated_video_end_to_end_gives_the_serial_sentence(tmp_path):
    path = _cut(tmp_path, 0.3)  # ~8 s left: still split in two (2 s per process at least)
    serial_times, serial_warnings = _serial_times(path)
    report = analyze(path, workers=2).to_dict()
    assert report["settings"]["workers"] == 2
    assert [f["t"] for f in report["frames"]] == serial_times
    assert serial_warnings[0] in report["quality"]["warnings"]
    assert "ends early" in serial_warnings[0]


@pytest.mark.slow
def test_video_without_a_person_gives_the_serial_sentence(tmp_path):
    path = write_video(tmp_path / "cup.mp4", [no_person_image()] * 150)  # 5 s
    messages = []
    for workers in (1, 2):
        with pytest.raises(InputError) as err:
            analyze(path, workers=workers)
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("No person was found in cup.mp4")


@pytest.mark.slow
def test_one_worker_is_the_one_process_path(tmp_path, monkeypatch):
    import posture.pipeline

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("one worker must not start processes")

    monkeypatch.setattr(posture.pipeline, "analyze_in_parallel", refuse)
    path = write_video(tmp_path / "me.mp4", [person_image((320, 320))] * 30)
    default = analyze(path).to_dict()
    assert analyze(path, workers=1).to_dict() == default
    assert analyze(path, workers=4).to_dict() == default  # 1 s: too short to split
    assert "workers" not in default["settings"]


@pytest.mark.slow
def test_a_worker_that_fails_stops_the_analysis_with_one_sentence(tmp_path):
    path = shutil.copy(ROM_CLIP, tmp_path / "gone.mp4")
    source = open_media(path)
    os.unlink(path)  # this process keeps reading it; a worker can no longer open it
    chunks = plan_chunks(source, 2)
    own_chunk_frames = round(chunks[1].start_s * source.info.fps)  # ~415 of 798
    progress = _CountingProgress()
    try:
        with pytest.raises(InputError) as err:
            analyze_source(source, progress=progress, workers=2)
    finally:
        source.close()
    assert "gone.mp4" in str(err.value) and "\n" not in str(err.value)
    # At once, not after this process's own chunk: it stopped part-way through it.
    assert progress.frames < own_chunk_frames // 2, (progress.frames, own_chunk_frames)
    assert multiprocessing.active_children() == []


class _CountingProgress:
    """A Progress that counts the frames reported analysed."""

    def __init__(self) -> None:
        self.frames = 0

    def start(self, total: int | None, description: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        self.frames += n

    def close(self) -> None:
        pass


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("whole_group", [False, True], ids=["parent only", "terminal ctrl-c"])
def test_ctrl_c_leaves_no_process_behind(tmp_path, whole_group):
    cmd = [sys.executable, "-m", "posture.cli", "analyze", str(ROM_CLIP), "--json", "r.json"]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2", "--quiet"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # As from a terminal: a test run started in the background (`cmd &` in a script)
        # ignores SIGINT, and its children would inherit that and never see the Ctrl-C.
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_descendants(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # the fork server and a worker
        time.sleep(3.0)  # the worker is analysing by now
        children = _descendants(proc.pid)
        assert len(children) >= 2
        if whole_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 130, proc.stderr.read() if proc.stderr else ""
        deadline = time.monotonic() + 10
        while any(_running(p) for p in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_running(p) for p in children)
        assert not (tmp_path / "r.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.e2e
def test_ctrl_c_while_the_models_load_is_a_stop_not_an_internal_error(tmp_path):
    """Ctrl-C while the CLI is still importing and loading the models is the user's stop,
    exit 130, whenever it lands. A KeyboardInterrupt inside a compiled module's start-up
    comes out as 'ImportError: initialization failed' (seen once at 0.8 s in 8 tries, on
    an idle machine), so the Ctrl-C is sent at several moments of the start-up."""
    outcomes = []
    for after_s in (0.2, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2):
        folder = tmp_path / f"after-{after_s}"
        folder.mkdir()
        proc = subprocess.Popen(
            [sys.executable, "-m", "posture.cli", "analyze", str(ROM_CLIP), "--json", "r.json"],
            cwd=folder,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_default_sigint,
        )
        try:
            time.sleep(after_s)
            os.kill(proc.pid, signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        outcomes.append((after_s, proc.returncode, err.strip(), (folder / "r.json").exists()))
    # Each one: exit 130, the one sentence, and no report (a stop that a library swallowed
    # once let the whole clip be analysed and written).
    # 130, or ended by the SIGINT itself (which a shell shows as 130 too).
    assert all(code in (130, -signal.SIGINT) for _, code, _, _ in outcomes), outcomes
    assert all(e.startswith("posture: stopped by the user") for _, _, e, _ in outcomes), outcomes
    assert all(len(e.splitlines()) == 1 for _, _, e, _ in outcomes), outcomes
    assert not any(written for *_, written in outcomes), outcomes


@pytest.mark.e2e
def test_cli_refuses_zero_workers(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "posture.cli", "analyze", str(ROM_CLIP), "--json", "r.json"]
        + ["--workers", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "posture: --workers 0 is not a number of processes: give 1 or more."
    )
