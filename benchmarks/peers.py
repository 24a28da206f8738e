"""The product against the three peer baselines on the SAME rendered inputs, ONE table.

    PYOPENGL_PLATFORM=egl .venv/bin/python benchmarks/peers.py [--only stills posture rom aflw]
        [--limit N] [--cache /tmp/posture-bench]

The rule this table checks: a change should beat every baseline on every row it touches.

The peers (``$POSTURE_PEERS_DIR``, default ``../shared/tools/peers``: ``peer_earshoulder``,
``peer_solvepnp``, ``peer_facemesh_neutral``) are imported in-process and run through
``peers_common.analyze_path``, the function their CLI calls, so their reports are the ones
``peer_*.py analyze INPUT --json OUT`` writes (stills: one static-mode analyzer per peer
for all photos, ``analyze_path``'s ``image_cache``; videos: a fresh analyzer per video).
No peer code lives in this repository. A peer's "No person was found" (its exit code 3) is
"not detected"; any other error is a crash, counted and listed apart.

The inputs are the cached renders and real photos ``benchmarks/accuracy.py`` reads (this
script renders nothing; render with ``accuracy.py --render-only``), scored with its
helpers, truth keys and split labels:

- stills: the first 300 general stills, front and oblique views (20 < |azimuth| < 60).
  Product: ``_measure_still`` with the camera's roll, pitch and focal length given (as
  accuracy.py). Peers: frames[0] of their still report (they take no calibration).
- posture: side stills (CVA against the camera-side tragus) and front stills (head and
  shoulder tilt), as ``accuracy.posture_stills``; product roll corrected.
- rom: ``rom_full_range.py``'s full / restricted range videos; summary.rom peaks against
  the truth. Product: ``posture.pipeline.analyze`` (``rom_full_range.score``, no
  calibration); peers: their video report. A direction the product reports as "at least"
  (``summary.rom_at_least``) goes to its own "[at least]" rows, for every method.
- aflw: aflw2000_wide (photos also in aflw2000_subset left out), yaw error by |yaw| bin in
  the contract's rotation sign (rotation = -AFLW yaw). Product: ``aflw_wide_product``'s
  "yaw (line of sight)" rows, sign flipped; peers: head_rotation_deg against -label yaw.

``--limit N`` takes the first N inputs of each block (stills: of the front/oblique ones).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import accuracy  # noqa: E402
from accuracy import (  # noqa: E402
    HEAD_KEYS,
    REAL_HELD_OUT,
    Crash,
    Splits,
    Table,
    _error,
    _measure_still,
    _options,
    _truth_records,
    _yaw_bin,
    load_splits,
)

PEERS_DIR = Path(os.environ.get("POSTURE_PEERS_DIR", REPO.parent / "shared" / "tools" / "peers"))
PEER_CLASSES = (  # (column name, module, class)
    ("earshoulder", "peer_earshoulder", "EarShoulder"),
    ("solvepnp", "peer_solvepnp", "SolvePnP"),
    ("facemesh_neutral", "peer_facemesh_neutral", "FaceMeshNeutral"),
)
METHODS = ("product", *(name for name, _, _ in PEER_CLASSES))
BLOCKS = ("stills", "posture", "rom", "aflw")
GENERAL_COUNT, SIDE_COUNT, FRONT_COUNT = 300, 120, 80  # accuracy.py's defaults
ALL_SPLITS = "all"
AFLW_METRIC = "AFLW wide yaw"
AFLW_PRODUCT_KEY = "AFLW wide yaw (line of sight)"  # accuracy.aflw_wide_product's row
AT_LEAST = " [at least]"
METRIC_ORDER = (
    *HEAD_KEYS,
    "cva_deg",
    "head_tilt_deg",
    "shoulder_tilt_deg",
    "ROM full-range peak",
    "ROM full-range peak" + AT_LEAST,
    "ROM restricted-range peak",
    "ROM restricted-range peak" + AT_LEAST,
    AFLW_METRIC,
)
GROUP_ORDER = (
    "all front+oblique", "front", "oblique", "side stills", "front stills", "all directions",
    "rotation L", "rotation R", "flexion", "extension", "lat flex L", "lat flex R",
    "|yaw| 0-30", "|yaw| 30-60", "|yaw| 60-75", "|yaw| 75-90",
)  # fmt: skip


# ----------------------------------------------------------------------------- peers
class Peers:
    """The three peer baselines, imported from PEERS_DIR, run as their CLI runs them."""

    def __init__(self, folder: Path) -> None:
        files = ["peers_common.py", *(f"{module}.py" for _, module, _ in PEER_CLASSES)]
        missing = [f for f in files if not (folder / f).is_file()]
        if missing:
            raise SystemExit(
                f"Peer baselines not found: {folder} lacks {', '.join(missing)}; set "
                "$POSTURE_PEERS_DIR to the folder holding peers_common.py and peer_*.py."
            )
        sys.path.insert(0, str(folder))
        self.pc = importlib.import_module("peers_common")
        self.classes = {
            name: getattr(importlib.import_module(module), cls)
            for name, module, cls in PEER_CLASSES
        }
        self.image_cache: dict = {}  # analyze_path's: one static analyzer per peer

    def report(self, name: str, path: Path, still: bool) -> dict | Crash | None:
        """The peer's whole report; None when it finds no person (its exit code 3)."""
        try:
            return self.pc.analyze_path(
                str(path), self.classes[name], image_cache=self.image_cache if still else None
            )
        except self.pc.UserError as exc:
            return None if exc.code == 3 else Crash.of(path, exc)
        except Exception as exc:  # noqa: BLE001 - counted and listed as a crash
            return Crash.of(path, exc)

    def still_frames(self, path: Path) -> dict[str, dict | Crash | None]:
        out: dict[str, dict | Crash | None] = {}
        for name in self.classes:
            rep = self.report(name, path, still=True)
            out[name] = rep["frames"][0] if isinstance(rep, dict) else rep
        return out

    def close(self) -> None:
        for analyzer in self.image_cache.values():
            analyzer.mp.close()
        self.image_cache.clear()


