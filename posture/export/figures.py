"""Matplotlib figures for the PDF report (PNG bytes; the Agg backend, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from posture.clinical import rom_norm
from posture.measures import (
    FRAME_ANGLE_LABELS,
    PATIENT_FRAME_ANGLE_LABELS,
    ROM_BY_KEY,
    ROM_KEYS,
    Audience,
    rom_labels,
)
from posture.signals.rom import HEAD_KEYS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    return buf.getvalue()


def _figure(width_in: float, height_in: float) -> tuple[Figure, Axes]:
    """A figure without pyplot: no global state, safe in Streamlit's threads."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in))
    return fig, fig.subplots()


def rom_chart_png(
    report: Mapping[str, Any],
    age_years: int | None = None,
    sex: str | None = None,
    audience: Audience = "clinician",
) -> bytes | None:
    """Horizontal bars: measured ROM per direction against its reference and thresholds."""
    rom = (report.get("summary") or {}).get("rom") or {}
    bounded = (report.get("summary") or {}).get("rom_at_least") or []
    if not any(rom.get(k) is not None for k in ROM_KEYS):
        return None
    fig, ax = _figure(7.0, 3.2)
    labels = [rom_labels(audience)[k] for k in ROM_KEYS]
    for i, k in enumerate(ROM_KEYS):
        norm = rom_norm(k, age_years, sex)
        ax.barh(i, norm.reference_deg, color="#e4e8ee", height=0.7)
        ax.plot([norm.reduced_below_deg] * 2, [i - 0.35, i + 0.35], color="#d08a00", lw=1.5)
        ax.plot([norm.markedly_reduced_below_deg] * 2, [i - 0.35, i + 0.35], color="#c03030")
        v = rom.get(k)
        if v is None:
            ax.text(2, i, "not measured", va="center", fontsize=8, color="#666")
        elif k in bounded:  # a lower bound: hatched, open-ended
            ax.barh(i, v, color="#9db8dc", height=0.4, hatch="//", edgecolor="#2f6db5")
            ax.text(v + 1, i, f">= {v:.0f}° (past the camera)", va="center", fontsize=8)
        else:
            ax.barh(i, v, color="#2f6db5", height=0.4)
            ax.text(v + 1, i, f"{v:.0f}°", va="center", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("degrees from neutral (grey: reference; orange/red: reduced/markedly reduced)")
    ax.xaxis.label.set_fontsize(8)  # set_size is its alias (not in the stubs)
    fig.tight_layout()
    return _png(fig)


def plotted_angle_keys(report: Mapping[str, Any]) -> list[str]:
    """Angles worth plotting over time: head angles and CVA that a video measured."""
    frames = report.get("frames") or []
    if (report.get("input") or {}).get("kind") != "video" or len(frames) < 2:
        return []
    return [k for k in (*HEAD_KEYS, "cva_deg") if any(f.get(k) is not None for f in frames)]


def angles_chart_png(report: Mapping[str, Any], audience: Audience = "clinician") -> bytes | None:
    """Head angles (and CVA) over time, with each ROM peak marked."""
    names = PATIENT_FRAME_ANGLE_LABELS if audience == "patient" else FRAME_ANGLE_LABELS
    from posture.export.keyframes import key_moments

    keys = plotted_angle_keys(report)
    if not keys:
        return None
    frames = report["frames"]
    fig, ax = _figure(7.0, 3.0)
    t = [f["t"] for f in frames]
    for k in keys:
        ax.plot(t, [f.get(k) if f.get(k) is not None else float("nan") for f in frames],
                lw=1.2, label=names[k])  # fmt: skip
    by_t = {f["t"]: f for f in frames}
    for m in key_moments(report):
        if m.key in ROM_BY_KEY:
            angle = ROM_BY_KEY[m.key].angle
            y = by_t.get(m.t_s, {}).get(angle)
            if y is not None:
                ax.plot([m.t_s], [y], "kv", ms=5)
    ax.set_xlabel("time (s)", fontsize=8)
    ax.set_ylabel("degrees", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)
