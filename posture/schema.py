"""Check a report dict against the measurement contract (v1); used by tests and benchmarks."""

from __future__ import annotations

from typing import Any

from posture import SCHEMA_VERSION
from posture.geometry.measure import ANGLE_KEYS
from posture.signals.rom import ROM_KEYS

VIEWS = {"front", "left", "right", "mixed", "unknown"}
FRAME_VIEWS = {"front", "left", "right", "unknown"}


def _is_angle(v: Any) -> bool:
    return v is None or (
        isinstance(v, int | float) and not isinstance(v, bool) and -180 <= v <= 180
    )


def validate_report(d: dict[str, Any]) -> list[str]:
    """Problems found (empty list = the report keeps to the contract)."""
    errs: list[str] = []
    if d.get("schema_version") != SCHEMA_VERSION:
        errs.append("schema_version")
    inp = d.get("input", {})
    for k in ("path", "kind", "width", "height", "fps", "frame_count", "duration_s"):
        if k not in inp:
            errs.append(f"input.{k} missing")
    if inp.get("kind") not in ("image", "video"):
        errs.append("input.kind")
    if d.get("view") not in VIEWS:
        errs.append("view")
    frames = d.get("frames")
    if not isinstance(frames, list) or not frames:
        errs.append("frames empty")
        frames = []
    if inp.get("kind") == "image" and len(frames) != 1:
        errs.append("an image has one frame")
    last_t = float("-inf")
    for i, f in enumerate(frames):
        if not isinstance(f.get("t"), int | float) or f["t"] <= last_t:
            errs.append(f"frames[{i}].t not increasing")
            break
        last_t = f["t"]
        if not isinstance(f.get("valid"), bool) or f.get("view") not in FRAME_VIEWS:
            errs.append(f"frames[{i}] valid/view")
        if f.get("reference") not in ("trunk", "camera"):
            errs.append(f"frames[{i}].reference")
        for k in ANGLE_KEYS:
            if k not in f or not _is_angle(f[k]):
                errs.append(f"frames[{i}].{k}")
    s = d.get("summary", {})
    for k in ("cva_deg", "head_tilt_deg", "shoulder_tilt_deg"):
        if k not in s or not _is_angle(s[k]):
            errs.append(f"summary.{k}")
    rom = s.get("rom", {})
    for k in ROM_KEYS:
        v = rom.get(k, "missing")
        if not (v is None or (isinstance(v, int | float) and 0 <= v <= 180)):
            errs.append(f"summary.rom.{k}")
    at_least = s.get("rom_at_least", [])
    if not isinstance(at_least, list) or not all(
        k in ROM_KEYS and isinstance(rom.get(k), int | float) for k in at_least
    ):
        errs.append("summary.rom_at_least")
    q = d.get("quality", {})
    vf = q.get("valid_frame_fraction")
    if not isinstance(vf, int | float) or not 0 <= vf <= 1:
        errs.append("quality.valid_frame_fraction")
    if not isinstance(q.get("warnings"), list) or not all(
        isinstance(w, str) for w in q.get("warnings", [])
    ):
        errs.append("quality.warnings")
    if not isinstance(d.get("findings"), list):
        errs.append("findings")
    return errs
