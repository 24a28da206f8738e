"""Fit the C7 offset of the craniovertebral-angle model on rendered side views.

The pose model has no C7; posture estimates it from the shoulder joint as
``C7 = shoulder + s * (back * backwards + up * up)`` (see
posture/geometry/posture_angles.py). This script fits ``back`` and ``up`` so that
the CVA matches the true C7-tragus angle of rendered bodies, on one half of the
bodies, and reports the error on the other half (bodies never seen by the fit).
Writes posture/geometry/data/cva_model.json.

    python benchmarks/fit_cva_model.py [--side 120] [--cache /tmp/posture-bench]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from synthetic_sets import camera_roll_deg, ensure_set  # noqa: E402

from posture.geometry import posture_angles as pa  # noqa: E402
from posture.io.media import ImageSource  # noqa: E402
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker  # noqa: E402

OUT = REPO / "posture" / "geometry" / "data" / "cva_model.json"


def observations(records: list[dict], root: Path) -> list[tuple]:
    """(pose landmarks, view, camera roll, true CVA, body id) for stills where a body is found."""
    out = []
    with MediaPipeLandmarker(video_mode=False) as lm:
        for rec in records:
            frame = lm.process(next(ImageSource(root / rec["image"]).frames()).rgb, 0.0)
            if frame.pose is None:
                continue
            view = rec["view"]
            truth = rec["cva_left_deg"] if view == "left" else rec["cva_right_deg"]
            out.append((frame.pose, view, camera_roll_deg(rec), truth, rec["body"]["id"]))
    return out


def cva_errors(params: np.ndarray, obs: list[tuple]) -> np.ndarray:
    pa.C7_BACK_FRACTION, pa.C7_UP_FRACTION = float(params[0]), float(params[1])
    errs = []
    for pose, view, roll, truth, _ in obs:
        got = pa.cva_deg(pose, view, roll)
        errs.append(30.0 if got is None else got - truth)  # a missed angle costs like a bad one
    return np.array(errs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/posture-bench"))
    parser.add_argument("--side", type=int, default=120)
    args = parser.parse_args()
    records = ensure_set("side", args.cache / "side", args.side, 1)
    obs = observations(records, args.cache / "side")
    fit_bodies = {0, 2, 4, 6, 8}
    train = [o for o in obs if o[4] in fit_bodies]
    test = [o for o in obs if o[4] not in fit_bodies]
    before = cva_errors(np.array([pa.C7_BACK_FRACTION, pa.C7_UP_FRACTION]), test)
    fit = least_squares(cva_errors, x0=[0.3, 0.2], args=(train,), loss="soft_l1", f_scale=3.0)
    train_err = cva_errors(fit.x, train)
    test_err = cva_errors(fit.x, test)
    print(f"{len(train)} training stills (bodies {sorted(fit_bodies)}), {len(test)} held out")
    print(f"fitted back={fit.x[0]:.3f} up={fit.x[1]:.3f}")
    for name, e in (("before, held out", before), ("train", train_err), ("held out", test_err)):
        print(f"  {name:<18} MAE {np.mean(np.abs(e)):.2f}  bias {np.mean(e):+.2f}  "
              f"max {np.max(np.abs(e)):.2f} deg")  # fmt: skip
    OUT.write_text(
        json.dumps(
            {
                "c7_back_fraction": round(float(fit.x[0]), 4),
                "c7_up_fraction": round(float(fit.x[1]), 4),
                "fitted_on_bodies": sorted(fit_bodies),
                "held_out_mae_deg": round(float(np.mean(np.abs(test_err))), 2),
                "provenance": "benchmarks/fit_cva_model.py on rendered side views",
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
