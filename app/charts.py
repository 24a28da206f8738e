"""Plotly figures for the dashboard (no Streamlit here: pure report dict -> figure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from posture.clinical import Change, rom_norm
from posture.export.figures import plotted_angle_keys
from posture.export.keyframes import key_moments
from posture.measures import (
    DESCRIPTIONS,
    FRAME_ANGLE_LABELS,
    PATIENT_FRAME_ANGLE_LABELS,
    ROM_BY_KEY,
    ROM_KEYS,
    Audience,
    rom_labels,
)

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 340}


def rom_vs_norms(
    report: Mapping[str, Any],
    age_years: int | None = None,
    sex: str | None = None,
    audience: Audience = "clinician",
) -> go.Figure | None:
    """Measured ROM per direction (bars) against the reference and the 'reduced' threshold."""
    rom = (report.get("summary") or {}).get("rom") or {}
    bounded = (report.get("summary") or {}).get("rom_at_least") or []
    if not any(rom.get(k) is not None for k in ROM_KEYS):
        return None
    labels = [rom_labels(audience)[k] for k in ROM_KEYS]
    norms = [rom_norm(k, age_years, sex) for k in ROM_KEYS]
    fig = go.Figure()
    fig.add_bar(
        y=labels, x=[n.reference_deg for n in norms], orientation="h", name="reference",
        marker_color="#dfe4ea", hovertemplate="reference %{x:.0f}°<extra></extra>",
    )  # fmt: skip
    fig.add_bar(
        y=labels,
        x=[rom.get(k) for k in ROM_KEYS],
        orientation="h",
        name="measured",
        marker_color="#2f6db5",
        width=0.4,
        text=[
            "not measured"
            if rom.get(k) is None
            else f"at least {rom[k]:.0f}° (past the camera)"
            if k in bounded
            else f"{rom[k]:.0f}°"
            for k in ROM_KEYS
        ],
        textposition="outside",
        hovertemplate="measured %{x:.1f}°<extra></extra>",
    )
    fig.add_scatter(
        y=labels, x=[n.reduced_below_deg for n in norms], mode="markers", name="reduced below",
        marker={"symbol": "line-ns-open", "size": 18, "color": "#d08a00", "line": {"width": 3}},
    )  # fmt: skip
    fig.update_layout(
        barmode="overlay", title="Range of motion against norms (degrees from neutral)",
        yaxis={"autorange": "reversed"}, legend={"orientation": "h", "y": -0.15}, **_LAYOUT,
    )  # fmt: skip
    return fig


def angles_over_time(
    report: Mapping[str, Any], audience: Audience = "clinician"
) -> go.Figure | None:
    """Head angles (and CVA) against time, each movement's peak marked."""
    names = PATIENT_FRAME_ANGLE_LABELS if audience == "patient" else FRAME_ANGLE_LABELS
    keys = plotted_angle_keys(report)
    if not keys:
        return None
    frames = report["frames"]
    t = [f["t"] for f in frames]
    fig = go.Figure()
    for k in keys:
        fig.add_scatter(x=t, y=[f.get(k) for f in frames], mode="lines", name=names[k])
    by_t = {f["t"]: f for f in frames}
    peaks = [m for m in key_moments(report) if m.key in ROM_BY_KEY]
    if peaks:
        fig.add_scatter(
            x=[m.t_s for m in peaks],
            y=[by_t.get(m.t_s, {}).get(ROM_BY_KEY[m.key].angle) for m in peaks],
            mode="markers+text", name="peaks", text=[rom_labels(audience)[m.key] for m in peaks],
            textposition="top center", marker={"size": 10, "symbol": "diamond", "color": "black"},
        )  # fmt: skip
    neutral = report.get("neutral") or {}
    if neutral.get("t_start_s") is not None:
        fig.add_vrect(x0=neutral["t_start_s"], x1=neutral["t_end_s"], fillcolor="green",
                      opacity=0.12, line_width=0, annotation_text="neutral")  # fmt: skip
    fig.update_layout(
        title="Angles over time", xaxis_title="time (s)", yaxis_title="degrees",
        legend={"orientation": "h", "y": -0.25}, **_LAYOUT,
    )  # fmt: skip
    return fig


def history_chart(rows: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> go.Figure:
    """One line per measure across sessions (missing values leave gaps, never zeros)."""
    fig = go.Figure()
    x = [r["created_at"] for r in rows]
    for k in metrics:
        fig.add_scatter(x=x, y=[r.get(k) for r in rows], mode="lines+markers",
                        name=DESCRIPTIONS.get(k, k), connectgaps=False)  # fmt: skip
    fig.update_layout(title="Progress", yaxis_title="degrees", **_LAYOUT)
    return fig


def change_chart(changes: Sequence[Change]) -> go.Figure | None:
    """Change since last visit per measure, with the measurement-error band (+- threshold)."""
    if not changes:
        return None
    labels = [DESCRIPTIONS.get(c.metric, c.metric) for c in changes]
    colours = {"improved": "#2a9d4b", "worse": "#c0392b", "within measurement error": "#888"}
    fig = go.Figure()
    fig.add_bar(
        y=labels, x=[2 * c.threshold_deg for c in changes],
        base=[-c.threshold_deg for c in changes], orientation="h", marker_color="#eceff3",
        name="measurement error band",
        hovertemplate="±%{customdata:.1f}°<extra></extra>",
        customdata=[c.threshold_deg for c in changes],
    )  # fmt: skip
    fig.add_scatter(
        y=labels, x=[c.delta_deg for c in changes], mode="markers+text", name="change",
        marker={"size": 12, "color": [colours[c.status] for c in changes]},
        text=[f"{c.delta_deg:+.1f}° ({c.status})" for c in changes], textposition="middle right",
    )  # fmt: skip
    fig.update_layout(
        title="Change since the last visit (degrees; grey band = within measurement error)",
        yaxis={"autorange": "reversed"}, showlegend=False, **_LAYOUT,
    )  # fmt: skip
    return fig