# ----------------------------------------------------------------------------- table
class Compare:
    """One accuracy.Table per method, all fed the same inputs row by row."""

    def __init__(self) -> None:
        self.tables = {m: Table() for m in METHODS}
        self.seen: dict[tuple[str, str, str], int] = {}
        self.notes: list[str] = []
        self.block_crashes: list[str] = []

    def add(
        self,
        metric: str,
        group: str,
        split: str,
        errors: dict[str, float | Crash | None],
        with_all: bool = False,
    ) -> None:
        """One input's error for every method on row (metric, group, split); ``with_all``
        also on the same row over all splits."""
        for s in (split, ALL_SPLITS) if with_all else (split,):
            self.seen.setdefault((metric, s, group), len(self.seen))
            for m in METHODS:
                self.tables[m].add(metric, s, group, errors[m])

    def add_one(
        self, method: str, metric: str, group: str, split: str, error: float | Crash | None
    ) -> None:
        """One method's error on a row (for a block that scores the methods apart)."""
        self.seen.setdefault((metric, split, group), len(self.seen))
        self.tables[method].add(metric, split, group, error)

    def _order(self, key: tuple[str, str, str]) -> tuple:
        metric, split, group = key
        m = METRIC_ORDER.index(metric) if metric in METRIC_ORDER else len(METRIC_ORDER)
        g = GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)
        s = 2 if split == ALL_SPLITS else 0 if split.startswith("fit") else 1
        return m, g, s, self.seen[key]

    def print(self) -> None:
        cell_w = 21
        head = f"{'metric':<32}{'group':<19}{'split':<33}{'n':>5}"
        sub = " " * len(head)
        for m in METHODS:
            head += f"{m:>{cell_w}}"
            sub += f"{'MAE':>7}{'bias':>8}{'det':>6}"
        head += f"{'crashed':>10}  best"
        sub += f"{'/'.join(m[0] for m in METHODS):>10}"
        print("\n" + "=" * len(head))
        print(
            "PRODUCT vs PEERS (error = measured - true, deg; 'det' = measured / tried, "
            "crashes apart; best = lowest MAE, '*' = it measured fewer inputs than another)"
        )
        print(head)
        print(sub)
        for key in sorted(self.seen, key=self._order):
            metric, split, group = key
            n = max(self.tables[m].tried.get(key, 0) + self.tables[m].crashed.get(key, 0)
                    for m in METHODS)  # fmt: skip
            line = f"{metric:<32}{group:<19}{split:<33}{n:>5}"
            maes: dict[str, float] = {}
            dets: dict[str, float] = {}
            crashed = []
            for m in METHODS:
                t = self.tables[m]
                e = np.array(t.errors.get(key, []))
                tried = t.tried.get(key, 0)
                crashed.append(str(t.crashed.get(key, 0)))
                dets[m] = len(e) / tried if tried else 0.0
                det = f"{100 * dets[m]:>5.0f}%" if tried else f"{'-':>6}"
                if len(e):
                    maes[m] = float(np.mean(np.abs(e)))
                    line += f"{maes[m]:>7.2f}{float(np.mean(e)):>+8.2f}{det}"
                else:
                    line += f"{'-':>7}{'-':>8}{det}"
            best = min(maes, key=maes.__getitem__) if maes else "-"
            if maes and dets[best] < max(dets.values()):
                best += "*"
            print(f"{line}{'/'.join(crashed):>10}  {best}")
        print("=" * len(head))
        for note in self.notes:
            print(f"  {note}")
        total = {m: len(self.tables[m].crashes) for m in METHODS}
        print(f"crashed inputs: {', '.join(f'{m} {n}' for m, n in total.items())} "
              "(never counted as not detected)")  # fmt: skip
        for m in METHODS:
            for c in self.tables[m].crashes:
                print(f"  {m}: {c.path.name}: {c.error}")
        for b in self.block_crashes:
            print(f"BLOCK CRASHED: {b}")


