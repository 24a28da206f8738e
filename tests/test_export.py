"""Exports: key moments, key frames from a video, and a PDF that opens with the disclaimer."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from posture.clinical import DISCLAIMER, build_findings
from posture.export import extract_frames, key_moments, pdf_bytes, write_pdf
from posture.export.figures import angles_chart_png, rom_chart_png


def synthetic_report(kind: str = "video") -> dict:
    """A report (contract v1 shape) of a head turning left to 60 deg and right to 50 deg."""
    t = np.arange(0, 10, 0.1)
    rot = np.where(t < 5, 60 * np.sin(np.pi * t / 5), -50 * np.sin(np.pi * (t - 5) / 5))
    rot[t < 1] = 0.0
    frames = [
        {
            "t": round(float(ti), 2),
            "valid": True,
            "view": "front",
            "reference": "trunk",
            "cva_deg": None,
            "head_rotation_deg": round(float(r), 2),
            "head_flexion_deg": 0.0,
            "head_lateral_flexion_deg": 0.0,
            "head_tilt_deg": 1.0,
            "shoulder_tilt_deg": -0.5,
        }
        for ti, r in zip(t, rot, strict=True)
    ]
    report = {
        "schema_version": 1,
        "input": {
            "path": "clip.mp4",
            "kind": kind,
            "width": 64,
            "height": 48,
            "fps": 10.0,
            "frame_count": len(frames),
            "duration_s": 10.0,
        },  # fmt: skip
        "view": "front",
        "frames": frames if kind == "video" else frames[:1],
        "summary": {
            "cva_deg": None,
            "head_tilt_deg": 1.0,
            "shoulder_tilt_deg": -0.5,
            "rom": {
                "rotation_left_deg": 60.0 if kind == "video" else None,
                "rotation_right_deg": 50.0 if kind == "video" else None,
                "flexion_deg": None,
                "extension_deg": None,
                "lateral_flexion_left_deg": None,
                "lateral_flexion_right_deg": None,
            },
        },
        "quality": {"valid_frame_fraction": 1.0, "warnings": ["A test warning."]},
        "neutral": {
            "source": "still period",
            "t_start_s": 0.0,
            "t_end_s": 0.8,
            "head_rotation_deg": 0.0,
            "head_flexion_deg": 0.0,
            "head_lateral_flexion_deg": 0.0,
        },  # fmt: skip
    }
    report["findings"] = build_findings(report)
    return report


def _page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


def test_key_moments_are_neutral_and_each_peak():
    moments = key_moments(synthetic_report())
    assert [m.key for m in moments] == ["neutral", "rotation_left_deg", "rotation_right_deg"]
    assert moments[0].t_s == pytest.approx(0.4)
    assert moments[1].t_s == pytest.approx(2.5, abs=0.11)
    assert moments[2].t_s == pytest.approx(7.5, abs=0.11)


def test_photo_has_one_key_moment():
    moments = key_moments(synthetic_report("image"))
    assert [m.key for m in moments] == ["photo"]


def test_charts_are_png_and_absent_without_data():
    r = synthetic_report()
    assert rom_chart_png(r).startswith(b"\x89PNG")
    assert angles_chart_png(r).startswith(b"\x89PNG")
    assert rom_chart_png(synthetic_report("image")) is None
    assert angles_chart_png(synthetic_report("image")) is None


def test_pdf_opens_and_every_page_carries_the_disclaimer(tmp_path):
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[10:30, 20:40] = (200, 120, 40)
    path = tmp_path / "report.pdf"
    write_pdf(
        synthetic_report(),
        path,
        audience="clinician",
        subject_id="P-007",
        notes="Reports headache after long drives.",
        key_frames=[("Neutral", frame), ("Rotation left (peak)", frame), ("Right", frame)],
    )
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pages = _page_count(data)
    assert pages >= 2  # the key frames start a page of their own
    assert not list(tmp_path.glob(".report.pdf.*"))  # no temporary file left behind


def test_pdf_footer_disclaimer_on_each_page_via_fpdf(monkeypatch):
    """fpdf2 calls footer() once per page: record what it writes there."""
    from posture.export import pdf as pdf_mod

    seen: list[str] = []
    original = pdf_mod._new_pdf

    def spy(footer_text: str):
        doc = original(footer_text)
        cls_footer = type(doc).footer

        def footer(self):
            seen.append(footer_text)
            cls_footer(self)

        doc.footer = footer.__get__(doc)
        return doc

    monkeypatch.setattr(pdf_mod, "_new_pdf", spy)
    frame = np.zeros((480, 640, 3), np.uint8)
    data = pdf_bytes(synthetic_report(), key_frames=[("a", frame)] * 5)
    assert _page_count(data) >= 3
    assert seen == [DISCLAIMER] * _page_count(data)


def test_pdf_of_a_photo_without_rom(tmp_path):
    data = pdf_bytes(synthetic_report("image"))
    assert data.startswith(b"%PDF-") and _page_count(data) == 1


def test_extract_frames_picks_the_nearest_frame(tmp_path):
    from posture.annotate import AnnotatedVideoWriter

    path = tmp_path / "v.mp4"
    with AnnotatedVideoWriter(path, 10.0) as w:
        for i in range(20):
            w.write(np.full((48, 64, 3), i * 10, np.uint8), i / 10)
    got = extract_frames(path, [0.0, 1.04, 5.0])
    assert got[0] is not None and got[1] is not None
    assert math.isclose(float(got[1].mean()), 100, abs_tol=8)
    assert got[2] is not None  # past the end: the last frame is the nearest
    assert float(got[2].mean()) > 170
