"""ROM protocol videos: peak and per-frame head-angle errors, with a chosen face model.

    python benchmarks/rom_video_eval.py VIDEO ... [--model FACE_MODEL.npz ...] [--check]

The landmarks of every frame are computed once, as ``posture.pipeline.analyze`` does
(``open_media`` at the default size, ``MediaPipeLandmarker(video_mode=True)``), and cached
beside the cache dir; the angles, filtering, neutral and range of motion then go through
the pipeline's own ``measure_frames`` and ``assemble_report`` with the face model swapped,
so face models can be compared without running the landmark models again. ``--check``
also runs ``analyze()`` itself on each video and compares (should be identical).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from posture.assemble import assemble_report  # noqa: E402
from posture.geometry import head  # noqa: E402
from posture.io.media import MediaInfo, open_media  # noqa: E402
from posture.landmarks.types import FrameLandmarks  # noqa: E402
from posture.measures import ROM_KEYS  # noqa: E402
from posture.options import AnalysisOptions  # noqa: E402
from posture.pipeline import analyze  # noqa: E402
from posture.progress import NullProgress  # noqa: E402
from posture.stream import measure_frames  # noqa: E402

CACHE = Path("/tmp/posture-bench/landmarks")
HEAD_KEYS = ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg")
SHORT = ("rotL", "rotR", "flex", "ext", "latL", "latR")


def cached_landmarks(video: Path, cache: Path = CACHE) -> tuple[MediaInfo, list[FrameLandmarks]]:
    """Every frame's landmarks as the pipeline computes them (cached by path, size, mtime)."""
    from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker

    st = video.stat()
    key = hashlib.sha1(f"{video.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    path = cache / f"{video.stem}-{key[:10]}.pkl"
    if path.exists():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    options = AnalysisOptions()
    source = open_media(video, options.max_side_px)
    try:
        with MediaPipeLandmarker(video_mode=True) as lm:
            lms = [lm.process(frame.rgb, frame.t_s) for frame in source.frames()]
        info = source.info
    finally:
        source.close()
    cache.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump((info, lms), fh)
    return info, lms


@contextmanager
def face_model(model: head.FaceModel | None) -> Iterator[None]:
    """Use ``model`` wherever the pipeline loads the face model (None = the installed one)."""
    if model is None:
        yield
        return
    original = head.load_face_model
    head.load_face_model = lambda *a, **k: model  # type: ignore[assignment]
    try:
        yield
    finally:
        head.load_face_model = original  # type: ignore[assignment]


class _Replay:
    """Stands in for the landmarker: returns the cached landmarks in order."""

    def __init__(self, lms: list[FrameLandmarks]) -> None:
        self._it = iter(lms)

    def set_camera_roll(self, roll_deg: float) -> None:
        """The cached landmarks were found on the frames as rendered (camera level)."""

    def process(self, rgb: np.ndarray, t_s: float) -> FrameLandmarks:
        return next(self._it)

    def process_stream(self, frames: Iterable[Any], overlap: bool = True) -> Iterator[Any]:
        for frame in frames:
            yield frame, next(self._it)


class _Stub:
    def __init__(self, t_s: float) -> None:
        self.t_s, self.rgb = t_s, None


def report_for(video: Path, model: head.FaceModel | None = None) -> dict:
    """The report ``analyze(video)`` would give with ``model`` as the face model."""
    info, lms = cached_landmarks(video)
    options = AnalysisOptions()
    with face_model(model):
        ms = measure_frames([_Stub(x.t_s) for x in lms], _Replay(lms), options, NullProgress())
    # people_max only feeds a warning; decode warnings are none for these renders.
    return assemble_report(info, ms, options, 1, []).to_dict()


def errors(video: Path, report: dict) -> dict:
    truth = json.loads(video.with_suffix(".truth.json").read_text())
    rom = {}
    for key in ROM_KEYS:
        got, want = report["summary"]["rom"][key], truth["rom"][key]
        rom[key] = None if got is None or want is None else got - want
    frames = {}
    for key in HEAD_KEYS:
        e = [
            f[key] - t[key]
            for f, t in zip(report["frames"], truth["frames"], strict=False)
            if f[key] is not None
        ]
        frames[key] = float(np.mean(np.abs(e))) if e else float("nan")
    # Flexion error relative to the neutral hold's, by true flexion (extension < -20 deg).
    fl = np.array([np.nan if f["head_flexion_deg"] is None else f["head_flexion_deg"]
                   for f in report["frames"]])  # fmt: skip
    tr = np.array([t["head_flexion_deg"] for t in truth["frames"]])[: len(fl)]
    tt = np.array([t["t"] for t in truth["frames"]])[: len(fl)]
    e = fl - tr
    e0 = np.nanmedian(e[tt < 1.4])
    return {
        "rom": rom,
        "frames": frames,
        "flex_rel_at_ext": float(np.nanmean(e[tr < -20] - e0)),
        "flex_rel_at_flex": float(np.nanmean(e[tr > 20] - e0)),
    }


def print_table(rows: list[tuple[str, dict]]) -> None:
    head_cells = "".join(f"{s:>7}" for s in SHORT)
    print(f"{'video':<28}{head_cells}{'|mean|':>8}  frame MAE rot/flex/lat   flex-err vs neutral"
          f" @ext @flex")  # fmt: skip
    allp = []
    for name, err in rows:
        vals = [err["rom"][k] for k in ROM_KEYS]
        allp += [abs(v) for v in vals if v is not None]
        cells = "".join(f"{'-':>7}" if v is None else f"{v:>+7.1f}" for v in vals)
        mean = np.mean([abs(v) for v in vals if v is not None])
        fr = "/".join(f"{err['frames'][k]:.2f}" for k in HEAD_KEYS)
        print(f"{name[:27]:<28}{cells}{mean:>8.2f}  {fr:<22}"
              f"{err['flex_rel_at_ext']:>+10.2f}{err['flex_rel_at_flex']:>+7.2f}")  # fmt: skip
    print(f"{'all peaks':<28}mean |err| {np.mean(allp):.2f}, max {np.max(allp):.1f}")


def load_model(path: Path) -> head.FaceModel:
    head.load_face_model.cache_clear()
    return head.load_face_model(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("videos", type=Path, nargs="+")
    parser.add_argument("--model", type=Path, nargs="*", help="face_model.npz files to compare")
    parser.add_argument("--check", action="store_true", help="also run analyze() and compare")
    args = parser.parse_args()
    models = args.model or [head.FACE_MODEL_PATH]
    for path in models:
        model = load_model(path)
        print(f"\n== {path}: pitch gains down {model.pitch_gain[0]:.3f} up "
              f"{model.pitch_gain[1]:.3f}, zero {model.pitch_zero_deg:.2f}")  # fmt: skip
        rows = [(v.stem, errors(v, report_for(v, model))) for v in args.videos]
        print_table(rows)
    if args.check:
        head.load_face_model.cache_clear()
        for v in args.videos:
            a, b = analyze(v).to_dict(), report_for(v)
            same = a["summary"]["rom"] == b["summary"]["rom"] and a["frames"] == b["frames"]
            print(f"check {v.stem}: analyze() {'identical' if same else 'DIFFERS'}")
            if not same:
                print(" analyze:", a["summary"]["rom"], "\n replay: ", b["summary"]["rom"])


if __name__ == "__main__":
    main()