# ----------------------------------------------------------------------------- blocks
def _records(root: Path, count: int, cmp: Compare) -> list[dict]:
    records = _truth_records(root / "truth.jsonl")[:count]
    if len(records) < count:
        cmp.notes.append(
            f"{root}: {len(records)} of {count} renders cached "
            "(render the rest with benchmarks/accuracy.py --render-only)"
        )
    return records


def stills(cache: Path, cmp: Compare, splits: Splits, lm, peers: Peers, limit: int | None):
    """Head angles of front and oblique general stills (accuracy.head_stills' inputs)."""
    root = cache / "general"
    chosen = []
    for rec in _records(root, GENERAL_COUNT, cmp):
        view = "oblique" if 20 < abs(rec["camera"]["azimuth_deg"]) < 60 else rec["view"]
        if view in ("front", "oblique"):
            chosen.append((rec, view))
    chosen = chosen[:limit]
    for i, (rec, view) in enumerate(chosen):
        path = root / rec["image"]
        split = splits.of(rec["body"]["name"], head=True)
        frames = {"product": _measure_still(path, _options(rec, True), lm)}
        frames.update(peers.still_frames(path))
        for key in HEAD_KEYS:
            errors = {m: _error(frames[m], key, rec[key]) for m in METHODS}
            cmp.add(key, view, split, errors)
            cmp.add(key, "all front+oblique", split, errors, with_all=True)
        _progress("stills", i, len(chosen))
    cmp.notes.append(
        f"stills: {len(chosen)} front/oblique renders of the first {GENERAL_COUNT} general "
        "stills; the product is given the camera's roll, pitch and focal length (as "
        "accuracy.py), the peers take no calibration"
    )


