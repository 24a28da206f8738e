"""Copy a small fixed subset of rendered stills into tests/data/regression (JPEG + truth).

The regression guard (tests/test_accuracy_guard.py) measures them on every
``make test``, so accuracy cannot silently regress. Picks 640x480 stills only
(small files): 8 front/oblique head-angle stills, 6 side views (CVA), 6 front
posture stills (head and shoulder tilt), in dataset order, among the stills the
current pipeline measures (a guard against regressions, not an accuracy figure:
benchmarks/accuracy.py reports detection and error over all renders).

    python benchmarks/make_regression_set.py [--cache /tmp/posture-bench]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
from synthetic_sets import camera_roll_deg  # noqa: E402

OUT = REPO / "tests" / "data" / "regression"
KEEP = (
    "head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg", "cva_deg",
    "cva_left_deg", "cva_right_deg", "head_tilt_deg", "shoulder_tilt_deg", "view",
)  # fmt: skip


NEEDS = {
    "head": ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg"),
    "side": ("cva_deg",),
    "front": ("head_tilt_deg", "shoulder_tilt_deg"),
}


def measured(path: Path, keys: tuple[str, ...], lm) -> bool:
    from posture.errors import PostureError
    from posture.io.media import ImageSource
    from posture.pipeline import analyze_source

    try:
        frame = analyze_source(ImageSource(path), landmarker=lm).to_dict()["frames"][0]
    except PostureError:
        return False
    return all(frame[k] is not None for k in keys)


def pick(kind: str, records: list[dict], n: int, want, root: Path, lm) -> list[dict]:
    """The first ``n`` wanted stills whose JPEG (as committed) the pipeline measures."""
    chosen = []
    for r in records:
        if len(chosen) == n:
            break
        if r["camera"]["width"] != 640 or not want(r):
            continue
        jpeg = OUT / f"{kind}_{len(chosen):02d}.jpg"
        Image.open(root / r["image"]).convert("RGB").save(jpeg, quality=92)
        if measured(jpeg, NEEDS[kind], lm):
            chosen.append({**r, "jpeg": jpeg.name})
        else:
            jpeg.unlink()
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/posture-bench"))
    args = parser.parse_args()

    def load(name: str) -> list[dict]:
        return [json.loads(x) for x in (args.cache / name / "truth.jsonl").read_text().splitlines()]

    from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker

    OUT.mkdir(parents=True, exist_ok=True)
    folders = {"head": "general", "side": "side", "front": "front"}
    wants = {
        "head": lambda r: abs(r["camera"]["azimuth_deg"]) < 50 and r["framing"] != "full",
        "side": lambda r: True,
        "front": lambda r: True,
    }
    counts = {"head": 8, "side": 6, "front": 6}
    with MediaPipeLandmarker(video_mode=False) as lm:
        sets = {
            kind: pick(kind, load(folders[kind]), counts[kind], wants[kind],
                       args.cache / folders[kind], lm)
            for kind in folders
        }  # fmt: skip
    truth = []
    for kind, records in sets.items():
        for rec in records:
            name = rec["jpeg"]
            k = np.array(rec["camera"]["intrinsics"])
            truth.append({
                "image": name, "kind": kind, **{key: rec[key] for key in KEEP},
                "camera_roll_deg": round(camera_roll_deg(rec), 3), "focal_px": float(k[0, 0]),
                "body": rec["body"]["name"],
            })  # fmt: skip
    (OUT / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"wrote {len(truth)} stills to {OUT}")


if __name__ == "__main__":
    main()
