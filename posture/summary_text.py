"""A short human-readable summary of a report, shared by the CLI and the dashboard."""

from __future__ import annotations

from typing import Any

from posture.measures import POSTURE_LABELS, ROM_LABELS


def _fmt(v: float | None) -> str:
    return "not measured" if v is None else f"{v:.1f} deg"


def summary_lines(report: dict[str, Any]) -> list[str]:
    """Lines for a terminal: red-flag findings first, then input, view, posture, range of
    motion, quality warnings and the other findings."""
    inp, summary, quality = report["input"], report["summary"], report["quality"]
    findings = report.get("findings") or []
    red_flags = [f for f in findings if str(f.get("id", "")).startswith("red_flag")]
    lines = [f"IMPORTANT: {f['patient_text']}" for f in red_flags]
    lines += [
        f"{inp['path']}: {inp['kind']}, {inp['width']}x{inp['height']}, view: {report['view']}, "
        f"measured in {100 * quality['valid_frame_fraction']:.0f}% of frames",
        "Posture:",
    ]
    lines += [f"  {label}: {_fmt(summary.get(k))}" for k, label in POSTURE_LABELS.items()]
    if inp["kind"] == "video":
        lines.append("Range of motion (from neutral):")
        bounded = summary.get("rom_at_least") or []
        lines += [
            f"  {label}: {'at least ' if k in bounded else ''}{_fmt(summary['rom'].get(k))}"
            for k, label in ROM_LABELS.items()
        ]
    lines += [f"Note: {w}" for w in quality["warnings"]]
    if findings:
        from posture.clinical import findings_summary_lines

        lines += findings_summary_lines([f for f in findings if f not in red_flags])
    return lines