def posture(cache: Path, cmp: Compare, splits: Splits, lm, peers: Peers, limit: int | None):
    """CVA on side stills, head and shoulder tilt on front stills (accuracy.posture_stills)."""
    sets = (
        ("side", SIDE_COUNT, ("cva_deg",)),
        ("front", FRONT_COUNT, ("head_tilt_deg", "shoulder_tilt_deg")),
    )
    counts = []
    for name, count, keys in sets:
        root = cache / name
        records = _records(root, count, cmp)[:limit]
        counts.append(f"{len(records)} {name}")
        for i, rec in enumerate(records):
            path = root / rec["image"]
            split = splits.of(rec["body"]["name"])
            frames = {"product": _measure_still(path, _options(rec, True), lm)}
            frames.update(peers.still_frames(path))
            for key in keys:
                truth = rec[key]
                if key == "cva_deg":  # the camera-side tragus, as the ear landmark is
                    truth = rec["cva_left_deg"] if rec["view"] == "left" else rec["cva_right_deg"]
                errors = {m: _error(frames[m], key, truth) for m in METHODS}
                cmp.add(key, f"{name} stills", split, errors, with_all=True)
            _progress(f"{name} stills", i, len(records))
    cmp.notes.append(
        f"posture: {', '.join(counts)} stills; product roll corrected (camera roll, pitch, "
        "focal given, accuracy.py's 'roll corrected' rows), peers uncorrected"
    )


def rom(cache: Path, cmp: Compare, splits: Splits, peers: Peers, limit: int | None) -> None:
    """ROM peaks of the full / restricted range videos (accuracy.rom_full_range's inputs)."""
    import rom_full_range as rf

    rf.check_variants()
    root = cache / "rom_full"
    videos = []
    for v in rf.VARIANTS:
        video = root / f"{v.name}.mp4"
        if video.exists() and video.with_suffix(".truth.json").exists():
            videos.append((v, video))
    if len(videos) < len(rf.VARIANTS):
        cmp.notes.append(
            f"rom: {len(videos)} of {len(rf.VARIANTS)} videos cached in {root} (render the "
            "rest with benchmarks/accuracy.py --render-only)"
        )
    videos = videos[:limit]
    at_least = 0
    for v, video in videos:
        (result,) = rf.score([(v, video)], replay=False)  # the product: analyze()
        body = json.loads(video.with_suffix(".truth.json").read_text())["body"]["name"]
        split = splits.of(body, head=True)
        reports: dict[str, dict | Crash | None] = {}
        for name in peers.classes:
            t0 = time.perf_counter()
            reports[name] = peers.report(name, video, still=False)
            print(f"  {v.name:<40} {time.perf_counter() - t0:5.0f} s  peer {name}", flush=True)
        for key in rf.MOVE_ORDER:
            want = result.truth[key]
            if want is None:  # not performed in this video
                continue
            errors: dict[str, float | Crash | None] = {}
            if result.rom is None:
                errors["product"] = Crash(video, (result.crash or "crashed")[:200])
            else:
                got = result.rom[key]
                errors["product"] = None if got is None else got - want
            for name, rep in reports.items():
                if isinstance(rep, Crash):
                    errors[name] = rep
                else:
                    got = rep["summary"]["rom"][key] if rep else None
                    errors[name] = None if got is None else got - want
            bounded = key in result.at_least
            at_least += bounded
            metric = f"ROM {v.range_kind}-range peak" + (AT_LEAST if bounded else "")
            cmp.add(metric, rf.SHORT[key], split, errors)
            cmp.add(metric, "all directions", split, errors, with_all=True)
    cmp.notes.append(
        f"rom: {len(videos)} videos, analyze() and the peers without calibration; "
        f"{at_least} directions the product reported as 'at least' are in the "
        f"'{AT_LEAST.strip()}' rows (every method's error on those directions)"
    )


@contextmanager
def _only_wide_rows(images: list[str]):
    """accuracy.aflw_wide_product on the given aflw2000_wide photos only (--limit)."""
    original = accuracy._rows
    wide = accuracy.SHARED / "aflw2000_wide" / "labels.csv"
    keep = set(images)

    def rows(path: Path) -> list[dict[str, str]]:
        out = original(path)
        return [r for r in out if r["image"] in keep] if Path(path) == wide else out

    accuracy._rows = rows
    try:
        yield
    finally:
        accuracy._rows = original


def aflw(cmp: Compare, lm, peers: Peers, limit: int | None) -> None:
    """Real faces turned far: yaw error by |yaw| bin, rotation sign (= -AFLW yaw)."""
    d, tuning = accuracy.SHARED / "aflw2000_wide", accuracy.SHARED / "aflw2000_subset"
    if not d.is_dir():
        cmp.notes.append(f"aflw: skipped, {d} not found")
        return
    with open(d / "labels.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("outlier_abs_gt_99", "0") == "0"]
    tuned = set()
    if tuning.is_dir():
        with open(tuning / "labels.csv", encoding="utf-8") as fh:
            tuned = {r["image"] for r in csv.DictReader(fh)}
    kept = [r for r in rows if r["image"] not in tuned][:limit]

    product = Table()  # the product, as accuracy.py scores it, on the same photos
    with _only_wide_rows([r["image"] for r in kept]):
        accuracy.aflw_wide_product(product, lm)
    group_of = {r["image"]: _yaw_bin(-float(r["yaw_deg"])) for r in kept}
    for i, row in enumerate(kept):
        want = -float(row["yaw_deg"])  # AFLW yaw = -rotation
        frames = peers.still_frames(d / row["image"])
        for name in peers.classes:
            err = _error(frames[name], "head_rotation_deg", want)
            cmp.add_one(name, AFLW_METRIC, group_of[row["image"]], REAL_HELD_OUT, err)
        _progress("aflw", i, len(kept))
    # The product's rows as accuracy.aflw_wide_product filled them, AFLW sign -> rotation.
    for group in dict.fromkeys(group_of.values()):
        key = (AFLW_PRODUCT_KEY, REAL_HELD_OUT, group)
        errs = product.errors.get(key, [])
        for e in errs:
            cmp.add_one("product", AFLW_METRIC, group, REAL_HELD_OUT, -e)
        for _ in range(product.tried.get(key, 0) - len(errs)):
            cmp.add_one("product", AFLW_METRIC, group, REAL_HELD_OUT, None)
        for c in product.crashes:
            if group_of.get(c.path.name) == group:
                cmp.add_one("product", AFLW_METRIC, group, REAL_HELD_OUT, c)
    cmp.notes.append(
        f"aflw: {len(kept)} aflw2000_wide photos (not in aflw2000_subset); product = "
        "accuracy.aflw_wide_product's yaw against its line of sight in AFLW's Euler order, "
        "peers = their camera-relative head_rotation_deg; sign: rotation (= -AFLW yaw)"
    )


def _progress(name: str, i: int, total: int) -> None:
    if (i + 1) % 25 == 0 or i + 1 == total:
        print(f"  {name}: {i + 1}/{total}", flush=True)


# ----------------------------------------------------------------------------- main
def _block(name: str, run: Callable[[], object], cmp: Compare, times: dict) -> None:
    """Run one block, timed; an exception ends the block (listed), not the run."""
    print(f"\n[{time.strftime('%H:%M:%S')}] {name} ...", flush=True)
    t0 = time.perf_counter()
    try:
        run()
    except Exception as exc:  # noqa: BLE001 - listed under the table
        traceback.print_exc()
        cmp.block_crashes.append(f"{name}: {exc!r}"[:300])
    times[name] = time.perf_counter() - t0
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {times[name]:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    t_start = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/posture-bench"))
    parser.add_argument("--only", nargs="+", choices=BLOCKS, default=list(BLOCKS))
    parser.add_argument("--limit", type=int, default=None, help="first N inputs per block")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be 1 or more")

    peers = Peers(PEERS_DIR)
    splits = load_splits()
    cmp = Compare()
    times: dict[str, float] = {}
    try:
        if {"stills", "posture", "aflw"} & set(args.only):
            from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker

            with MediaPipeLandmarker(video_mode=False) as lm:
                if "stills" in args.only:
                    _block("stills", lambda: stills(args.cache, cmp, splits, lm, peers,
                                                    args.limit), cmp, times)  # fmt: skip
                if "posture" in args.only:
                    _block("posture", lambda: posture(args.cache, cmp, splits, lm, peers,
                                                      args.limit), cmp, times)  # fmt: skip
                if "aflw" in args.only:
                    _block("aflw", lambda: aflw(cmp, lm, peers, args.limit), cmp, times)
        if "rom" in args.only:
            _block("rom", lambda: rom(args.cache, cmp, splits, peers, args.limit), cmp, times)
    finally:
        peers.close()
    for line in splits.describe():
        print(line)
    cmp.print()
    print("\ntimes: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
    print(f"total wall time: {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
